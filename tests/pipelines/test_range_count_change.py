"""Changing GEODEM_USER_RANGES on one warehouse never counts a user twice; stale ranges are named and pruned.

Each range count runs in its own process (`geodem materialize homeloc --all`), as a user
changing the environment variable would run it: the partitions definition is read at import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from homeloc_assets.stale_ranges import RANGE_FOLDERS, RANGE_TABLES, find_stale, prune_stale
from partitions.definitions import user_range_partitions
from partitions.user_ranges import partition_keys
from resources.warehouse import Warehouse
from sample_data.userdays import write_sample_userdays
from tests.pipelines.harness import make_defs, make_resources, run

ROOT = Path(__file__).resolve().parents[2]
N_USERS = 50


def _geodem(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "geodem_cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _summary_metadata(home: Path) -> dict:
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("locals_tourists_summary"))
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ranges")
    userdays = tmp / "userdays.csv"
    write_sample_userdays(userdays, N_USERS, seed=11)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "GEODEM_OUTPUT_DIR": str(tmp / "out"),
        "GEODEM_WAREHOUSE": str(tmp / "warehouse.duckdb"),
        "GEODEM_USERDAYS_CSV": str(userdays),
    }
    env.pop("GEODEM_HLL_DATABASE_URL", None)
    (tmp / "dagster_home").mkdir()
    users = set(pd.read_csv(tmp / "userdays_truth.csv")["user_guid"])
    return tmp, env, users


def _assert_each_user_once(tmp: Path, users: set[str], meta: dict) -> None:
    for name in ("user_home_country", "user_classification"):
        combined = pd.read_parquet(tmp / "out" / "homeloc" / f"{name}.parquet")
        assert len(combined) == len(users), name
        assert set(combined["user_guid"]) == users and combined["user_guid"].is_unique, name
    assert meta["users"] == len(users)
    assert meta["locals"] + meta["tourists"] + meta["unclassified"] == len(users)


def test_two_then_four_then_sixteen_ranges_count_every_user_once(project):
    tmp, env, users = project
    stale_so_far: list[str] = []
    for n in (2, 4, 16):
        _geodem({**env, "GEODEM_USER_RANGES": str(n)}, "materialize", "homeloc", "--all")
        meta = _summary_metadata(tmp / "dagster_home")
        _assert_each_user_once(tmp, users, meta)
        assert meta["ranges_included"] == meta["ranges_expected"] == n
        assert meta["range_count_changed"] is (n != 2)
        assert meta["stale_ranges"] == sorted(stale_so_far), n
        stale_so_far += partition_keys(n)
    # The warehouse still holds every run's rows: three times the users, until pruned.
    wh = Warehouse(path=str(tmp / "warehouse.duckdb"))
    assert len(wh.read("user_home_country")) == 3 * len(users)

    listed = _geodem({**env, "GEODEM_USER_RANGES": "16"}, "homeloc", "prune-stale", "--dry-run")
    assert "stale user ranges (6): 0-3, 0-7, 4-7, 8-b, 8-f, c-f" in listed
    assert len(wh.read("user_home_country")) == 3 * len(users)  # a dry run deletes nothing

    _geodem({**env, "GEODEM_USER_RANGES": "16"}, "homeloc", "prune-stale")
    current = partition_keys(16)
    for table in RANGE_TABLES:
        if wh.has_table(table):
            assert set(wh.read(table)["user_range"]) <= set(current), table
    assert wh.read("user_home_country")["user_guid"].is_unique
    assert set(wh.read("user_home_country")["user_guid"]) == users
    for name in RANGE_FOLDERS:
        files = {p.stem for p in (tmp / "out" / "homeloc" / name).glob("*.parquet")}
        assert files == set(current), name
    assert not find_stale(wh, tmp / "out" / "homeloc", current).keys


def test_prune_never_touches_current_ranges(tmp_path):
    wh = Warehouse(path=str(tmp_path / "wh.duckdb"))
    frame = pd.DataFrame({"user_guid": ["a", "b"], "status": ["classified", "tie"]})
    for key in ("0-7", "8-f", "0-3", "4-7", "8-b", "c-f"):
        wh.replace_partition("user_home_country", "user_range", key, frame)
    folder = tmp_path / "homeloc" / "user_home_country"
    folder.mkdir(parents=True)
    for key in ("0-7", "0-3", "4-7", "8-b", "c-f"):
        frame.to_parquet(folder / f"{key}.parquet")
    current = partition_keys(4)

    stale = find_stale(wh, tmp_path / "homeloc", current)
    assert stale.keys == ["0-7", "8-f"] and stale.range_count_changed
    assert stale.in_tables == {"user_home_country": ["0-7", "8-f"]}
    assert stale.in_folders == {"user_home_country": ["0-7"]}

    removed = prune_stale(wh, tmp_path / "homeloc", current)
    assert removed == {"table user_home_country": 4, "folder user_home_country": 1}
    assert sorted(wh.distinct("user_home_country", "user_range")) == sorted(current)
    assert len(wh.read("user_home_country")) == 2 * len(current)
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted(current)
    assert prune_stale(wh, tmp_path / "homeloc", current) == {}


def test_counts_and_exports_keep_only_the_given_keys(tmp_path):
    wh = Warehouse(path=str(tmp_path / "wh.duckdb"))
    wh.replace_partition("t", "user_range", "0-7", pd.DataFrame({"user_guid": ["a", "b"], "c": ["x", "y"]}))
    wh.replace_partition("t", "user_range", "0-3", pd.DataFrame({"user_guid": ["a"], "c": ["x"]}))
    counts = wh.counts("t", ["c"], only=("user_range", ["0-3"]))
    assert counts.set_index("c")["n"].to_dict() == {"x": 1}
    assert (
        wh.export_parquet(
            "t",
            tmp_path / "t.parquet",
            order_by="user_guid",
            exclude="user_range",
            only=("user_range", ["0-7"]),
        )
        == 2
    )
    assert pd.read_parquet(tmp_path / "t.parquet")["user_guid"].tolist() == ["a", "b"]
    assert wh.export_parquet("t", tmp_path / "all.parquet", order_by="user_guid") == 3


def test_summary_names_stale_ranges_and_prunes_them_when_configured(tmp_path):
    resources = make_resources(tmp_path)
    defs = make_defs(resources)
    wh: Warehouse = resources["warehouse"]
    current = user_range_partitions.get_partition_keys()
    homes = pd.DataFrame(
        {"user_guid": ["0a", "0b"], "home_country": ["Germany", "France"], "status": "classified"}
    )
    classes = homes.assign(classification=["Local", "Tourist"])
    for key in (current[0], "0-7"):  # "0-7": a range of a 2-range definition, holding the same users
        wh.replace_partition("user_home_country", "user_range", key, homes)
        wh.replace_partition("user_classification", "user_range", key, classes)
    instance = dg.DagsterInstance.ephemeral()

    result = run(defs, "homeloc_summary_job", instance)
    assert result.success
    meta = result.asset_materializations_for_node("locals_tourists_summary")[0].metadata
    assert meta["users"].value == 2 and meta["locals"].value == 1 and meta["tourists"].value == 1
    assert meta["stale_ranges"].value == ["0-7"] and meta["range_count_changed"].value is True
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert len(pd.read_parquet(tmp_path / "out" / "homeloc" / "user_home_country.parquet")) == 2

    prune = {"ops": {"locals_tourists_summary": {"config": {"prune_stale_ranges": True}}}}
    result = run(defs, "homeloc_summary_job", instance, run_config=prune)
    meta = result.asset_materializations_for_node("locals_tourists_summary")[0].metadata
    assert meta["stale_ranges"].value == [] and meta["range_count_changed"].value is False
    assert meta["stale_ranges_pruned"].value == {"table user_home_country": 2, "table user_classification": 2}
    assert wh.distinct("user_home_country", "user_range") == [current[0]]
    assert result.get_asset_check_evaluations()[0].passed
