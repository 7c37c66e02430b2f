"""Inputs and outputs on S3: the census release and every home-location range give what a local run gives, row for row.

Regions on S3 are checked by test_no_shared_disk.py, where two of them run on separate workers
against the same single-machine baseline (tests/objectstore/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from partitions.definitions import user_range_partitions
from resources.defaults import resources_from_env
from resources.parquet_warehouse import ParquetWarehouse
from tests.objectstore.conftest import REGIONS, Baseline, run_single_machine
from tests.pipelines.harness import make_defs, run

REGION = REGIONS[0]
KEYS = user_range_partitions.get_partition_keys()
REGION_TABLES = {
    "region_output_areas",
    "region_matrix",
    "supergroups",
    "subgroups",
    "cluster_embedding",
    "cluster_profiles",
    "cluster_index_scores",
    "cluster_names",
}
# (table, sort columns) of the warehouse, compared row for row.
TABLES = [
    ("user_locations_stats", ["user_range"]),
    ("userday_quarantine", ["line_number"]),
    ("user_home_country", ["user_guid"]),
    ("user_classification", ["user_guid"]),
    ("census_variables", ["OA"]),
    ("oa_boundaries", ["OA"]),
    ("region_output_areas", ["OA"]),
    ("region_matrix", ["OA"]),
    ("supergroups", ["OA"]),
    ("subgroups", ["OA"]),
    ("cluster_embedding", ["OA"]),
    ("cluster_profiles", ["level", "cluster"]),
    ("cluster_index_scores", ["level", "basis", "cluster", "variable"]),
    ("cluster_names", ["cluster"]),
]
# Export files compared as tables (the HTML and PNG files embed ids and timestamps of their own).
EXPORTS = ["classification.parquet", "classification.csv", "cluster_descriptions.csv", "profiles.csv"]


def _sorted(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return df.sort_values(by, kind="stable").reset_index(drop=True)[sorted(df.columns)]


def _table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def assert_same_record(
    baseline: Baseline, warehouse, outputs: Path, regions: list[str], by_range: bool = True
) -> None:
    """The warehouse tables and output files of a run equal the single-machine run's, row for row
    (region tables and files of ``regions``; per-range files when the range count is the same)."""
    for table, by in TABLES:
        if table in REGION_TABLES and not regions:
            continue
        if table == "user_locations_stats" and not by_range:
            # One row per range: with other ranges only the totals compare.
            totals = ["n_lines", "n_rows", "n_quarantined", "n_no_country"]
            assert (
                warehouse.read(table)[totals].sum().tolist()
                == baseline.warehouse.read(table)[totals].sum().tolist()
            )
            continue
        expected, got = baseline.warehouse.read(table), warehouse.read(table)
        if table in REGION_TABLES:
            expected = expected[expected["region"].isin(regions)]
            by = ["region", *by]
        if not by_range and "user_range" in expected.columns:
            expected, got = expected.drop(columns="user_range"), got.drop(columns="user_range")
        pd.testing.assert_frame_equal(_sorted(got, by), _sorted(expected, by), obj=table)
    info = warehouse.read("census_release_info")
    assert (
        info["fingerprint"].tolist() == baseline.warehouse.read("census_release_info")["fingerprint"].tolist()
    )
    names = ["homeloc/user_home_country.parquet", "homeloc/user_classification.parquet"]
    if by_range:
        names += [
            p.relative_to(baseline.outputs).as_posix()
            for p in (baseline.outputs / "homeloc").glob("*/*.parquet")
        ]
    names += [f"geodem/{slug}/{n}" for slug in regions for n in EXPORTS]
    for name in names:
        pd.testing.assert_frame_equal(_table(outputs / name), _table(baseline.outputs / name), obj=name)
    for slug in regions:
        expected_files = {p.name for p in (baseline.outputs / "geodem" / slug).iterdir()}
        assert {p.name for p in (outputs / "geodem" / slug).iterdir()} == expected_files, slug


def test_inputs_and_outputs_on_s3_equal_a_local_run(tmp_path, baseline, s3, monkeypatch):
    bucket = s3.bucket("pipeline")
    s3.upload(baseline.census, f"s3://{bucket}/inputs/census")
    s3.upload(baseline.userdays, f"s3://{bucket}/inputs/userdays.csv")
    for var in ("GEODEM_WAREHOUSE", "GEODEM_HLL_DATABASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GEODEM_CENSUS_DIR", f"s3://{bucket}/inputs/census")
    monkeypatch.setenv("GEODEM_USERDAYS_CSV", f"s3://{bucket}/inputs/userdays.csv")
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", f"s3://{bucket}/out")
    monkeypatch.setenv("GEODEM_SCRATCH_DIR", str(tmp_path / "scratch"))
    remote = resources_from_env()
    assert isinstance(remote["warehouse"], ParquetWarehouse)
    # The regions on S3 are compared in test_no_shared_disk.py (two of them, run on two workers):
    # one region here as well would double the slowest part of this module.
    run_single_machine(make_defs(remote), dg.DagsterInstance.ephemeral(), [])

    got = tmp_path / "from_s3"
    s3.download(f"s3://{bucket}/out", got)
    assert_same_record(baseline, remote["warehouse"], got, [])
    assert remote["warehouse"].read("census_release_info")["source"].tolist() == [
        f"s3://{bucket}/inputs/census"
    ]
    # One object per range and table; nothing staged was left behind in the scratch folder.
    assert sorted(p.name for p in (got / "homeloc" / "user_home_country").iterdir()) == sorted(
        f"{k}.parquet" for k in KEYS
    )
    assert [
        p for p in (tmp_path / "scratch").rglob("*") if p.is_file() and p.suffix in (".parquet", ".html")
    ] == []


def test_a_rerun_on_s3_replaces_each_partitions_objects(tmp_path, baseline, s3, monkeypatch):
    bucket = s3.bucket("rerun")
    s3.upload(baseline.userdays, f"s3://{bucket}/inputs/userdays.csv")
    monkeypatch.delenv("GEODEM_WAREHOUSE", raising=False)
    monkeypatch.delenv("GEODEM_HLL_DATABASE_URL", raising=False)
    monkeypatch.setenv("GEODEM_USERDAYS_CSV", f"s3://{bucket}/inputs/userdays.csv")
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", f"s3://{bucket}/out")
    monkeypatch.setenv("GEODEM_SCRATCH_DIR", str(tmp_path / "scratch"))
    resources = resources_from_env()
    defs, instance = make_defs(resources), dg.DagsterInstance.ephemeral()
    key = KEYS[3]
    assert run(defs, "homeloc_range_job", instance, key).success
    first = s3.keys(f"s3://{bucket}/out")
    home = resources["warehouse"].read("user_home_country", "user_range", key)
    assert run(defs, "homeloc_range_job", instance, key).success
    assert s3.keys(f"s3://{bucket}/out") == first
    pd.testing.assert_frame_equal(resources["warehouse"].read("user_home_country", "user_range", key), home)
    assert f"warehouse/user_home_country/user_range={key}.parquet" in first
    assert f"homeloc/user_home_country/{key}.parquet" in first


def test_a_duckdb_file_with_outputs_in_an_object_store_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", "s3://bucket/out")
    monkeypatch.setenv("GEODEM_WAREHOUSE", str(tmp_path / "w.duckdb"))
    with pytest.raises(ValueError, match="cannot be shared"):
        resources_from_env()
