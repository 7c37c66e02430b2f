"""A PostgreSQL-backed Dagster instance with dagster-webserver and dagster-daemon on the repo's workspace.

Used by the UI tests and by the reliability tests that need the daemon (queued runs, run
retries, pools, asset backfills) as in production.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import yaml
from psycopg2 import sql

from geodem_cli.webserver import Service, free_port, wait_for_server_info

REPO = Path(__file__).resolve().parents[1]

# Variables of a developer's shell that would point the webserver at other data, another instance or the network.
_INHERITED_PREFIXES = ("GEODEM_", "DAGSTER_", "OPENAI_")


@dataclass(frozen=True)
class DagsterDatabase:
    """A database for Dagster's storage; `sqlalchemy_url` carries `password`, `libpq_url` is for psycopg2."""

    name: str
    libpq_url: str
    sqlalchemy_url: str
    password: str


@dataclass
class UiStack:
    """The running webserver and daemon, and what they were started with."""

    base_url: str
    port: int
    env: dict
    webserver: Service
    daemon: Service
    database: DagsterDatabase


def _url_for(server_url: str, dbname: str, scheme: str, password: str) -> str:
    parts = urlsplit(server_url)
    user = quote(parts.username or "postgres", safe="")
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((scheme, netloc, f"/{dbname}", parts.query, ""))


@contextmanager
def dagster_database(pg_server_url: str, prefix: str = "dagster_ui") -> Iterator[DagsterDatabase]:
    """A fresh `<prefix>_<hex>` database for instance storage, dropped WITH (FORCE) afterwards.

    Under trust authentication libpq ignores the password, so a made-up one still connects
    and gives the leak checks a string that must never reach a page.
    """
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    password = urlsplit(pg_server_url).password or f"ui-secret-{uuid.uuid4().hex[:16]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield DagsterDatabase(
            name=name,
            password=password,
            libpq_url=_url_for(pg_server_url, name, "postgresql", password),
            sqlalchemy_url=_url_for(pg_server_url, name, "postgresql+psycopg2", password),
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _merged(base: dict, overrides: dict) -> dict:
    """base with overrides applied key by key, nested mappings merged rather than replaced."""
    out = dict(base)
    for key, value in overrides.items():
        out[key] = _merged(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


def _dagster_home(root: Path, instance_overrides: dict | None = None) -> Path:
    """root/dagster_home holding the repo's production dagster.yaml, checked to read storage from DAGSTER_PG_URL.

    ``instance_overrides`` (e.g. a smaller run queue) are merged into that configuration; the rest stays as in production.
    """
    home = root / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    url_source = (config.get("storage") or {}).get("postgres", {}).get("postgres_url")
    if url_source != {"env": "DAGSTER_PG_URL"}:
        raise AssertionError(
            f"dagster.yaml: expected storage.postgres.postgres_url to be {{env: DAGSTER_PG_URL}}, found {url_source!r}"
        )
    if instance_overrides:
        (home / "dagster.yaml").write_text(
            yaml.safe_dump(_merged(config, instance_overrides), sort_keys=False)
        )
    return home


@contextmanager
def running_stack(
    database: DagsterDatabase,
    root: Path,
    settings: dict[str, str],
    artifacts: Path,
    instance_overrides: dict | None = None,
) -> Iterator[UiStack]:
    """dagster-webserver, then dagster-daemon, on the repo's workspace and dagster.yaml, with `settings` as GEODEM_* env.

    The instance lives in root/dagster_home (dagster.yaml with ``instance_overrides`` merged in); the services'
    logs are copied to `artifacts` when they stop.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
    env.update(
        DAGSTER_HOME=str(_dagster_home(root, instance_overrides)),
        DAGSTER_PG_URL=database.sqlalchemy_url,
        **settings,
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workspace = str(REPO / "workspace.yaml")
    started: list[Service] = []
    try:
        webserver = Service(
            ["dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-w", workspace],
            env,
            REPO,
            root / "webserver.log",
        )
        started.append(webserver)
        wait_for_server_info(base_url, webserver, timeout=120)
        # Only now: the webserver has created the storage tables, so the daemon does not race it.
        daemon = Service(["dagster-daemon", "run", "-w", workspace], env, REPO, root / "daemon.log")
        started.append(daemon)
        yield UiStack(
            base_url=base_url, port=port, env=env, webserver=webserver, daemon=daemon, database=database
        )
    finally:
        for service in started:
            service.terminate()
        for service in started:
            service.stop()
            # Kept for reading after the run: the run workers log their steps through the daemon.
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(service.log, artifacts / service.log.name)


def geodem(stack: UiStack, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """The `geodem` command with the stack's environment, pointed at its webserver."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "geodem"), *args, "--url", stack.base_url],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launch_backfill(
    stack: UiStack, log: Path, timeout_s: float, launch_timeout_s: float = 120
) -> tuple[subprocess.Popen, str]:
    """`geodem backfill homeloc --wait --timeout timeout_s` in the background against the stack,
    as an operator runs it, its output going to `log`; returns (process, backfill id) once the
    command has printed the id. Raises RuntimeError (with the log) if it exits or has not
    launched within `launch_timeout_s` seconds."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "geodem"),
                "backfill",
                "homeloc",
                "--wait",
                "--timeout",
                str(timeout_s),
                "--url",
                stack.base_url,
            ],
            env=stack.env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + launch_timeout_s
    while time.monotonic() < deadline:
        found = re.search(r"launched backfill (\w+)", log.read_text())
        if found:
            return proc, found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    if proc.poll() is None:
        proc.kill()
    raise RuntimeError(f"geodem backfill did not launch (exit {proc.poll()}):\n{log.read_text()}")
