"""PostgreSQL stopped and restarted under a backfill of every user range: the failed steps retry and the result equals an undisturbed run."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg2
import pytest

from geodem_cli.backfill import backfill_status, partition_statuses
from geodem_cli.stack import REPO, dagster_database, launch_backfill, running_stack
from geodem_cli.webserver import graphql
from partitions.definitions import user_range_partitions
from resources.hll_resource import PostgresHLLResource
from sample_data.userdays import write_sample_userdays
from tests.homeloc.whole_file import expected_homes, whole_file_aggregates
from tests.pgcluster import ThrowawayCluster
from tests.pipelines.harness import make_defs, make_resources, run

pytestmark = [pytest.mark.postgres]

ARTIFACTS = REPO / "test-artifacts" / "reliability"
N_RANGES = 4
N_USERS = 2000
BACKFILL_TIMEOUT_S = 420
OUTAGE_AFTER_FIRST_FAILURE_S = 5  # the server stays down this much longer once a step has hit the outage
HLL_STEP = "user_country_userdays"

STEP_ERRORS = """
query($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run {
      eventConnection(limit: 5000) {
        events {
          __typename
          ... on MessageEvent { stepKey }
          ... on ErrorEvent { error { message causes { message } } }
        }
      }
    }
  }
}"""


@pytest.fixture(scope="module")
def hll_cluster():
    """A PostgreSQL cluster of this module's own, to stop and start: database `geodem_hll` has the hll extension, `no_hll` not."""
    cluster = ThrowawayCluster()
    cluster.start()
    try:
        admin = psycopg2.connect(cluster.url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE geodem_hll")
            cur.execute("CREATE DATABASE no_hll")
        admin.close()
        base = cluster.url.rsplit("/", 1)[0]
        with psycopg2.connect(f"{base}/geodem_hll") as conn, conn.cursor() as cur:
            cur.execute("CREATE EXTENSION hll")
        yield cluster, f"{base}/geodem_hll", f"{base}/no_hll"
    finally:
        cluster.destroy()


def wait_until(condition, timeout: float, what: str, stack=None, poll: float = 0.5):
    """condition()'s first truthy value, polled; on timeout an AssertionError naming ``what`` (and the daemon's log tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    tail = f"\n--- daemon log ---\n{stack.daemon.tail()}" if stack else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{tail}")


def hll_step_errors(base_url: str, runs: list[dict]) -> dict[str, list[tuple[str, str]]]:
    """Range -> (event type, error text with its causes) of every failure or retry of the HLL step in the backfill's runs."""
    found: dict[str, list[tuple[str, str]]] = {}
    for r in runs:
        key = next((t["value"] for t in r["tags"] if t["key"] == "dagster/partition"), None)
        events = graphql(base_url, STEP_ERRORS, {"runId": r["runId"]})["runOrError"]["eventConnection"][
            "events"
        ]
        for e in events:
            if e.get("stepKey") == HLL_STEP and e.get("error"):
                text = "\n".join([e["error"]["message"], *(c["message"] for c in e["error"]["causes"])])
                found.setdefault(key, []).append((e["__typename"], text))
    return found


def test_postgresql_restart_mid_backfill_is_ridden_out_by_retries(pg_server_url, hll_cluster, cases):
    cluster, hll_url, _ = hll_cluster
    root = Path(tempfile.mkdtemp(prefix="geodem-outage-"))
    userdays = root / "userdays.csv"
    write_sample_userdays(userdays, N_USERS, seed=13)
    settings = dict(
        GEODEM_HLL_DATABASE_URL=hll_url,
        GEODEM_USER_RANGES=str(N_RANGES),
        GEODEM_USERDAYS_CSV=str(userdays),
        GEODEM_OUTPUT_DIR=str(root / "outputs"),
        GEODEM_WAREHOUSE=str(root / "warehouse.duckdb"),
        GEODEM_CENSUS_DIR=str(root / "census"),
    )
    try:
        with (
            dagster_database(pg_server_url, prefix="dagster_outage") as database,
            running_stack(database, root, settings, ARTIFACTS) as stack,
        ):
            proc, backfill_id = launch_backfill(stack, root / "backfill.log", BACKFILL_TIMEOUT_S)
            try:

                def started_runs():
                    return [
                        r
                        for r in backfill_status(stack.base_url, backfill_id)["runs"]
                        if r["status"] == "STARTED"
                    ]

                wait_until(started_runs, 180, "a range run to start", stack)
                cluster.stop("fast")  # runs in flight; connections open at this moment are terminated
                try:
                    wait_until(
                        lambda: hll_step_errors(
                            stack.base_url, backfill_status(stack.base_url, backfill_id)["runs"]
                        ),
                        120,
                        f"a {HLL_STEP} step to fail on the stopped database",
                        stack,
                        poll=1,
                    )
                    time.sleep(OUTAGE_AFTER_FIRST_FAILURE_S)
                finally:
                    cluster.start()
                code = proc.wait(BACKFILL_TIMEOUT_S + 60)
            finally:
                if proc.poll() is None:
                    proc.kill()
            output = (root / "backfill.log").read_text()
            assert code == 0, (
                f"geodem backfill exited with {code}:\n{output}\n--- daemon log ---\n{stack.daemon.tail()}"
            )
            status = backfill_status(stack.base_url, backfill_id)
            errors = hll_step_errors(stack.base_url, status["runs"])

        # Every range ended in success; the ones that met the outage retried rather than failed for good.
        ranges = partition_statuses(status)
        assert ranges == {key: "SUCCESS" for key in ranges} and len(ranges) == N_RANGES, ranges
        assert status["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), status["status"]
        assert errors, "no range met the outage"
        # The step's retry policy rode it out inside each run: no run failed, none needed a run retry.
        assert {r["status"] for r in status["runs"]} == {"SUCCESS"}, [
            (r["runId"], r["status"]) for r in status["runs"]
        ]
        assert {kind for seen in errors.values() for kind, _ in seen} == {"ExecutionStepUpForRetryEvent"}
        for key, seen in errors.items():
            for _, text in seen:
                # Only the outage: the database unreachable or the connection cut by the shutdown.
                assert f"PostgreSQL at 127.0.0.1:{cluster.port}/geodem_hll" in text, (
                    f"range {key}: unexpected error\n{text}"
                )
        cases["HLL step retries through a PostgreSQL restart"] += sum(len(seen) for seen in errors.values())
        cases["ranges that met a PostgreSQL restart mid-backfill"] += len(errors)

        # The same homes and user-day counts as one undisturbed pass over the whole file.
        out = root / "outputs" / "homeloc"
        combined = pd.read_parquet(out / "user_home_country.parquet").reset_index(drop=True)
        expected = expected_homes(userdays)
        # DuckDB writes the nullable rounded total without pandas' dtype note (see test_homeloc_pipeline).
        expected = expected.astype({"total_userdays_rounded": combined["total_userdays_rounded"].dtype})
        pd.testing.assert_frame_equal(combined[expected.columns], expected)
        per_country, per_user, _ = whole_file_aggregates(userdays)
        for name, whole, order in (
            ("user_country_userdays", per_country, ["user_guid", "country"]),
            ("user_total_userdays", per_user, ["user_guid"]),
        ):
            parts = pd.concat([pd.read_parquet(p) for p in sorted((out / name).glob("*.parquet"))])
            assert len(list((out / name).glob("*.parquet"))) == N_RANGES
            pd.testing.assert_frame_equal(
                parts.sort_values(order, ignore_index=True)[whole.columns],
                whole.sort_values(order, ignore_index=True),
                check_dtype=False,
                obj=name,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_database_without_the_extension_fails_at_once_without_retries(tmp_path, hll_cluster):
    _, _, no_hll_url = hll_cluster
    userdays = tmp_path / "userdays.csv"
    write_sample_userdays(userdays, 300, seed=2)
    resources = make_resources(tmp_path, userdays=userdays, hll=PostgresHLLResource(database_url=no_hll_url))
    instance = dg.DagsterInstance.ephemeral()
    result = run(
        make_defs(resources), "homeloc_range_job", instance, user_range_partitions.get_partition_keys()[0]
    )
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events if e.step_key == HLL_STEP]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds.count("STEP_FAILURE") == 1, kinds
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "no 'hll' extension" in failure.message and "CREATE EXTENSION hll" in failure.message
