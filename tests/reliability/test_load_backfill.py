"""The load test of benchmarks/load_backfill.py, small: a backfill through webserver and daemon under the production
limits (2 runs at once, hll_db pool 2), with bad lines mixed in; it completes, every run's peak memory is
measured, no limit is exceeded, and every input line and user is accounted for."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from benchmarks.load_backfill import HLL_POOL_LIMIT, RUN_QUEUE_LIMIT, RunWorkerSampler, run_load, section
from geodem_cli.stack import REPO
from partitions.user_ranges import partition_keys

pytestmark = [pytest.mark.postgres]

ARTIFACTS = REPO / "test-artifacts" / "load"
N_USERS = 20_000
N_RANGES = 4
TIMEOUT_S = 600
# A Python process with dagster and the project imported holds well over this; less means the wrong process was read.
MIN_RUN_PEAK_KIB = 100 * 1024


@pytest.fixture(scope="module")
def load(pg_server_url):
    """One small load run (the same code as `python -m benchmarks.load_backfill`)."""
    root = Path(tempfile.mkdtemp(prefix="geodem-load-test-"))
    try:
        yield run_load(
            pg_server_url,
            root,
            N_USERS,
            N_RANGES,
            seed=3,
            n_bad_rows=60,
            hostile_per_case=2,
            timeout_s=TIMEOUT_S,
            artifacts=ARTIFACTS,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_backfill_completes_within_the_limits_and_reconciles(load, cases):
    assert load.problems() == [], (
        "\n".join(load.problems()) + f"\n--- geodem backfill ---\n{load.backfill_log}"
    )

    # Completed: every range and the summary, each in a successful run of this backfill.
    assert load.exit_code == 0 and load.backfill_status in ("COMPLETED", "COMPLETED_SUCCESS")
    assert load.partition_status == {k: "SUCCESS" for k in partition_keys(N_RANGES)}
    mine = [r for r in load.runs if r.backfill_id == load.backfill_id]
    assert sorted(r.partition or "summary" for r in mine if r.status == "SUCCESS") == sorted(
        [*partition_keys(N_RANGES), "summary"]
    )

    # The limits were the ones asked for, and held.
    assert load.instance["runQueueConfig"]["maxConcurrentRuns"] == RUN_QUEUE_LIMIT
    assert load.instance["concurrencyLimit"]["slotCount"] == HLL_POOL_LIMIT
    assert 1 <= load.max_concurrent_runs <= RUN_QUEUE_LIMIT
    assert load.observer_polls > 0
    assert (
        1 <= load.max_in_progress_polled <= RUN_QUEUE_LIMIT and load.max_pool_slots_polled <= HLL_POOL_LIMIT
    )

    # Every run's peak memory was read from its own process.
    for r in load.runs:
        assert r.pid and r.samples > 0 and r.peak_kib >= MIN_RUN_PEAK_KIB, r

    # Every input line is a row or a quarantined line, the quarantine is exactly the injected lines, every user is in the result.
    rec = load.reconciliation
    assert rec.input_lines == rec.output_rows + rec.quarantined
    assert rec.quarantined == rec.injected_bad_lines > 0
    assert not rec.not_quarantined and not rec.wrongly_quarantined and rec.duplicate_quarantine_lines == 0
    assert sorted(rec.rows_by_range) == sorted(partition_keys(N_RANGES))
    assert rec.input_users == rec.result_users == rec.result_rows == rec.classified_rows == N_USERS
    assert rec.users_missing == rec.users_extra == 0

    text = section(load, "python -m benchmarks.load_backfill --users 20000 --ranges 4", ["- machine"])
    assert "Checks: all hold." in text and f"| {rec.input_lines:,} |" in text
    cases["load-test lines reconciled through a limited backfill"] += rec.input_lines


# A parent in a session of its own spawns (as the code server spawns run workers) a child that fills 300 MiB,
# holds it, and reports its own ru_maxrss (KiB on Linux) before exiting.
SPAWNING_PARENT = textwrap.dedent("""
    import multiprocessing as mp, resource, sys, time

    def work(q):
        block = bytes(range(256)) * (300 * 2**20 // 256)
        time.sleep(1.0)
        q.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    if __name__ == "__main__":
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=work, args=(q,))
        p.start()
        print(p.pid, q.get(), flush=True)
        p.join()
""")


def test_the_sampler_reads_a_spawned_process_peak_as_its_own_rusage_does(tmp_path):
    script = tmp_path / "spawning_parent.py"
    script.write_text(SPAWNING_PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    with RunWorkerSampler(parent.pid) as sampler:
        out, _ = parent.communicate(timeout=120)
    assert parent.returncode == 0
    pid, maxrss_kib = map(int, out.split())
    (peak,) = [p for p in sampler.peaks.values() if p.pid == pid]
    assert peak.samples > 3
    assert peak.hwm_kib >= 300 * 1024
    assert abs(peak.hwm_kib - maxrss_kib) <= 0.02 * maxrss_kib, (peak, maxrss_kib)


def test_crowded_moments_are_split_into_running_ended_and_unclaimed_processes():
    from benchmarks.load_backfill import RunRecord, crowding

    def run(key, start, end):
        return RunRecord(
            run_id=str(key),
            partition="0",
            backfill_id=None,
            status="SUCCESS",
            start=start,
            end=end,
            pid=key[0],
            process_key=key,
        )

    runs = [run((1, 1), 0.0, 10.0), run((2, 2), 1.0, 20.0), run((3, 3), 5.0, 30.0)]
    # At t=12: run 1 has ended (still exiting), 2 and 3 are running, 4 is claimed by no run.
    got = crowding([(12.0, ((1, 1), (2, 2), (3, 3), (4, 4)))], runs)
    assert got == {"moments": 1, "max_in_progress": 2, "max_unattributed": 1, "max_exiting_s": 2.0}
    # At t=6 all three are running: over the limit of 2.
    assert crowding([(6.0, ((1, 1), (2, 2), (3, 3)))], runs)["max_in_progress"] == 3
