"""Mutated census releases the bad-input pipeline tests do not cover: each fails with a message naming the file."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon

from geodem_assets.census import read_release
from resources.census_files import ReleaseFiles, locate_release
from tests.pipelines.harness import rerun_census_after, write_good_census


@pytest.fixture(scope="module")
def good_census(tmp_path_factory):
    return write_good_census(tmp_path_factory.mktemp("census") / "census", seed=6)


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


def first_half(attr: str):
    """A mutation keeping the first half of the bytes of one release file (a cut-off copy)."""

    def cut(f: ReleaseFiles) -> None:
        path = getattr(f, attr)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    cut.__name__ = f"{attr}_first_half"
    return cut


def lookup_ragged_row(f: ReleaseFiles) -> None:
    """Line 6 of the file gets five fields where the header has three."""
    lines = f.lookup.read_text(encoding="utf-8").split("\n")
    lines.insert(5, "v99,a name,a domain,an extra field,and another")
    f.lookup.write_text("\n".join(lines), encoding="utf-8")


def lookup_not_utf8(f: ReleaseFiles) -> None:
    lines = f.lookup.read_bytes().split(b"\n")
    lines[4] = lines[4] + b" \xff\xfe"
    f.lookup.write_bytes(b"\n".join(lines))


def lookup_unclosed_quote(f: ReleaseFiles) -> None:
    with open(f.lookup, "a", encoding="utf-8") as out:
        out.write('v98,"never closed,x\n')


def lookup_empty(f: ReleaseFiles) -> None:
    f.lookup.write_bytes(b"")


def population_binary(f: ReleaseFiles) -> None:
    f.population.write_bytes(bytes(range(256)) * 8)


def oa_not_a_geopackage(f: ReleaseFiles) -> None:
    f.oa_boundaries.write_text("OA,geometry\nE00000001,POINT (0 0)\n")


def failure_message(files: ReleaseFiles) -> str:
    """What read_release says about a bad release: its list of problems (it raises for none)."""
    release = read_release(files)
    assert release.problems, "the mutated release was read without a problem"
    return "\n".join(release.problems)


@pytest.mark.parametrize(
    "mutate, file_attr, words",
    [
        (lad_without_code, "lad_boundaries", ["no LAD22CD column"]),
        (census_without_oa_index, "census", ["no OA index or column"]),
        (census_truncated, "census", ["cannot read as Parquet"]),
        (oa_empty_polygon, "oa_boundaries", ["empty geometry"]),
        (oa_null_geometry, "oa_boundaries", ["empty geometry"]),
        (oa_without_crs, "oa_boundaries", ["EPSG:27700"]),
        (population_without_counts, "population", ["uk001001"]),
        (first_half("oa_boundaries"), "oa_boundaries", ["cannot open as a GeoPackage"]),
        (first_half("lad_boundaries"), "lad_boundaries", ["cannot open as a GeoPackage"]),
        (oa_not_a_geopackage, "oa_boundaries", ["cannot open as a GeoPackage", "not recognized"]),
        (lookup_ragged_row, "lookup", ["cannot read as CSV", "in line 6, saw 5"]),
        (lookup_not_utf8, "lookup", ["line 5: not UTF-8"]),
        (lookup_unclosed_quote, "lookup", ["cannot read as CSV", "EOF inside string"]),
        (lookup_empty, "lookup", ["the file is empty"]),
        (population_binary, "population", ["line 2: not UTF-8"]),  # byte 0x80 follows the LF at byte 10
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_mutated_release_fails_naming_the_file(tmp_path, good_census, mutate, file_attr, words):
    shutil.copytree(good_census, tmp_path / "census")
    files = locate_release(tmp_path / "census")
    mutate(files)
    message = failure_message(files)
    assert getattr(files, file_attr).name in message
    for w in words:
        assert w in message


def test_empty_oa_polygon_fails_census_release_and_keeps_the_previous_one(tmp_path, good_census):
    outcome = rerun_census_after(tmp_path, good_census, oa_empty_polygon)
    oa_code = gpd.read_file(outcome.files.oa_boundaries, ignore_geometry=True)["OA"].iloc[3]
    outcome.assert_rejected("OA_2021_22_Boundaries.gpkg", oa_code, "empty geometry")


@pytest.mark.parametrize(
    "mutate, words",
    [
        (first_half("oa_boundaries"), ["OA_2021_22_Boundaries.gpkg: cannot open as a GeoPackage"]),
        (lookup_ragged_row, ["census_variable_lookup.csv: cannot read as CSV", "in line 6, saw 5"]),
    ],
    ids=["truncated_gpkg", "unparsable_lookup"],
)
def test_unreadable_file_fails_census_release_listing_it_and_keeps_the_previous_one(
    tmp_path, good_census, mutate, words
):
    outcome = rerun_census_after(tmp_path, good_census, mutate)
    outcome.assert_rejected("problems:", *words)
    # Reported like every other release problem: the problems metadata lists it too.
    failure = outcome.result.get_step_failure_events()[0].step_failure_data
    assert words[0] in failure.user_failure_data.metadata["problems"].value


def test_every_unreadable_file_is_listed_at_once(tmp_path, good_census):
    shutil.copytree(good_census, tmp_path / "census")
    files = locate_release(tmp_path / "census")
    for cut in (first_half("oa_boundaries"), lookup_empty, population_binary):
        cut(files)
    problems = read_release(files).problems
    for name in (files.oa_boundaries.name, files.lookup.name, files.population.name):
        assert sum(p.startswith(name + ":") for p in problems) == 1, (name, problems)
