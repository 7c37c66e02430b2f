"""Start and stop dagster-webserver / dagster-daemon subprocesses, and query the webserver's GraphQL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One Dagster command run in its own process group, its output in `log`; `stop()` ends the group."""

    def __init__(self, args: list[str], env: dict, cwd: Path, log: Path):
        self.args, self.log = args, log
        self._out = open(log, "wb")
        # A new session: the webserver and daemon spawn code servers and run workers, which must end with them.
        self.proc = subprocess.Popen(
            [str(BIN / args[0]), *args[1:]],
            env=env,
            cwd=cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def terminate(self) -> None:
        """Ask the process to shut down (SIGTERM); `stop()` waits for it and ends what is left."""
        if self.alive():
            self._signal(signal.SIGTERM)

    def stop(self, grace: float = 15) -> None:
        if self.alive():
            self._signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        # Children outlive a parent that exits on SIGTERM; the group id is the parent's pid.
        self._signal(signal.SIGKILL)
        self.proc.wait(5)
        self._out.close()

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


def wait_for_server_info(base_url: str, service: Service, timeout: float = 120) -> dict:
    """The webserver's /server_info once it answers; raises with the log tail on timeout or exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.args[0]} exited with {service.proc.returncode}:\n{service.tail()}")
        try:
            with urllib.request.urlopen(f"{base_url}/server_info", timeout=5) as r:
                return json.load(r)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise TimeoutError(f"{base_url}/server_info did not answer in {timeout:.0f} s:\n{service.tail()}")


def graphql(base_url: str, query: str, variables: dict | None = None) -> dict:
    """POST a query to /graphql; the `data` of the answer, raising on GraphQL errors."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(
        f"{base_url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        answer = json.load(r)
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on PythonError { message }
    ... on Run {
      status
      runConfigYaml
      tags { key value }
      eventConnection(limit: 5000) {
        events {
          __typename
          ... on MessageEvent { message stepKey level }
          ... on ExecutionStepFailureEvent { error { message stack } }
          ... on RunFailureEvent { error { message stack } }
          ... on EngineEvent { error { message stack } }
        }
      }
    }
  }
}
"""


def run_details(base_url: str, run_id: str) -> dict:
    """Status, run config (YAML), tags and events of a run, as the UI fetches them."""
    run = graphql(base_url, RUN_QUERY, {"runId": run_id})["runOrError"]
    if run["__typename"] != "Run":
        raise RuntimeError(f"run {run_id}: {run['__typename']} {run.get('message', '')}")
    return run


def error_report(run: dict) -> str:
    """The ERROR-level events of a run and their Python errors, one block each."""
    blocks = []
    for event in run["eventConnection"]["events"]:
        error = event.get("error")
        if event.get("level") == "ERROR" or error:
            head = f"{event['__typename']} [{event.get('stepKey') or '-'}] {event.get('message', '')}"
            blocks.append(
                head + (f"\n{error['message']}\n{''.join(error.get('stack') or [])}" if error else "")
            )
    return "\n\n".join(blocks) or "(no error events)"
