"""Load test: a backfill of every user range of a generated userday file through dagster-webserver and dagster-daemon.

    python -m benchmarks.load_backfill --users 1000000

Generates a userday file with a known set of bad lines mixed in, creates a throwaway HLL database
(``CREATE EXTENSION hll``) and a Dagster storage database on a PostgreSQL server, starts the
webserver and daemon on the production dagster.yaml with the run queue at 2 concurrent runs and
the ``hll_db`` pool at 2, launches ``geodem backfill homeloc --wait`` (every range plus the
summary) and waits for it. Then it reports the wall time, each run's peak memory, the most runs
seen at once, and reconciles the outputs with the input: every data line is an output row or a
quarantined line (exactly the injected bad lines, each with its kind), and the combined result
holds exactly the input's users. Exits non-zero when anything does not hold, and writes the
``## Load: backfill`` section of benchmarks/RESULTS.md.

Peak memory of a run: the homeloc jobs run in process (``in_process_executor``), so a run is one
process, the run worker the code server spawns. Dagster records that process's pid in the run's
event log ("Started process for run (pid: N)"); a sampler reads the kernel's high-water mark of
resident memory (``VmHWM`` in /proc/<pid>/status) of every spawned process of the daemon's
session every 0.1 s while it lives, and the run's peak is the last value read. VmHWM never
decreases, so a peak between two samples is not missed; only memory taken in the last 0.1 s
before the process exits would be.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.report import RESULTS, machine_lines, write_section
from geodem_cli.stack import dagster_database, launch_backfill, running_stack
from partitions.user_ranges import partition_keys

SECTION = "## Load: backfill"
RUN_QUEUE_LIMIT = 2
HLL_POOL = "hll_db"
HLL_POOL_LIMIT = 2
INSTANCE_OVERRIDES = {
    "concurrency": {
        "runs": {"max_concurrent_runs": RUN_QUEUE_LIMIT},
        "pools": {"default_limit": HLL_POOL_LIMIT},
    }
}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "load_backfill"
SAMPLE_INTERVAL_S = 0.1
OBSERVE_INTERVAL_S = 1.0
# Hostile lines (sample_data/hostile_userday_lines.py) mixed in besides the generator's own bad rows:
# unparsable coordinates, broken HLLs, missing or extra columns, keyless lines.
HOSTILE_CASES = (
    ("lat", "abc"),
    ("lon", "1.2.3"),
    ("lat", "nan"),
    ("hll", "\\xzz"),
    ("hll", "\\x1"),
    ("fields", "2"),
    ("fields", "5"),
    ("trailing_comma", ""),
    ("blank", ""),
    ("header", ""),
    ("empty_guid", "1"),
    ("open_quote", ""),
    ("stray_quote", ""),
)


# ---- the input file -------------------------------------------------------------------------


@dataclass
class InputFile:
    """A generated userday file and what is known about it: which lines are bad, and of which kind."""

    path: Path
    n_users: int
    n_data_lines: int
    n_bytes: int
    bad_lines: dict[int, str]  # 1-based line number -> the quarantine kind the reader must give it
    generate_s: float


def write_input(path: Path, n_users: int, seed: int, n_bad_rows: int, hostile_per_case: int) -> InputFile:
    """The sample userday file with ``n_bad_rows`` bad rows from the generator and ``hostile_per_case``
    lines of each of HOSTILE_CASES inserted after randomly chosen lines (the file stays sorted)."""
    from sample_data.userdays import write_sample_userdays

    t0 = time.perf_counter()
    summary = write_sample_userdays(path, n_users, seed=seed, n_bad_rows=n_bad_rows)
    bad = dict(summary.bad_lines)
    if hostile_per_case:
        bad = _insert_hostile(path, bad, hostile_per_case, seed)
    return InputFile(
        path=path,
        n_users=n_users,
        n_data_lines=count_lines(path) - 1,
        n_bytes=path.stat().st_size,
        bad_lines=bad,
        generate_s=time.perf_counter() - t0,
    )


def _insert_hostile(path: Path, bad: dict[int, str], per_case: int, seed: int) -> dict[int, str]:
    """Rewrite ``path`` with hostile lines after chosen data lines, each starting with that line's user_guid
    (or with no key at all); the bad lines' numbers as they are in the new file."""
    import numpy as np

    from sample_data.hostile_userday_lines import GOOD_HLL
    from sample_data.hostile_userday_lines import bad as hostile_line

    cases = [case for case in HOSTILE_CASES for _ in range(per_case)]
    n_lines = count_lines(path)
    rng = np.random.default_rng([seed, 99])
    after = dict(
        zip(
            sorted(rng.choice(np.arange(2, n_lines + 1), len(cases), replace=False).tolist()),
            rng.permutation(len(cases)).tolist(),
        )
    )
    moved: dict[int, str] = {}
    tmp = path.with_name(f".{path.name}.tmp")
    with open(path, "rb", buffering=1 << 20) as src, open(tmp, "wb", buffering=1 << 20) as dst:
        out_no = 0
        for no, line in enumerate(src, 1):
            dst.write(line)
            out_no += 1
            if no in bad:
                moved[out_no] = bad[no]
            if no in after:
                case, value = cases[after[no]]
                made = hostile_line(line.split(b",", 1)[0].decode(), case, value, GOOD_HLL[2])
                if made.expect == "any":
                    raise ValueError(f"hostile case {case!r} has no definite quarantine kind")
                dst.write(made.data + b"\n")
                out_no += 1
                moved[out_no] = made.expect
    os.replace(tmp, path)
    return moved


def count_lines(path: Path) -> int:
    """Physical lines of ``path`` (LF-terminated, plus an unterminated last one)."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def input_users(path: Path, bad_lines: dict[int, str]) -> list[str]:
    """Distinct user_guids of the file's good lines, read from the file itself (sorted, so a new guid starts a user)."""
    users: list[str] = []
    prev = None
    with open(path, "rb", buffering=1 << 20) as f:
        next(f)
        for no, line in enumerate(f, 2):
            if no in bad_lines:
                continue
            guid = line.split(b",", 1)[0]
            if guid != prev:
                users.append(guid.decode())
                prev = guid
    return users


# ---- databases ------------------------------------------------------------------------------


@contextmanager
def hll_database(admin_url: str, prefix: str = "load_hll"):
    """A fresh database with the hll extension on the server of ``admin_url``; its URL; dropped WITH (FORCE) afterwards."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION hll")
        conn.close()
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ---- measuring the runs ---------------------------------------------------------------------


@dataclass
class ProcessPeak:
    """What the sampler saw of one process: its high-water mark and largest resident size (KiB)."""

    pid: int
    start_ticks: int
    first_seen: float
    last_seen: float
    hwm_kib: int = 0
    max_rss_kib: int = 0
    samples: int = 0


def _stat(pid: int) -> tuple[int, int] | None:
    """(session id, start time in clock ticks) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # Fields after the command name start at "state" (field 3): session is field 6, starttime field 22.
    return int(fields[3]), int(fields[19])


def _memory_kib(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) of a live process in KiB; None when it is gone or a zombie (no memory left to read)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", text, re.M))
    if len(found) < 2:
        return None
    return int(found["VmHWM"]), int(found["VmRSS"])


class _Poller:
    """Calls self.poll() every `interval` seconds in a background thread, inside a `with` block."""

    def __init__(self, interval: float, name: str):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def poll(self) -> None:
        raise NotImplementedError


class RunWorkerSampler(_Poller):
    """Samples, every ``interval`` s, the memory of each process the daemon's session starts through
    multiprocessing's spawn (the run workers), keyed by (pid, start time) so a reused pid is another process."""

    def __init__(
        self,
        session_id: int,
        interval: float = SAMPLE_INTERVAL_S,
        discover_every: int = 5,
        crowd: int = RUN_QUEUE_LIMIT,
    ):
        super().__init__(interval, "run-worker-sampler")
        self.session_id, self.discover_every, self.crowd = session_id, discover_every, crowd
        self._tick = 0
        self.peaks: dict[tuple[int, int], ProcessPeak] = {}
        self.max_alive = 0
        # Moments when more than `crowd` run workers were alive: (time, their keys), one entry per distinct set.
        self.crowded: list[tuple[float, tuple[tuple[int, int], ...]]] = []
        self._live: set[tuple[int, int]] = set()

    def poll(self) -> None:
        if self._tick % self.discover_every == 0:
            self._discover()
        self._sample()
        self._tick += 1

    def _discover(self) -> None:
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            stat = _stat(pid)
            if stat is None or stat[0] != self.session_id or (pid, stat[1]) in self.peaks:
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                now = time.time()
                self.peaks[(pid, stat[1])] = ProcessPeak(pid, stat[1], now, now)
                self._live.add((pid, stat[1]))

    def _sample(self) -> None:
        now = time.time()
        for key in list(self._live):
            stat, memory = _stat(key[0]), _memory_kib(key[0])
            if stat is None or stat[1] != key[1] or memory is None:
                self._live.discard(key)
                continue
            peak = self.peaks[key]
            peak.hwm_kib = max(peak.hwm_kib, memory[0])
            peak.max_rss_kib = max(peak.max_rss_kib, memory[1])
            peak.last_seen, peak.samples = now, peak.samples + 1
        self.max_alive = max(self.max_alive, len(self._live))
        if len(self._live) > self.crowd and (not self.crowded or set(self.crowded[-1][1]) != self._live):
            self.crowded.append((now, tuple(sorted(self._live))))


OBSERVE = """
query Observe($pool: String!) {
  runsOrError(filter: {statuses: [STARTING, STARTED, CANCELING]}) { ... on Runs { results { runId } } }
  instance { concurrencyLimit(concurrencyKey: $pool) { claimedSlots { runId stepKey } } }
}"""


class QueueObserver(_Poller):
    """Polls the webserver: how many runs are in progress, and how many hll_db slots are claimed, at once."""

    def __init__(self, base_url: str, interval: float = OBSERVE_INTERVAL_S):
        super().__init__(interval, "queue-observer")
        self.base_url = base_url
        self.max_in_progress = self.max_pool_slots = self.polls = 0
        self.errors: list[str] = []

    def poll(self) -> None:
        from geodem_cli.backfill import graphql

        try:
            data = graphql(self.base_url, OBSERVE, {"pool": HLL_POOL}, timeout=30)
        except Exception as exc:  # a slow answer under load is noted, not fatal to the measurement
            self.errors.append(f"{type(exc).__name__}: {exc}")
        else:
            self.max_in_progress = max(self.max_in_progress, len(data["runsOrError"]["results"]))
            self.max_pool_slots = max(
                self.max_pool_slots, len(data["instance"]["concurrencyLimit"]["claimedSlots"])
            )
            self.polls += 1


# ---- the run records ------------------------------------------------------------------------

RUNS = """
query {
  runsOrError(limit: 100000) {
    __typename
    ... on Runs { results { runId status creationTime startTime endTime tags { key value } } }
    ... on PythonError { message }
  }
}"""
RUN_MESSAGES = """
query($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { eventConnection(limit: 10000) { events { ... on MessageEvent { message } } } } }
}"""
INSTANCE = """
query($pool: String!) {
  instance {
    runQueueConfig { maxConcurrentRuns }
    poolConfig { defaultPoolLimit }
    concurrencyLimit(concurrencyKey: $pool) { slotCount limit usingDefaultLimit }
  }
}"""
_PID = re.compile(r"Started process for run \(pid: (\d+)\)")


@dataclass
class RunRecord:
    """One run of the instance: what Dagster recorded and the memory the sampler saw of its process."""

    run_id: str
    partition: str | None
    backfill_id: str | None
    status: str
    start: float | None
    end: float | None
    pid: int | None
    peak_kib: int | None = None
    samples: int = 0
    process_s: float | None = (
        None  # the run worker's life as sampled: spawn and imports before the run starts included
    )
    process_key: tuple[int, int] | None = None

    @property
    def seconds(self) -> float | None:
        return self.end - self.start if self.start and self.end else None


def run_records(base_url: str, peaks: dict[tuple[int, int], ProcessPeak]) -> list[RunRecord]:
    """Every run of the instance, oldest first, each matched to the sampled process whose pid its event log names."""
    from geodem_cli.backfill import BackfillError, graphql

    answer = graphql(base_url, RUNS, {})["runsOrError"]
    if answer["__typename"] != "Runs":
        raise BackfillError(f"runsOrError: {answer.get('message')}")
    records = []
    for r in sorted(answer["results"], key=lambda r: r["creationTime"]):
        tags = {t["key"]: t["value"] for t in r["tags"]}
        events = graphql(base_url, RUN_MESSAGES, {"runId": r["runId"]})["runOrError"]["eventConnection"][
            "events"
        ]
        pids = [int(m.group(1)) for e in events if (m := _PID.search(e.get("message") or ""))]
        record = RunRecord(
            run_id=r["runId"],
            partition=tags.get("dagster/partition"),
            backfill_id=tags.get("dagster/backfill"),
            status=r["status"],
            start=r["startTime"],
            end=r["endTime"],
            pid=pids[0] if len(pids) == 1 else None,
        )
        _attach_peak(record, peaks)
        records.append(record)
    return records


def _attach_peak(record: RunRecord, peaks: dict[tuple[int, int], ProcessPeak]) -> None:
    """The sampled process of the run's pid that was alive while the run was (a reused pid is another process)."""
    if record.pid is None or record.start is None:
        return
    end = record.end or float("inf")
    for peak in peaks.values():
        if (
            peak.pid == record.pid
            and peak.samples
            and peak.first_seen <= end
            and peak.last_seen >= record.start - 60
        ):
            record.peak_kib, record.samples = peak.hwm_kib, peak.samples
            record.process_s, record.process_key = (
                peak.last_seen - peak.first_seen,
                (peak.pid, peak.start_ticks),
            )
            return


def crowding(crowded: list[tuple[float, tuple]], runs: list[RunRecord]) -> dict:
    """Moments with more run workers alive than the queue allows, split into processes of runs still in
    progress at that moment, processes whose run had already ended (exiting while the queue starts the next
    run), and processes no run record claims (its run not yet started, or not a run worker at all)."""
    by_key = {r.process_key: r for r in runs if r.process_key}
    worst_in_progress, unattributed, exiting_for = 0, 0, []
    for t, keys in crowded:
        runs_here = [by_key.get(k) for k in keys]
        ended = [t - r.end for r in runs_here if r and r.end and r.end <= t]
        worst_in_progress = max(
            worst_in_progress, sum(1 for r in runs_here if r and not (r.end and r.end <= t))
        )
        unattributed = max(unattributed, sum(1 for r in runs_here if r is None))
        exiting_for += ended
    return {
        "moments": len(crowded),
        "max_in_progress": worst_in_progress,
        "max_unattributed": unattributed,
        "max_exiting_s": max(exiting_for, default=None),
    }


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals [start, end) holding one instant."""
    events = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1])
    )
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


# ---- reconciliation -------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """Input lines against output rows and quarantined lines, and input users against the combined result."""

    input_lines: int
    output_rows: int
    quarantined: int
    rows_by_range: dict[str, int]
    quarantined_by_range: dict[str, int]
    quarantine_kinds: dict[str, int]
    injected_bad_lines: int
    not_quarantined: list[list] = field(
        default_factory=list
    )  # injected bad lines the reader let through: [line, kind]
    wrongly_quarantined: list[list] = field(default_factory=list)  # [line, kind given, kind expected or None]
    duplicate_quarantine_lines: int = 0
    input_users: int = 0
    result_users: int = 0
    result_rows: int = 0
    users_missing: int = 0  # in the input, not in the result
    users_extra: int = 0  # in the result, not in the input
    classified_rows: int = 0

    @property
    def lines_balance(self) -> bool:
        return self.input_lines == self.output_rows + self.quarantined


def reconcile(source: InputFile, output_dir: Path, warehouse: Path) -> Reconciliation:
    """Count every input line as an output row (user_locations parquet of each range) or a quarantined line
    (table userday_quarantine), check the quarantine is exactly the injected bad lines, and the combined
    user_home_country.parquet exactly the input's users."""
    import pandas as pd
    import pyarrow.parquet as pq

    from resources.warehouse import Warehouse

    homeloc = output_dir / "homeloc"
    rows = {
        p.stem: pq.read_metadata(p).num_rows for p in sorted((homeloc / "user_locations").glob("*.parquet"))
    }
    quarantine = Warehouse(path=str(warehouse)).read("userday_quarantine")
    given = dict(zip(quarantine["line_number"].astype(int), quarantine["kind"]))
    rec = Reconciliation(
        input_lines=source.n_data_lines,
        output_rows=sum(rows.values()),
        quarantined=len(quarantine),
        rows_by_range=rows,
        quarantined_by_range={
            str(k): int(v) for k, v in quarantine["user_range"].value_counts().sort_index().items()
        },
        quarantine_kinds={str(k): int(v) for k, v in quarantine["kind"].value_counts().sort_index().items()},
        injected_bad_lines=len(source.bad_lines),
        not_quarantined=[[n, k] for n, k in sorted(source.bad_lines.items()) if n not in given],
        wrongly_quarantined=[
            [n, k, source.bad_lines.get(n)] for n, k in sorted(given.items()) if source.bad_lines.get(n) != k
        ],
        duplicate_quarantine_lines=len(quarantine) - len(given),
    )
    expected = set(input_users(source.path, source.bad_lines))
    combined = pd.read_parquet(homeloc / "user_home_country.parquet", columns=["user_guid"])["user_guid"]
    found = set(combined)
    rec.input_users, rec.result_users, rec.result_rows = len(expected), len(found), len(combined)
    rec.users_missing, rec.users_extra = len(expected - found), len(found - expected)
    rec.classified_rows = pq.read_metadata(homeloc / "user_classification.parquet").num_rows
    return rec


# ---- the whole load test --------------------------------------------------------------------


@dataclass
class LoadResult:
    """Everything the load test measured; ``problems()`` says what does not hold."""

    n_users: int
    n_ranges: int
    input: dict
    backfill_id: str
    backfill_status: str
    partition_status: dict[str, str]
    exit_code: int
    wall_s: float
    runs: list[RunRecord]
    max_concurrent_runs: int  # from the run records' start and end times
    max_in_progress_polled: int
    max_pool_slots_polled: int
    max_run_processes_sampled: int
    process_crowding: dict  # see crowding()
    instance: dict
    reconciliation: Reconciliation
    observer_polls: int
    observer_errors: list[str]
    started_at: str
    backfill_log: str

    def problems(self) -> list[str]:
        """Every way the run falls short: incomplete, over a limit, unmeasured, or not reconciling."""
        out = []
        expected = set(partition_keys(self.n_ranges))
        if self.exit_code != 0 or self.backfill_status not in ("COMPLETED", "COMPLETED_SUCCESS"):
            out.append(
                f"backfill {self.backfill_id} ended {self.backfill_status}, geodem exited {self.exit_code}"
            )
        if self.partition_status != {k: "SUCCESS" for k in expected}:
            out.append(f"ranges not all successful: {self.partition_status}")
        backfill_runs = [r for r in self.runs if r.backfill_id == self.backfill_id]
        if not any(r.partition is None and r.status == "SUCCESS" for r in backfill_runs):
            out.append("no successful summary run in the backfill")
        queue = self.instance.get("runQueueConfig") or {}
        slots = self.instance.get("concurrencyLimit") or {}
        if queue.get("maxConcurrentRuns") != RUN_QUEUE_LIMIT or slots.get("slotCount") != HLL_POOL_LIMIT:
            out.append(
                f"instance limits are not {RUN_QUEUE_LIMIT} runs / {HLL_POOL_LIMIT} {HLL_POOL} slots: {self.instance}"
            )
        for name, seen, limit in (
            ("runs at once (run records)", self.max_concurrent_runs, RUN_QUEUE_LIMIT),
            ("runs in progress (polled)", self.max_in_progress_polled, RUN_QUEUE_LIMIT),
            (f"{HLL_POOL} slots claimed (polled)", self.max_pool_slots_polled, HLL_POOL_LIMIT),
        ):
            if seen > limit:
                out.append(f"{name}: {seen} > {limit}")
        if not self.observer_polls:
            out.append(f"the webserver never answered the queue observer: {self.observer_errors[:3]}")
        if self.process_crowding.get("max_in_progress", 0) > RUN_QUEUE_LIMIT:
            out.append(f"run workers of unfinished runs alive at once: {self.process_crowding}")
        for r in self.runs:
            if r.peak_kib is None:
                out.append(
                    f"run {r.run_id} ({r.partition or 'summary'}): no peak memory (pid {r.pid} not sampled)"
                )
        rec = self.reconciliation
        if not rec.lines_balance:
            out.append(
                f"lines do not reconcile: {rec.input_lines:,} input lines != {rec.output_rows:,} rows + {rec.quarantined:,} quarantined"
            )
        if set(rec.rows_by_range) != expected:
            out.append(
                f"user_locations outputs for ranges {sorted(rec.rows_by_range)}, expected {sorted(expected)}"
            )
        if rec.not_quarantined or rec.wrongly_quarantined or rec.duplicate_quarantine_lines:
            out.append(
                f"quarantine is not exactly the {rec.injected_bad_lines} injected lines: not quarantined "
                f"{rec.not_quarantined[:5]}, wrong {rec.wrongly_quarantined[:5]}, duplicates {rec.duplicate_quarantine_lines}"
            )
        if (
            rec.users_missing
            or rec.users_extra
            or rec.result_rows != rec.result_users
            or rec.input_users != self.n_users
        ):
            out.append(
                f"users do not reconcile: input {rec.input_users:,} (generated {self.n_users:,}), result {rec.result_users:,} "
                f"in {rec.result_rows:,} rows, missing {rec.users_missing:,}, extra {rec.users_extra:,}"
            )
        if rec.classified_rows != rec.input_users:
            out.append(
                f"user_classification.parquet has {rec.classified_rows:,} rows for {rec.input_users:,} users"
            )
        return out


def measured_backfill(stack, log: Path, timeout_s: float):
    """Launch the backfill and wait for `geodem backfill --wait` to exit, sampling run workers and the queue meanwhile;
    (backfill id, exit code, launch time, exit time, sampler, observer)."""
    with RunWorkerSampler(stack.daemon.proc.pid) as sampler, QueueObserver(stack.base_url) as observer:
        t0 = time.time()
        proc, backfill_id = launch_backfill(stack, log, timeout_s)
        try:
            code = proc.wait(timeout_s + 120)
        finally:
            if proc.poll() is None:
                proc.kill()
        return backfill_id, code, t0, time.time(), sampler, observer


def run_load(
    admin_url: str,
    root: Path,
    n_users: int,
    n_ranges: int = 16,
    *,
    seed: int = 7,
    n_bad_rows: int = 250,
    hostile_per_case: int = 10,
    timeout_s: float = 3 * 3600,
    artifacts: Path | None = None,
    echo=print,
) -> LoadResult:
    """Generate the file in ``root``, start the stack on fresh databases of ``admin_url``, backfill, measure, reconcile."""
    from geodem_cli.backfill import backfill_status, graphql, partition_statuses

    root.mkdir(parents=True, exist_ok=True)
    echo(f"generating {n_users:,} users into {root / 'userdays.csv'}")
    source = write_input(root / "userdays.csv", n_users, seed, n_bad_rows, hostile_per_case)
    echo(
        f"{source.n_data_lines:,} data lines ({len(source.bad_lines)} bad), {source.n_bytes / 2**20:.1f} MiB in {source.generate_s:.0f} s"
    )
    settings = dict(
        GEODEM_USER_RANGES=str(n_ranges),
        GEODEM_USERDAYS_CSV=str(source.path),
        GEODEM_OUTPUT_DIR=str(root / "outputs"),
        GEODEM_WAREHOUSE=str(root / "warehouse.duckdb"),
        GEODEM_CENSUS_DIR=str(root / "census"),
    )
    started_at = dt.datetime.now(dt.UTC)
    with (
        hll_database(admin_url) as hll_url,
        dagster_database(admin_url, prefix="dagster_load") as database,
        running_stack(
            database,
            root,
            {**settings, "GEODEM_HLL_DATABASE_URL": hll_url},
            artifacts or root / "logs",
            instance_overrides=INSTANCE_OVERRIDES,
        ) as stack,
    ):
        echo(f"webserver {stack.base_url}, daemon pid {stack.daemon.proc.pid}; launching the backfill")
        backfill_id, code, t0, geodem_done, sampler, observer = measured_backfill(
            stack, root / "backfill.log", timeout_s
        )
        status = backfill_status(stack.base_url, backfill_id)
        runs = run_records(stack.base_url, sampler.peaks)
        instance = graphql(stack.base_url, INSTANCE, {"pool": HLL_POOL})["instance"]
    ends = [r.end for r in runs if r.end]
    result = LoadResult(
        n_users=n_users,
        n_ranges=n_ranges,
        input={k: v for k, v in asdict(source).items() if k != "bad_lines"}
        | {"path": str(source.path), "bad_lines": len(source.bad_lines)},
        backfill_id=backfill_id,
        backfill_status=status["status"],
        partition_status=partition_statuses(status),
        exit_code=code,
        wall_s=(max(ends) if ends else geodem_done) - t0,
        runs=runs,
        max_concurrent_runs=max_overlap([(r.start, r.end or geodem_done) for r in runs if r.start]),
        max_in_progress_polled=observer.max_in_progress,
        max_pool_slots_polled=observer.max_pool_slots,
        max_run_processes_sampled=sampler.max_alive,
        process_crowding=crowding(sampler.crowded, runs),
        instance=instance,
        reconciliation=reconcile(source, root / "outputs", root / "warehouse.duckdb"),
        observer_polls=observer.polls,
        observer_errors=observer.errors[:20],
        started_at=started_at.strftime("%Y-%m-%d %H:%M UTC"),
        backfill_log=(root / "backfill.log").read_text(),
    )
    return result


# ---- report ---------------------------------------------------------------------------------


def _gib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 2**20:.2f} GiB"


def section(result: LoadResult, command: str, machine: list[str]) -> str:
    """The '## Load: backfill' section of RESULTS.md."""
    rec = result.reconciliation
    peaks = [r.peak_kib for r in result.runs if r.peak_kib is not None]
    range_runs = [r for r in result.runs if r.partition]
    summary_runs = [r for r in result.runs if not r.partition]
    verdict = "all hold" if not result.problems() else "**FAILED**: " + "; ".join(result.problems())
    lines = [
        SECTION,
        "",
        f"Measured {result.started_at}. A backfill of every user range plus `locals_tourists_summary` through "
        f"dagster-webserver and dagster-daemon on the production `dagster.yaml` (PostgreSQL storage, QueuedRunCoordinator, "
        f"run retries), with the run queue at {RUN_QUEUE_LIMIT} concurrent runs and the `{HLL_POOL}` pool at {HLL_POOL_LIMIT}, "
        f"launched with `geodem backfill homeloc --wait`; unions in PostgreSQL (a throwaway database with `CREATE EXTENSION hll`).",
        "",
        "```",
        command,
        "```",
        "",
        *machine,
        "",
        "| figure | value |",
        "|---|---:|",
        f"| users generated | {result.n_users:,} |",
        f"| user ranges | {result.n_ranges} |",
        f"| input data lines (file lines − header) | {rec.input_lines:,} |",
        f"| of which injected bad lines | {rec.injected_bad_lines:,} |",
        f"| file size, generation time | {result.input['n_bytes'] / 2**20:.1f} MiB, {result.input['generate_s']:.0f} s |",
        f"| backfill status | {result.backfill_status} ({sum(1 for r in result.runs if r.status == 'SUCCESS')} of {len(result.runs)} runs SUCCESS) |",
        f"| wall time, launch to last run's end | {result.wall_s / 60:.1f} min |",
        f"| run time per range run (max / mean) | {max(r.seconds or 0 for r in range_runs):.0f} s / "
        f"{sum(r.seconds or 0 for r in range_runs) / max(len(range_runs), 1):.0f} s |",
        f"| summary run time | {', '.join(f'{r.seconds or 0:.0f} s' for r in summary_runs) or '-'} |",
        f"| run worker process life per range run, spawn to exit (max / mean) | "
        f"{max(r.process_s or 0 for r in range_runs):.0f} s / {sum(r.process_s or 0 for r in range_runs) / max(len(range_runs), 1):.0f} s |",
        f"| peak memory per run (max / mean) | {_gib(max(peaks) if peaks else None)} / {_gib(sum(peaks) // len(peaks) if peaks else None)} |",
        f"| most runs at once (run records' start/end) | {result.max_concurrent_runs} (limit {RUN_QUEUE_LIMIT}) |",
        f"| most runs in progress (webserver polled every {OBSERVE_INTERVAL_S:g} s; {result.observer_polls} answers, "
        f"{len(result.observer_errors)} failed) | {result.max_in_progress_polled} |",
        f"| most `{HLL_POOL}` slots claimed (polled) | {result.max_pool_slots_polled} (limit {HLL_POOL_LIMIT}) |",
        f"| output rows (user_locations, summed over ranges) | {rec.output_rows:,} |",
        f"| quarantined lines (userday_quarantine) | {rec.quarantined:,} |",
        f"| input lines = output rows + quarantined | {'yes' if rec.lines_balance else '**no**'} |",
        f"| quarantine = exactly the injected lines, each with its kind | "
        f"{'yes' if not (rec.not_quarantined or rec.wrongly_quarantined or rec.duplicate_quarantine_lines) else '**no**'} |",
        f"| distinct users in the input / in the combined result | {rec.input_users:,} / {rec.result_users:,} "
        f"(missing {rec.users_missing}, extra {rec.users_extra}) |",
        "",
        f"Checks: {verdict}.",
        "",
        f"Quarantined by kind: {', '.join(f'{k} {v}' for k, v in rec.quarantine_kinds.items())}.",
        "",
        "| run | range | status | run time | process life | peak memory | rows | quarantined |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result.runs:
        key = r.partition or "summary"
        counts = (
            f"{rec.rows_by_range.get(key, 0):,} | {rec.quarantined_by_range.get(key, 0):,}"
            if r.partition
            else " | "
        )
        lines.append(
            f"| `{r.run_id[:8]}` | {key} | {r.status} | {r.seconds or 0:.0f} s | {r.process_s or 0:.0f} s | "
            f"{_gib(r.peak_kib)} | {counts} |"
        )
    crowd = result.process_crowding
    crowd_text = (
        f"never more than {RUN_QUEUE_LIMIT}"
        if not crowd.get("moments")
        else f"{result.max_run_processes_sampled} at most; at each of the {crowd['moments']} sampled moment(s) with more than "
        f"{RUN_QUEUE_LIMIT}, at most {crowd['max_in_progress']} belonged to runs not yet ended, at most "
        f"{crowd.get('max_unattributed', 0)} to no recorded run (a run worker before its run records a start), "
        f"the others to runs that had ended at most {crowd['max_exiting_s'] or 0:.1f} s before and whose "
        f"process was still exiting"
    )
    lines += [
        "",
        "How it is measured:",
        "",
        "- **Peak memory per run**: the homeloc jobs run in process, so a run is one process (the run worker the code "
        'server spawns). Its pid comes from the run\'s own event log ("Started process for run (pid: N)"); a sampler '
        f"read that process's `VmHWM` (the kernel's high-water mark of resident memory) from /proc every {SAMPLE_INTERVAL_S:g} s "
        "while it lived. VmHWM never decreases, so no peak between samples is missed; memory taken in the last "
        f"{SAMPLE_INTERVAL_S:g} s before the process exits would be. PostgreSQL's own memory is not included.",
        "- **Runs at once**: overlaps of the runs' recorded start and end times (every run of the instance), and the "
        "number of runs in STARTING/STARTED/CANCELING polled from the webserver during the backfill. "
        f"Run-worker processes seen alive at once by the sampler: {crowd_text}. Run time is Dagster's start to end of "
        "the run; process life (sampled, so within about 0.5 s) adds the run worker's spawn and imports before it.",
        "- **Reconciliation**: input lines are counted from the file; output rows from the `user_locations` parquet of "
        "each range; quarantined lines from the warehouse table `userday_quarantine`. The bad lines (the generator's "
        "`n_bad_rows`, plus lines from `sample_data/hostile_userday_lines.py`: unparsable coordinates, broken HLLs, missing "
        "and extra columns, blank lines, repeated headers, bad quoting) are known by line number and kind, and the "
        "quarantine must be exactly them. Input users are the distinct user_guids of the file's good lines, read from "
        "the file; the combined `user_home_country.parquet` must hold exactly those users, once each.",
    ]
    return "\n".join(lines) + "\n"


def save_json(result: LoadResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=1, default=str))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.load_backfill", description=__doc__.splitlines()[0]
    )
    p.add_argument("--users", type=int, default=1_000_000, help="users of the generated file")
    p.add_argument("--ranges", type=int, default=16, help="user ranges (GEODEM_USER_RANGES)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--bad-rows",
        type=int,
        default=250,
        help="bad rows from the generator (bad coordinates, HLL, parameters, columns)",
    )
    p.add_argument(
        "--hostile-per-case",
        type=int,
        default=10,
        help=f"lines of each of {len(HOSTILE_CASES)} hostile cases inserted",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("GEODEM_TEST_DATABASE_URL", DEFAULT_PG),
        help="admin URL of the PostgreSQL server (the hll extension must be installable)",
    )
    p.add_argument(
        "--work", help="folder for the file, outputs and instance (default: a temporary folder, removed)"
    )
    p.add_argument("--timeout", type=float, default=3 * 3600, help="seconds the backfill may take")
    p.add_argument(
        "--out", default=str(DEFAULT_OUT), help="folder for the JSON results and the services' logs"
    )
    p.add_argument(
        "--results", default=str(RESULTS), help=f"markdown file whose '{SECTION}' section is rewritten"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    machine = machine_lines()
    root = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="geodem-load-"))
    out = Path(args.out)
    try:
        result = run_load(
            args.pg_url,
            root,
            args.users,
            args.ranges,
            seed=args.seed,
            n_bad_rows=args.bad_rows,
            hostile_per_case=args.hostile_per_case,
            timeout_s=args.timeout,
            artifacts=out / "logs",
            echo=lambda m: print(m, flush=True),
        )
    finally:
        if not args.work:
            shutil.rmtree(root, ignore_errors=True)
    save_json(result, out / "load_backfill.json")
    command = "python -m benchmarks.load_backfill " + " ".join(
        f"--{k.replace('_', '-')} {v}"
        for k, v in (
            ("users", args.users),
            ("ranges", args.ranges),
            ("seed", args.seed),
            ("bad_rows", args.bad_rows),
            ("hostile_per_case", args.hostile_per_case),
        )
    )
    write_section(Path(args.results), SECTION, section(result, command, machine))
    print(section(result, command, machine))
    problems = result.problems()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
