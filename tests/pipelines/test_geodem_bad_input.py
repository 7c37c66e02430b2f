"""Bad census input: a clear failure naming file, variable or OA; the previous release stays."""

import shutil

import dagster as dg
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geodem_cli.main import main as geodem_main
from resources.census_files import ReleaseFiles
from sample_data.census import write_sample_census
from tests.pipelines.harness import CENSUS_REGION as REGION
from tests.pipelines.harness import make_defs, make_resources, rerun_census_after, run, write_good_census


@pytest.fixture(scope="module")
def good_census(tmp_path_factory):
    return write_good_census(tmp_path_factory.mktemp("good") / "census", seed=4)


def drop_column(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.drop(columns="v05").to_parquet(f.census)


def extra_column(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.assign(v99=1.0).to_parquet(f.census)


def text_value(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df["v07"] = df["v07"].astype(str)
    df.iloc[3, df.columns.get_loc("v07")] = "n/a"
    df.to_parquet(f.census)


def negative_value(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.iloc[2, df.columns.get_loc("v20")] = -4.0
    df.to_parquet(f.census)


def nan_value(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.iloc[5, df.columns.get_loc("v33")] = np.nan
    df.to_parquet(f.census)


def duplicate_oa(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    pd.concat([df, df.iloc[[0]]]).to_parquet(f.census)


def percentage_over_100(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.iloc[4, df.columns.get_loc("v36")] = 104.5
    df.to_parquet(f.census)


def sir_negative(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.iloc[6, df.columns.get_loc("v42")] = -1.0
    df.to_parquet(f.census)


def empty_table(f: ReleaseFiles):
    df = pd.read_parquet(f.census)
    df.iloc[:0].to_parquet(f.census)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (drop_column, ["uk_census_data.parquet", "missing variables v05"]),
        (extra_column, ["unexpected columns v99"]),
        (text_value, ["v07 is not numeric"]),
        (negative_value, ["v20", "negative"]),
        (nan_value, ["v33", "missing values"]),
        (duplicate_oa, ["duplicate OA codes"]),
        (percentage_over_100, ["uk_census_data.parquet", "percentage variable v36", "above 100"]),
        (sir_negative, ["uk_census_data.parquet", "ratio variable v42 (SIR)", "negative"]),
        (empty_table, ["no Output Areas"]),
    ],
)
def test_bad_census_fails_naming_the_problem_and_keeps_previous_release(tmp_path, good_census, mutate, words):
    rerun_census_after(tmp_path, good_census, mutate).assert_rejected(*words)


def test_percentage_over_100_names_the_oa(tmp_path, good_census):
    outcome = rerun_census_after(tmp_path, good_census, percentage_over_100)
    oa = pd.read_parquet(outcome.files.census).index[4]
    outcome.assert_rejected("uk_census_data.parquet", "v36", oa)


def sir_like_the_real_release(f: ReleaseFiles):
    """v42 is a ratio: 0, 100 and far above 100 are all real values."""
    df = pd.read_parquet(f.census)
    col = df.columns.get_loc("v42")
    df.iloc[0, col], df.iloc[1, col], df.iloc[2, col] = 0.0, 100.0, 450.0
    df.iloc[3:, col] = np.linspace(60.0, 380.0, len(df) - 3)
    df.to_parquet(f.census)


def oa_without_geometry(f: ReleaseFiles):
    g = gpd.read_file(f.oa_boundaries)
    g.iloc[1:].to_file(f.oa_boundaries, driver="GPKG")


def test_sir_above_100_is_ingested(tmp_path, good_census):
    outcome = rerun_census_after(tmp_path, good_census, sir_like_the_real_release)
    assert outcome.result.success, outcome.message
    v42 = outcome.resources["warehouse"].read("census_variables").set_index("OA")["v42"]
    assert v42.iloc[:3].tolist() == [0.0, 100.0, 450.0] and (v42 > 100).mean() > 0.5


def test_census_row_without_a_boundary_is_left_out_not_rejected(tmp_path, good_census):
    outcome = rerun_census_after(tmp_path, good_census, oa_without_geometry)
    assert outcome.result.success, outcome.message
    dropped = pd.read_parquet(outcome.files.census).index.difference(
        gpd.read_file(outcome.files.oa_boundaries, ignore_geometry=True)["OA"]
    )
    assert len(dropped) == 1
    warehouse = outcome.resources["warehouse"]
    assert warehouse.read("census_unmatched_oas")[["OA", "reason"]].values.tolist() == [
        [dropped[0], "census row without boundary"]
    ]
    assert dropped[0] not in set(warehouse.read("census_variables")["OA"])
    assert outcome.after["n_oas"].iloc[0] == outcome.before["n_oas"].iloc[0] - 1


def test_region_too_small_for_its_clustering_is_blocked_before_kmeans(tmp_path):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], seed=5, scale=0.01)
    resources = make_resources(tmp_path, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    result = run(
        defs,
        "geodem_region_job",
        instance,
        REGION,
        {"ops": {"cluster_diagnostics": {"config": {"n_init": 2}}}},
    )
    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "region_size_vs_k")
    assert not check.passed and "needed" in check.description
    done = {
        m.asset_key.to_user_string()
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }
    assert "supergroups" not in done and "region_matrix" not in done


def test_unknown_region_on_the_command_line_names_known_regions(capsys):
    code = geodem_main(["materialize", "geodem", "--region", "atlantis"])
    assert code == 2
    assert "liverpool-city-region" in capsys.readouterr().err


def test_bad_population_counts_are_named(tmp_path, good_census):
    from geodem_assets.census import read_release
    from resources.census_files import locate_release

    census = tmp_path / "census"
    shutil.copytree(good_census, census)
    pop = census / "input_data" / "oa_pop_data.csv"
    df = pd.read_csv(pop, dtype=str)
    df.loc[2, "uk001001"] = "lots"
    df.to_csv(pop, index=False)
    problems = read_release(locate_release(census)).problems
    assert any("oa_pop_data.csv" in p and "uk001001" in p and df.loc[2, "OA"] in p for p in problems)
