"""The home-location assets on a generated userday file: reconciliation, idempotence, backends, backfill."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from homeloc_assets.countries import assign_countries, load_countries
from homeloc_assets.inference import infer_home
from homeloc_assets.reader import read_range
from partitions.definitions import user_range_partitions
from resources.hll_backends import EmbeddedHLLBackend
from resources.hll_resource import PostgresHLLResource
from resources.warehouse import Warehouse
from sample_data.userdays import write_sample_userdays
from tests.pipelines.harness import make_defs, make_resources, run

KEYS = user_range_partitions.get_partition_keys()


@pytest.fixture(scope="module")
def userdays_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("userdays") / "userdays.csv"
    write_sample_userdays(path, 2500, seed=3, n_bad_rows=25)
    return path


def run_all(defs, instance, keys=KEYS):
    for key in keys:
        result = run(defs, "homeloc_range_job", instance, key)
        assert result.success, f"range {key} failed"
    assert run(defs, "homeloc_summary_job", instance).success


def test_every_line_is_a_row_or_quarantined_and_summary_covers_all_ranges(tmp_path, userdays_file):
    resources = make_resources(tmp_path, userdays=userdays_file)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    run_all(defs, instance)
    wh: Warehouse = resources["warehouse"]
    stats = wh.read("user_locations_stats")
    n_lines = sum(1 for _ in open(userdays_file, "rb")) - 1
    assert stats["n_lines"].sum() == n_lines
    assert (stats["n_lines"] == stats["n_rows"] + stats["n_quarantined"]).all()
    quarantine = wh.read("userday_quarantine")
    assert len(quarantine) == 25 and quarantine["line_number"].is_unique
    home = pd.read_parquet(tmp_path / "out" / "homeloc" / "user_home_country.parquet")
    truth = pd.read_csv(str(userdays_file).replace(".csv", "_truth.csv"))
    assert set(home["user_guid"]) == set(truth["user_guid"])
    assert home["user_guid"].is_unique
    summary = instance.get_latest_materialization_event(
        dg.AssetKey("locals_tourists_summary")
    ).asset_materialization
    assert summary.metadata["ranges_included"].value == len(KEYS)
    # Each range's check results belong to that range in the UI.
    for asset, check in [
        ("user_locations", "quarantine_rate_below_threshold"),
        ("user_country_userdays", "userday_totals_consistent"),
    ]:
        records = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(asset), check), limit=100
        )
        partitions = sorted(r.event.dagster_event.event_specific_data.partition for r in records)
        assert partitions == sorted(KEYS), (check, partitions)


def test_rerun_of_partition_replaces_rows(tmp_path, userdays_file):
    resources = make_resources(tmp_path, userdays=userdays_file)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    key = KEYS[3]
    assert run(defs, "homeloc_range_job", instance, key).success
    first = resources["warehouse"].read("user_home_country").sort_values("user_guid").reset_index(drop=True)
    assert run(defs, "homeloc_range_job", instance, key).success
    second = resources["warehouse"].read("user_home_country").sort_values("user_guid").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, second)
    assert len(resources["warehouse"].read("userday_quarantine", "user_range", key)) == len(
        resources["warehouse"].read("userday_quarantine")[lambda d: d["user_range"] == key]
    )


def test_backfill_of_all_ranges_equals_one_run_over_the_whole_file(tmp_path, userdays_file):
    resources = make_resources(tmp_path, userdays=userdays_file)
    run_all(make_defs(resources), dg.DagsterInstance.ephemeral())
    combined = pd.read_parquet(tmp_path / "out" / "homeloc" / "user_home_country.parquet").reset_index(
        drop=True
    )

    whole = read_range(userdays_file, None, None)
    rows = whole.rows
    country, _ = assign_countries(rows["latitude"], rows["longitude"], load_countries())
    rows = rows.assign(country=country)
    located = rows[rows["country"].notna()]
    per_country, per_user = EmbeddedHLLBackend().aggregate(located[["user_guid", "country", "userday_hll"]])
    expected = infer_home(per_country, per_user, set(rows["user_guid"]) - set(per_user["user_guid"]))
    expected = expected.sort_values("user_guid").reset_index(drop=True)
    # Compare through the same Parquet round trip the combined file took (missing text -> NA).
    expected.to_parquet(tmp_path / "expected.parquet", index=False)
    expected = pd.read_parquet(tmp_path / "expected.parquet")
    assert len(combined) == len(expected) == combined["user_guid"].nunique()
    # DuckDB writes a nullable integer column without pandas' dtype note: read back as float64.
    expected["total_userdays_rounded"] = expected["total_userdays_rounded"].astype(
        combined["total_userdays_rounded"].dtype
    )
    pd.testing.assert_frame_equal(combined[expected.columns], expected)


def test_argmax_rule_from_run_config_never_ties(tmp_path, userdays_file):
    resources = make_resources(tmp_path, userdays=userdays_file)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    key = KEYS[5]
    assert run(defs, "homeloc_range_job", instance, key).success
    default = resources["warehouse"].read("user_home_country", "user_range", key)
    argmax = {"ops": {"user_home_country": {"config": {"rule": "argmax", "min_userdays": 0.0}}}}
    assert run(defs, "homeloc_range_job", instance, key, run_config=argmax).success
    reference = resources["warehouse"].read("user_home_country", "user_range", key)
    assert "tie" not in set(reference["status"]) and "insufficient_evidence" not in set(reference["status"])
    assert (reference["status"] == "classified").sum() == (default["status"] != "no_country").sum()
    # Same homes and confidences either way: the rule only decides the status.
    pd.testing.assert_frame_equal(
        default.sort_values("user_guid", ignore_index=True)[["user_guid", "home_country", "confidence"]],
        reference.sort_values("user_guid", ignore_index=True)[["user_guid", "home_country", "confidence"]],
    )
    classified = default[default["status"] == "classified"]
    assert (classified["confidence"] >= 0.95).all()
    schema = defs.resolve_assets_def("user_home_country").specs_by_key[dg.AssetKey("user_home_country")]
    columns = [c.name for c in schema.metadata["dagster/column_schema"].columns]
    assert columns == list(default.columns.drop("user_range"))


@pytest.mark.postgres
def test_postgres_and_embedded_backends_give_identical_homes(tmp_path, userdays_file, hll_database_url):
    keys = KEYS[:4]
    homes = []
    for name, hll in (("embedded", None), ("postgres", PostgresHLLResource(database_url=hll_database_url))):
        resources = make_resources(tmp_path / name, userdays=userdays_file, hll=hll)
        defs = make_defs(resources)
        instance = dg.DagsterInstance.ephemeral()
        for key in keys:
            assert run(defs, "homeloc_range_job", instance, key).success
        homes.append(
            resources["warehouse"].read("user_home_country").sort_values("user_guid").reset_index(drop=True)
        )
    pd.testing.assert_frame_equal(homes[0], homes[1])
    assert len(homes[0]) > 100


def test_every_home_location_asset_describes_its_columns_and_where_it_wrote(tmp_path, userdays_file):
    resources = make_resources(tmp_path, userdays=userdays_file)
    instance = dg.DagsterInstance.ephemeral()
    run_all(make_defs(resources), instance, keys=KEYS[:1])
    for asset in ["user_locations", "user_country_userdays", "user_home_country", "user_classification"]:
        meta = instance.get_latest_materialization_event(dg.AssetKey(asset)).asset_materialization.metadata
        columns = meta["dagster/column_schema"].schema.columns
        assert columns and all(c.description for c in columns), asset
        assert meta["dagster/uri"].value.startswith("file://"), asset
        assert meta["dagster/uri"].value.endswith(f"/{asset}/{KEYS[0]}.parquet"), asset
    summary = instance.get_latest_materialization_event(dg.AssetKey("locals_tourists_summary"))
    assert summary.asset_materialization.metadata["dagster/uri"].value.endswith("/user_home_country.parquet")
