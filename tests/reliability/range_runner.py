"""A process that imports the platform once, then runs homeloc_range_job in a fresh forked child per request.

Protocol (one JSON object a line): it prints {"ready": true}; each request
{"work": dir, "userdays": csv, "home": DAGSTER_HOME, "key": partition} on stdin is answered with
{"pid": child} when the child is forked, {"running": child} (in either order) just before it
starts the run, and {"pid": child, "exit": code} when it ends (0 success, 3 failed run,
negative: killed by that signal). {"kill": child} sent while it runs SIGKILLs it. Forking
after the imports spares each run the seconds of importing Dagster, so a test can kill runs at
chosen moments cheaply.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import traceback
from pathlib import Path


def _child(request: dict, protocol: int) -> int:
    import dagster as dg

    from tests.pipelines.harness import make_defs, make_resources, run

    resources = make_resources(Path(request["work"]), userdays=Path(request["userdays"]))
    instance = dg.DagsterInstance.from_config(request["home"])
    defs = make_defs(resources)
    os.write(protocol, (json.dumps({"running": os.getpid()}) + "\n").encode())
    result = run(defs, "homeloc_range_job", instance, request["key"])
    return 0 if result.success else 3


class _Lines:
    """Lines of stdin read straight from fd 0, so select() sees whatever is not yet consumed."""

    def __init__(self) -> None:
        self.buf = b""

    def ready(self, timeout: float) -> bool:
        return b"\n" in self.buf or bool(select.select([0], [], [], timeout)[0])

    def read(self) -> dict | None:
        while b"\n" not in self.buf:
            chunk = os.read(0, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def main() -> None:
    import dagster  # noqa: F401 - imported once, before any fork

    import tests.pipelines.harness  # noqa: F401

    def say(message: dict) -> None:
        print(json.dumps(message), flush=True)

    say({"ready": True})
    lines = _Lines()
    while (request := lines.read()) is not None:
        if "kill" in request:
            continue  # for a child that ended before the request arrived
        pid = os.fork()
        if pid == 0:
            code = 4
            try:
                protocol_fd = os.dup(1)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # only the messages go to the pipe
                code = _child(request, protocol_fd)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        say({"pid": pid})
        # Kill requests are carried out here, where the child is known not to be reaped yet,
        # so a pid is never signalled after the system could have reused it.
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if lines.ready(0.01) and (lines.read() or {}).get("kill") == pid:
                os.kill(pid, signal.SIGKILL)
        say({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
