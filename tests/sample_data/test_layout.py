"""The written release has the distributed files, names, columns, types and CRS."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from geodem_assets.variables import PERCENTAGE, codes_of_kind
from sample_data.census import LOOKUP, VARIABLES, oac_subgroup_centres

INPUT_FILES = {
    "uk_census_data.parquet",
    "census_variable_lookup.csv",
    "OA_2021_22_Boundaries.gpkg",
    "oa_pop_data.csv",
}


def _lad_file(folder):
    (path,) = sorted((folder / "input_data").glob("Local_Authority_Districts_*.gpkg"))
    return path


def test_release_has_the_distributed_files_and_the_truth_outside_them(lcr_release):
    summary, out = lcr_release
    names = {p.name for p in (out / "input_data").iterdir()}
    assert names >= INPUT_FILES
    assert len(names - INPUT_FILES) == 1
    assert re.fullmatch(r"Local_Authority_Districts_December_2022_UK_BGC_V2_\w+\.gpkg", _lad_file(out).name)
    assert {p.name for p in out.iterdir()} == {"input_data", "planted_truth.csv", "SAMPLE_README.txt"}
    readme = (out / "SAMPLE_README.txt").read_text()
    assert "SYNTHETIC" in readme and "seed 5" in readme
    assert summary.oas == 1577 and summary.lads == 6 and summary.regions == ("liverpool-city-region",)


def test_census_table_has_58_float_columns_indexed_by_oa(lcr_release):
    _, out = lcr_release
    df = pd.read_parquet(out / "input_data" / "uk_census_data.parquet")
    assert df.index.name == "OA"
    assert all(isinstance(oa, str) for oa in df.index)
    assert list(df.columns) == list(VARIABLES) and len(df.columns) == 58
    assert "v40" not in df.columns and "v41" not in df.columns
    assert (df.dtypes == np.float64).all()
    assert np.abs(df.to_numpy() * 100 - np.round(df.to_numpy() * 100)).max() < 1e-6
    # Percentages lie in 0-100; the density (v01) and the SIR ratio (v42) are unbounded above.
    pct = df[list(codes_of_kind(PERCENTAGE))]
    assert pct.min().min() >= 0 and pct.max().max() <= 100 and pct.shape[1] == 56
    assert (df[["v01", "v42"]] >= 0).all().all() and (df["v42"] > 100).any()
    assert df.notna().all().all() and df.index.is_unique


def test_density_is_population_over_polygon_area(lcr_release):
    _, out = lcr_release
    df = pd.read_parquet(out / "input_data" / "uk_census_data.parquet")
    oa = gpd.read_file(out / "input_data" / "OA_2021_22_Boundaries.gpkg").set_index("OA")
    pop = pd.read_csv(out / "input_data" / "oa_pop_data.csv", dtype={"OA": str}).set_index("OA")["uk001001"]
    expected = pop[df.index] / (oa.geometry[df.index].area / 1e6)
    assert np.allclose(df["v01"], expected, rtol=1e-6, atol=0.006)


def test_lookup_is_the_reference_copy(lcr_release):
    _, out = lcr_release
    assert (out / "input_data" / "census_variable_lookup.csv").read_bytes() == LOOKUP.read_bytes()


def test_boundaries_are_in_british_national_grid_with_the_real_columns(lcr_release):
    _, out = lcr_release
    oa = gpd.read_file(out / "input_data" / "OA_2021_22_Boundaries.gpkg")
    lad = gpd.read_file(_lad_file(out))
    assert list(oa.columns) == ["OA", "geometry"] and oa.crs.to_epsg() == 27700
    assert list(lad.columns) == ["LAD22CD", "LAD22NM", "geometry"] and lad.crs.to_epsg() == 27700
    assert dict(zip(lad.LAD22CD, lad.LAD22NM)) == {
        "E06000006": "Halton",
        "E08000011": "Knowsley",
        "E08000012": "Liverpool",
        "E08000013": "St. Helens",
        "E08000014": "Sefton",
        "E08000015": "Wirral",
    }
    # Liverpool sits near its real place: about 334,000 E, 390,000 N.
    liverpool = lad.set_index("LAD22CD").geometry["E08000012"].centroid
    assert abs(liverpool.x - 336_000) < 15_000 and abs(liverpool.y - 391_000) < 15_000


def test_population_file_has_integer_residents_for_every_oa(lcr_release):
    _, out = lcr_release
    pop = pd.read_csv(out / "input_data" / "oa_pop_data.csv", dtype={"OA": str})
    df = pd.read_parquet(out / "input_data" / "uk_census_data.parquet")
    assert list(pop.columns) == ["OA", "uk001001"]
    assert pd.api.types.is_integer_dtype(pop["uk001001"])
    assert pop["uk001001"].between(100, 600).all()
    assert list(pop["OA"]) == list(df.index)


def test_planted_truth_names_every_oa_with_oac_codes(lcr_release):
    _, out = lcr_release
    truth = pd.read_csv(out / "planted_truth.csv", dtype=str)
    df = pd.read_parquet(out / "input_data" / "uk_census_data.parquet")
    assert list(truth.columns) == ["OA", "LAD22CD", "planted_supergroup", "planted_group", "planted_subgroup"]
    assert list(truth["OA"]) == list(df.index)
    assert truth["planted_subgroup"].isin(oac_subgroup_centres().index).all()
    assert (
        truth.apply(
            lambda r: (
                r.planted_subgroup.startswith(r.planted_group)
                and r.planted_group.startswith(r.planted_supergroup)
            ),
            axis=1,
        )
    ).all()


def test_the_platform_reads_the_release_without_problems(lcr_release):
    from geodem_assets.census import read_release
    from geodem_assets.geography import assign_lads
    from resources.census_files import locate_release

    _, out = lcr_release
    release = read_release(locate_release(out))
    assert release.problems == []
    assigned = assign_lads(release.oa, release.lad)
    truth = pd.read_csv(out / "planted_truth.csv", dtype=str)
    merged = assigned.merge(truth, on="OA", suffixes=("", "_planted"))
    assert (merged["LAD22CD"] == merged["LAD22CD_planted"]).all() and len(merged) == len(truth)
