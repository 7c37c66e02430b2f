"""Mutated census releases the bad-input pipeline tests do not cover: each fails with a message naming the file."""

from __future__ import annotations

import shutil

import dagster as dg
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon

from geodem_assets.census import read_release
from resources.census_files import CensusError, ReleaseFiles, locate_release
from sample_data.census import write_sample_census
from tests.pipelines.harness import make_defs, make_resources, run

REGION = "liverpool-city-region"


@pytest.fixture(scope="module")
def good_census(tmp_path_factory):
    path = tmp_path_factory.mktemp("census") / "census"
    write_sample_census(path, regions=[REGION], seed=6, scale=0.05)
    return path


def lad_without_code(f: ReleaseFiles) -> None:
    gpd.read_file(f.lad_boundaries).drop(columns="LAD22CD").to_file(f.lad_boundaries, driver="GPKG")


def census_without_oa_index(f: ReleaseFiles) -> None:
    pd.read_parquet(f.census).reset_index(drop=True).to_parquet(f.census)


def census_truncated(f: ReleaseFiles) -> None:
    data = f.census.read_bytes()
    f.census.write_bytes(data[: len(data) // 2])


def oa_empty_polygon(f: ReleaseFiles) -> None:
    oa = gpd.read_file(f.oa_boundaries)
    oa.loc[3, "geometry"] = Polygon()
    oa.to_file(f.oa_boundaries, driver="GPKG")


def oa_null_geometry(f: ReleaseFiles) -> None:
    oa = gpd.read_file(f.oa_boundaries)
    oa.loc[5, "geometry"] = None
    oa.to_file(f.oa_boundaries, driver="GPKG")


def oa_without_crs(f: ReleaseFiles) -> None:
    gpd.read_file(f.oa_boundaries).set_crs(None, allow_override=True).to_file(f.oa_boundaries, driver="GPKG")


def population_without_counts(f: ReleaseFiles) -> None:
    pd.read_csv(f.population, dtype={"OA": str})[["OA"]].to_csv(f.population, index=False)


def failure_message(files: ReleaseFiles) -> str:
    """What read_release says about a bad release: its CensusError, or its list of problems."""
    try:
        release = read_release(files)
    except CensusError as exc:
        return str(exc)
    assert release.problems, "the mutated release was read without a problem"
    return "\n".join(release.problems)


@pytest.mark.parametrize("mutate, file_attr, words", [
    (lad_without_code, "lad_boundaries", ["no LAD22CD column"]),
    (census_without_oa_index, "census", ["no OA index or column"]),
    (census_truncated, "census", ["cannot read as Parquet"]),
    (oa_empty_polygon, "oa_boundaries", ["empty geometry"]),
    (oa_null_geometry, "oa_boundaries", ["empty geometry"]),
    (oa_without_crs, "oa_boundaries", ["EPSG:27700"]),
    (population_without_counts, "population", ["uk001001"]),
], ids=lambda v: getattr(v, "__name__", None))
def test_mutated_release_fails_naming_the_file(tmp_path, good_census, mutate, file_attr, words):
    shutil.copytree(good_census, tmp_path / "census")
    files = locate_release(tmp_path / "census")
    mutate(files)
    message = failure_message(files)
    assert getattr(files, file_attr).name in message
    for w in words:
        assert w in message


def test_empty_oa_polygon_fails_census_release_and_keeps_the_previous_one(tmp_path, good_census):
    shutil.copytree(good_census, tmp_path / "census")
    resources = make_resources(tmp_path, census_dir=tmp_path / "census")
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    before = resources["warehouse"].read("census_release_info")
    files = locate_release(tmp_path / "census")
    oa_empty_polygon(files)
    oa_code = gpd.read_file(files.oa_boundaries, ignore_geometry=True)["OA"].iloc[3]
    result = run(defs, "census_release_job", instance)
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "OA_2021_22_Boundaries.gpkg" in message and oa_code in message and "empty geometry" in message
    pd.testing.assert_frame_equal(resources["warehouse"].read("census_release_info"), before)
