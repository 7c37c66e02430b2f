"""SIGKILL a user-range run at random moments, then re-run it: outputs equal an undisturbed run's, no user lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from partitions.user_ranges import user_ranges
from resources.warehouse import Warehouse
from sample_data.userdays import write_sample_userdays

N_RANGES = 4  # few ranges, so one range holds enough users to take seconds
RANGE = user_ranges(N_RANGES)[1]
N_USERS = 12_000
KILL_IN = ["user_locations", "user_home_country", "user_classification"]
FILES = [
    "user_locations",
    "user_country_userdays",
    "user_total_userdays",
    "user_home_country",
    "user_classification",
]
TABLES = ["user_home_country", "user_classification", "userday_quarantine", "user_locations_stats"]
ROOT = Path(__file__).resolve().parents[2]


class Runner:
    """The range_runner process: forks one child per run; the test may SIGKILL a child by its pid."""

    def __init__(self, log: Path):
        env = {**os.environ, "GEODEM_USER_RANGES": str(N_RANGES), "PYTHONPATH": str(ROOT)}
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.range_runner"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            start_new_session=True,
        )  # its own process group: runner and children
        assert self._read() == {"ready": True}

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"range_runner died; see {self._log.name}"
        return json.loads(line)

    def start(self, work: Path, userdays: Path) -> int:
        """Fork a run of RANGE; returns its pid once it is about to execute."""
        request = {
            "work": str(work),
            "userdays": str(userdays),
            "home": str(work / "dagster_home"),
            "key": RANGE.key,
        }
        (work / "dagster_home").mkdir(parents=True, exist_ok=True)
        (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        self.proc.stdin.write(json.dumps(request) + "\n")
        first, second = self._read(), self._read()
        assert {"pid", "running"} == set(first) | set(second), (first, second)
        self.running_since = time.time()
        return first.get("pid", second.get("pid"))

    def kill(self, pid: int) -> None:
        """SIGKILL the run (done by range_runner, which has not reaped it yet; a no-op if it ended)."""
        self.proc.stdin.write(json.dumps({"kill": pid}) + "\n")

    def wait(self, pid: int) -> int:
        done = self._read()
        assert done["pid"] == pid
        return done["exit"]

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()


def outputs(work: Path) -> dict[str, pd.DataFrame]:
    """The range's Parquet files and warehouse rows that exist now (absent ones left out)."""
    got = {}
    for name in FILES:
        path = work / "out" / "homeloc" / name / f"{RANGE.key}.parquet"
        if path.exists():
            got[f"file {name}"] = pd.read_parquet(path)
    wh = Warehouse(path=str(work / "warehouse.duckdb"))
    if Path(wh.path).exists():
        for table in TABLES:
            if wh.has_table(table):
                rows = wh.read(table, "user_range", RANGE.key)
                if len(rows):
                    got[f"table {table}"] = rows.sort_values(list(rows.columns[:2]), ignore_index=True)
    return got


def step_events(home: Path) -> list[tuple[str, str, float]]:
    """(event type, step, wall-clock time) of the step starts and ends of the instance's latest run."""
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        return [
            (e.dagster_event.event_type_value, e.dagster_event.step_key, e.timestamp)
            for e in instance.all_logs(runs[0].run_id)
            if e.dagster_event is not None
            and e.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS")
        ]
    finally:
        instance.dispose()


def step_windows(home: Path, since: float) -> dict[str, tuple[float, float]]:
    """Seconds after ``since`` at which each step of the latest run started and ended."""
    starts = {step: t - since for kind, step, t in step_events(home) if kind == "STEP_START"}
    return {step: (starts[step], t - since) for kind, step, t in step_events(home) if kind == "STEP_SUCCESS"}


def step_at_kill(home: Path) -> str:
    """The step the killed run had started but not finished (or where it stood)."""
    events = step_events(home)
    done = {step for kind, step, _ in events if kind == "STEP_SUCCESS"}
    started = [step for kind, step, _ in events if kind == "STEP_START"]
    running = [s for s in started if s not in done]
    return running[-1] if running else f"between steps (after {started[-1] if started else 'none'})"


@pytest.fixture(scope="module")
def userdays(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("userdays") / "userdays.csv"
    write_sample_userdays(path, N_USERS, seed=9, n_bad_rows=40)
    return path


def test_sigkill_mid_partition_then_rerun_equals_an_undisturbed_run(tmp_path, userdays, cases):
    truth = pd.read_csv(str(userdays).replace(".csv", "_truth.csv"), dtype=str, keep_default_na=False)
    range_users = set(truth["user_guid"][truth["user_guid"].map(RANGE.contains)])
    runner = Runner(tmp_path / "range_runner.log")
    try:
        pid = runner.start(tmp_path / "baseline", userdays)
        assert runner.wait(pid) == 0, "undisturbed run failed"
        windows = step_windows(tmp_path / "baseline" / "dagster_home", runner.running_since)
        baseline = outputs(tmp_path / "baseline")
        assert set(baseline) == {f"file {f}" for f in FILES} | {f"table {t}" for t in TABLES}
        home = baseline["table user_home_country"]
        assert home["user_guid"].is_unique and set(home["user_guid"]) == range_users

        rng = np.random.default_rng(31)
        work = tmp_path / "work"
        # A random moment inside each step that writes outputs, as timed in the undisturbed run.
        for target in KILL_IN:
            delay = float(rng.uniform(*windows[target]))
            for _ in range(4):  # a run that beat the kill is tried again with a shorter delay
                pid = runner.start(work, userdays)
                time.sleep(delay)
                runner.kill(pid)
                code = runner.wait(pid)
                if code == -signal.SIGKILL:
                    break
                assert code == 0
                delay /= 2
            assert code == -signal.SIGKILL, "every run finished before it could be killed"
            cases[f"SIGKILL during {step_at_kill(work / 'dagster_home')}"] += 1

            # What the killed run left: each file and each table's rows whole or absent, never partial.
            for name, frame in outputs(work).items():
                pd.testing.assert_frame_equal(
                    frame, baseline[name], obj=f"{name} after SIGKILL at {delay:.2f} s"
                )

            pid = runner.start(work, userdays)
            assert runner.wait(pid) == 0, "re-run after SIGKILL failed"
            again = outputs(work)
            assert set(again) == set(baseline)
            for name, frame in again.items():
                pd.testing.assert_frame_equal(
                    frame, baseline[name], obj=f"{name} re-run after SIGKILL at {delay:.2f} s"
                )
            home = again["table user_home_country"]
            assert home["user_guid"].is_unique and set(home["user_guid"]) == range_users
    finally:
        runner.close()
