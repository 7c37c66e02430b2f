"""SIGKILL a region run in the middle of k-means, then re-run it: every output equals an undisturbed run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from resources.warehouse import Warehouse
from sample_data.census import write_sample_census
from tests.reliability.region_runner import REGION

ROOT = Path(__file__).resolve().parents[2]
TABLES = [
    "region_output_areas",
    "region_matrix",
    "cluster_diagnostics",
    "supergroups",
    "supergroup_centroids",
    "subgroups",
    "cluster_embedding",
    "cluster_profiles",
    "cluster_index_scores",
    "cluster_names",
]
FILES = ["classification.parquet", "profiles.csv"]


def start(work: Path, census: Path, hang_at: int = 0) -> subprocess.Popen:
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEODEM_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), GEODEM_TEST_HANG_AT_KMEANS=str(hang_at))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.region_runner", str(work), str(census)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "runner.log", "wb"),
    )


def finish(proc: subprocess.Popen, work: Path) -> None:
    assert proc.wait(timeout=600) == 0, (work / "runner.log").read_text()[-3000:]


def outputs(work: Path) -> dict[str, pd.DataFrame]:
    wh = Warehouse(path=str(work / "warehouse.duckdb"))
    got = {}
    for table in TABLES:
        rows = wh.read(table, "region", REGION) if wh.has_table(table) else pd.DataFrame()
        got[table] = rows.sort_values(list(rows.columns), ignore_index=True) if len(rows) else rows
    folder = work / "out" / "geodem" / REGION
    got["classification.parquet"] = pd.read_parquet(folder / "classification.parquet")
    got["profiles.csv"] = pd.read_csv(folder / "profiles.csv")
    return got


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    path = tmp_path_factory.mktemp("census")
    write_sample_census(path, regions=[REGION], seed=2, scale=0.15)
    return path


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory, census):
    work = tmp_path_factory.mktemp("undisturbed")
    finish(start(work, census), work)
    return outputs(work)


@pytest.mark.parametrize("call, step", [(1, "supergroups"), (2, "subgroups")])
def test_region_killed_in_kmeans_then_rerun_equals_an_undisturbed_run(
    tmp_path, census, undisturbed, call, step, cases
):
    work = tmp_path / "killed"
    proc = start(work, census, hang_at=call)
    marker, deadline = work / "in_kmeans", time.monotonic() + 300
    while not marker.exists():
        assert proc.poll() is None, (work / "runner.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the run never reached k-means"
        time.sleep(0.2)
    os.kill(int(marker.read_text()), signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    before = outputs_if_any(work)
    assert before.get(step) is None or before[step].empty, (
        f"{step} was written although the kill came before its write"
    )

    finish(start(work, census), work)
    after = outputs(work)
    for name, expected in undisturbed.items():
        assert len(expected), name
        pd.testing.assert_frame_equal(after[name], expected, check_exact=False, rtol=1e-9, obj=name)
    cases[f"SIGKILL during {step} k-means"] += 1


def outputs_if_any(work: Path) -> dict[str, pd.DataFrame]:
    """The warehouse tables of the killed run (no export files yet)."""
    wh = Warehouse(path=str(work / "warehouse.duckdb"))
    return {t: wh.read(t, "region", REGION) for t in TABLES if wh.has_table(t)}
