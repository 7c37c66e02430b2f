"""LADs and OAs tessellate without gaps or overlaps; OA sizes vary like real ones."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sample_data.census import catalogue_polygons
from sample_data.geometry import relaxed_partition, sample_in, voronoi_partition

L_SHAPE = shapely.Polygon([(0, 0), (1000, 0), (1000, 400), (400, 400), (400, 1000), (0, 1000)])


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=2, max_value=60), st.integers(min_value=0, max_value=2**32 - 1))
def test_voronoi_cells_tile_a_concave_region(n, seed):
    points = sample_in(L_SHAPE, n, np.random.default_rng(seed))
    cells = voronoi_partition(L_SHAPE, points)
    assert len(cells) == n
    assert shapely.contains_xy(cells, points[:, 0], points[:, 1]).all()
    assert abs(shapely.area(cells).sum() - L_SHAPE.area) / L_SHAPE.area < 1e-9
    assert shapely.symmetric_difference(shapely.union_all(cells), L_SHAPE).area / L_SHAPE.area < 1e-9


def test_relaxed_cells_still_tile_and_hold_their_seeds():
    points = sample_in(L_SHAPE, 80, np.random.default_rng(3), centre=(200, 200), sigma=150)
    moved, cells = relaxed_partition(L_SHAPE, points)
    assert shapely.contains_xy(cells, moved[:, 0], moved[:, 1]).all()
    assert abs(shapely.area(cells).sum() - L_SHAPE.area) / L_SHAPE.area < 1e-9


def test_duplicate_seeds_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        voronoi_partition(L_SHAPE, np.array([[10.0, 10.0], [10.0, 10.0], [50.0, 50.0]]))


def test_lads_of_the_whole_uk_do_not_overlap_and_hold_their_centroids():
    catalogue, polygons = catalogue_polygons()
    areas = shapely.area(polygons)
    assert (areas > 0).all()
    assert abs(shapely.union_all(polygons).area - areas.sum()) / areas.sum() < 1e-9
    assert shapely.contains_xy(polygons, catalogue["easting"], catalogue["northing"]).all()
    # Roughly the UK's 242,000 km² (the coarse outline and island discs add a little).
    assert 220_000 < areas.sum() / 1e6 < 280_000


def test_oas_tessellate_each_lad_exactly(lcr_release):
    _, out = lcr_release
    oa = gpd.read_file(out / "input_data" / "OA_2021_22_Boundaries.gpkg")
    lad = gpd.read_file(next((out / "input_data").glob("Local_Authority_Districts_*.gpkg"))).set_index(
        "LAD22CD"
    )
    truth = pd.read_csv(out / "planted_truth.csv", dtype=str)
    oa = oa.merge(truth[["OA", "LAD22CD"]], on="OA")
    for code, members in oa.groupby("LAD22CD"):
        region = lad.geometry[code]
        cells = members.geometry.to_numpy()
        assert abs(shapely.area(cells).sum() - region.area) / region.area < 1e-6, code  # no overlaps
        union = shapely.union_all(cells)
        assert shapely.symmetric_difference(union, region).area / region.area < 1e-6, code  # no gaps


def test_each_oa_lies_in_exactly_one_lad(lcr_release):
    _, out = lcr_release
    oa = gpd.read_file(out / "input_data" / "OA_2021_22_Boundaries.gpkg")
    lad = gpd.read_file(next((out / "input_data").glob("Local_Authority_Districts_*.gpkg")))
    points = gpd.GeoDataFrame({"OA": oa["OA"]}, geometry=oa.representative_point(), crs=oa.crs)
    hits = gpd.sjoin(points, lad, predicate="within")
    assert hits["OA"].value_counts().max() == 1 and hits["OA"].nunique() == len(oa)
    truth = pd.read_csv(out / "planted_truth.csv", dtype=str).set_index("OA")["LAD22CD"]
    assert (hits.set_index("OA")["LAD22CD"] == truth[hits["OA"]].to_numpy()).all()
    own = lad.set_index("LAD22CD").geometry[truth[oa["OA"]].to_numpy()].buffer(0.01).to_numpy()
    assert shapely.covers(own, oa.geometry.to_numpy()).all()


def test_oa_sizes_run_from_hectares_to_square_kilometres(lcr_and_wales_full):
    area_km2 = lcr_and_wales_full.oa.area / 1e6
    density = lcr_and_wales_full.variables["v01"]
    assert area_km2.min() < 0.02 and area_km2.max() > 10
    assert density.min() < 10 and density.max() > 20_000
    assert 1_000 < density.median() < 10_000
