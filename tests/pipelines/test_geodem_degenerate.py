"""Degenerate census data through the Dagster assets: a named failure, or (when the run config
asks for it) a lowered k said in the metadata, and never an empty cluster in the outputs."""

import dagster as dg
import pandas as pd
import pytest

from sample_data.census import write_sample_census
from tests.pipelines.harness import CENSUS_REGION as REGION
from tests.pipelines.harness import make_defs, make_resources, run

UP_TO_SUBGROUPS = {
    dg.AssetKey(a) for a in ("region_output_areas", "region_census", "region_matrix", "cluster_diagnostics")
} | {dg.AssetKey("supergroups"), dg.AssetKey("subgroups")}


def census_with(tmp, rewrite, **sample):
    """A sample release of the region whose variables `rewrite` replaces; ingested."""
    census = tmp / "census"
    write_sample_census(census, regions=[REGION], noise=0.02, **sample)
    path = census / "input_data" / "uk_census_data.parquet"
    rewrite(pd.read_parquet(path)).to_parquet(path)
    resources = make_resources(tmp, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    return defs, instance, resources


def three_profiles(df):
    """Every OA takes one of three distinct profiles (one OA of each planted type, in turn)."""
    firsts = df.iloc[[0, len(df) // 2, len(df) - 1]].to_numpy()
    return pd.DataFrame(firsts[[i % 3 for i in range(len(df))]], index=df.index, columns=df.columns)


def identical_block(df):
    """300 OAs share one profile (each variable at its maximum), far from all other OAs."""
    out = df.copy()
    out.iloc[:300] = df.max().to_numpy()
    return out


def failure(result, node):
    return result.failure_data_for_node(node).error.message


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    return census_with(
        tmp_path_factory.mktemp("three"), three_profiles, seed=5, scale=0.05, supergroups=[1, 3, 5]
    )


def test_k_above_distinct_profiles_fails_naming_region_level_k_and_rows(three):
    defs, instance, _ = three
    job = defs.resolve_job_def("geodem_region_job").get_subset(asset_selection=UP_TO_SUBGROUPS)
    config = {"ops": {"supergroups": {"config": {"k": 5, "n_init": 4}}}}
    result = job.execute_in_process(
        instance=instance, partition_key=REGION, run_config=config, raise_on_error=False
    )
    assert not result.success
    # The clustergram fits k = 1..3 and says why 4..9 are missing, instead of an IndexError.
    diag = result.asset_materializations_for_node("cluster_diagnostics")[0].metadata
    assert diag["skipped_k"].value == [4, 5, 6, 7, 8, 9]
    assert "only 3 distinct rows" in diag["skipped_because"].value
    assert diag["suggested_k"].value <= 3
    message = failure(result, "supergroups")
    for words in (f"region {REGION}", "supergroups", "k=5 asked", "only 3 distinct rows", "lower_k"):
        assert words in message, (words, message)


def test_lower_k_fits_the_distinct_profiles_and_says_so(three):
    defs, instance, resources = three
    job = defs.resolve_job_def("geodem_region_job").get_subset(asset_selection=UP_TO_SUBGROUPS)
    config = {
        "ops": {
            "supergroups": {"config": {"k": 5, "n_init": 4, "on_too_few_distinct": "lower_k"}},
            "subgroups": {"config": {"subgroups": [1, 1, 1], "n_init": 4}},
        }
    }
    result = job.execute_in_process(instance=instance, partition_key=REGION, run_config=config)
    assert result.success
    meta = result.asset_materializations_for_node("supergroups")[0].metadata
    assert (meta["k"].value, meta["k_asked"].value) == (3, 5)
    assert meta["k_lowered"].value == "k lowered from 5 to 3: only 3 distinct rows"
    codes = resources["warehouse"].read("supergroups", "region", REGION)["supergroup"]
    assert sorted(codes.unique()) == ["A", "B", "C"]


def test_identical_supergroup_subgroups_fail_then_lower_k_keeps_every_output_consistent(tmp_path):
    defs, instance, resources = census_with(tmp_path, identical_block, seed=6, scale=0.1, supergroups=[3])
    ask = {"supergroups": {"config": {"k": 2, "n_init": 4}}}
    failed = run(
        defs,
        "geodem_region_job",
        instance,
        REGION,
        {"ops": {**ask, "subgroups": {"config": {"subgroups": [2, 2], "n_init": 4}}}},
    )
    assert not failed.success
    message = failure(failed, "subgroups")
    for words in (
        f"region {REGION}",
        "subgroups of supergroup A",
        "k=2 asked",
        "300 rows hold only 1 distinct",
    ):
        assert words in message, (words, message)

    lowered = {"subgroups": {"config": {"subgroups": [2, 2], "n_init": 4, "on_too_few_distinct": "lower_k"}}}
    result = run(defs, "geodem_region_job", instance, REGION, {"ops": {**ask, **lowered}})
    assert result.success
    meta = result.asset_materializations_for_node("subgroups")[0].metadata
    assert meta["counts"].value == {"A": 1, "B": 2} and meta["counts_asked"].value == {"A": 2, "B": 2}
    assert meta["counts_lowered"].value == {"A": "k lowered from 2 to 1: only 1 distinct rows"}
    wh = resources["warehouse"]
    expected = ["A1", "B1", "B2"]
    assert sorted(wh.read("subgroup_codes", "region", REGION)["subgroup"]) == expected
    table = pd.read_parquet(tmp_path / "out" / "geodem" / REGION / "classification.parquet")
    assert sorted(table["subgroup"].unique()) == expected
    assert (table[table["subgroup"] == "A1"].shape[0]) == 300
    profiles = wh.read("cluster_profiles", "region", REGION)
    assert sorted(profiles[profiles["level"] == "subgroup"]["cluster"]) == expected
    names = wh.read("cluster_names", "region", REGION)
    assert sorted(names[names["level"] == "subgroup"]["cluster"]) == expected
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["subgroups_not_tiny"] and checks["supergroups_not_tiny"]
