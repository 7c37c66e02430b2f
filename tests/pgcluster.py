"""A throwaway PostgreSQL cluster started from the local server binaries, for tests.

Used when no server URL is given in the environment. PostgreSQL refuses to run as root,
so when the tests run as root the cluster is owned by and started as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path:
    """Directory holding initdb/pg_ctl: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries found; set PG_BINDIR or GEODEM_TEST_DATABASE_URL")
    return Path(candidates[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayCluster:
    """initdb + pg_ctl start on a free loopback port; `stop()`/`start()` may be called again."""

    def __init__(self, port: int | None = None):
        self.bindir = find_bindir()
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="geodem-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "server.log"
        self._as_user = None
        if os.geteuid() == 0:
            self._as_user = "postgres"
            pw = pwd.getpwnam(self._as_user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self._as_user:
            cmd = ["runuser", "-u", self._as_user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-o", opts, "-w", "start")
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"throwaway PostgreSQL did not start; see {self.logfile}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
