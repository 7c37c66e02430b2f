"""Two workers with nothing on a shared disk: backfills through the webserver and daemon, results equal one machine's.

The runs go through dagster-celery's run launcher to two Celery worker processes that share
only RabbitMQ, the Dagster PostgreSQL storage and S3 (benchmarks/distributed.py). Every user
range and two regions are backfilled; the record in S3 must equal the single-machine run's row
for row, both workers must have taken runs, and nothing may be written outside the workers' own
folders (and the control plane's: the webserver's and daemon's logs and instance folder).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from benchmarks.distributed import (
    changed,
    run_backfills,
    running_cluster,
    succeeded,
    tasks_taken,
    tree_snapshot,
)
from geodem_cli.backfill import run_counts
from geodem_cli.stack import REPO
from resources.parquet_warehouse import ParquetWarehouse
from tests.objectstore.conftest import REGION_RUN, REGIONS
from tests.objectstore.test_s3_pipeline import assert_same_record

pytestmark = [pytest.mark.postgres, pytest.mark.distributed]
# What this project makes in a temporary directory: the default scratch folder ($TMPDIR/geodem)
# and, were the scratch folder the temporary directory itself, the staging folders in it.
OUR_TEMP_NAMES = ("outputs-", "release-")


def test_two_workers_sharing_no_disk_equal_one_machine(tmp_path, baseline, pg_server_url, monkeypatch):
    temp = Path(tempfile.gettempdir())
    temp_before = set(os.listdir(temp))
    repo_before = tree_snapshot(REPO)
    with running_cluster(pg_server_url, tmp_path, baseline.census, baseline.userdays) as cluster:
        results = run_backfills(cluster, REGIONS, REGION_RUN)
        logs = {d.name: (d / "worker.log").read_text(errors="replace")[-3000:] for d in cluster.worker_dirs}
        for name, status in results.items():
            assert succeeded(status), (name, run_counts(status), logs)
        taken = [tasks_taken(d) for d in cluster.worker_dirs]
        # census_release, two regions, four ranges and the summary, shared by both workers.
        assert min(taken) >= 1 and sum(taken) >= 8, taken
        for key, value in cluster.s3.env.items():
            monkeypatch.setenv(key, value)
        got = tmp_path / "from_s3"
        cluster.s3.download(cluster.outputs, got)
        warehouse = ParquetWarehouse(path=f"{cluster.outputs}/warehouse", scratch=str(tmp_path / "reader"))
        assert_same_record(baseline, warehouse, got, REGIONS, by_range=False)
        assert warehouse.distinct("user_home_country", "user_range") == ["0-3", "4-7", "8-b", "c-f"]

    assert changed(repo_before, tree_snapshot(REPO)) == []
    ours = sorted(
        n for n in set(os.listdir(temp)) - temp_before if n == "geodem" or n.startswith(OUR_TEMP_NAMES)
    )
    assert ours == []
    # Under the test's own folder: the workers', the control plane's and this test's downloads only.
    allowed = [
        *(tmp_path / w for w in ("worker-a", "worker-b")),
        tmp_path / "control",
        got,
        tmp_path / "reader",
    ]
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not any(a in p.parents for a in allowed)]
    assert outside == []
    # Each worker wrote in its own folder: its compute logs, and its scratch emptied after uploads.
    for worker in cluster.worker_dirs:
        assert any((worker / "dagster_home").rglob("*.err")) or any((worker / "dagster_home").rglob("*.out"))
        staged = [
            p for p in (worker / "scratch").rglob("*") if p.is_file() and p.suffix in (".parquet", ".html")
        ]
        assert staged == []
