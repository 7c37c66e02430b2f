"""Results one asset keeps for a later one: the web maps' outlines (simplified once by
region_output_areas) and the clustergram's labels (fitted once by cluster_diagnostics), reused
only while they belong to the release in the warehouse and cover exactly the OAs needed."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodem_assets import assets
from geodem_assets.display import web_map_geometries
from geodem_assets.tables import REGION, to_wkb_frame
from resources.warehouse import Warehouse
from sample_data.detail import detail_coverage


def _setup(tmp_path, fingerprint="release-1"):
    boxes = np.array([shapely.box(i * 500, 0, (i + 1) * 500, 500) for i in range(4)], dtype=object)
    geoms, _ = detail_coverage(boxes, seed=1)
    geo = gpd.GeoDataFrame({"OA": [f"E0000000{i}" for i in range(4)]}, geometry=geoms, crs=27700)
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    wh.replace_partition("census_release_info", "release", "x", pd.DataFrame({"fingerprint": ["release-1"]}))
    shown = to_wkb_frame(geo.set_geometry(web_map_geometries(geo.geometry.to_numpy())))
    wh.replace_partition("region_display_geometry", REGION, "r", shown.assign(census_fingerprint=fingerprint))
    return wh, to_wkb_frame(geo)


def test_exports_draw_the_stored_outlines_as_given(tmp_path):
    wh, boundaries = _setup(tmp_path)
    geo, tolerance = assets._web_map_outlines(wh, "r", boundaries.iloc[1:])
    assert tolerance == 0.0 and list(geo["OA"]) == list(boundaries["OA"].iloc[1:])
    full = shapely.from_wkb(boundaries["geometry_wkb"].iloc[1:].to_numpy())
    assert (
        shapely.get_num_coordinates(geo.geometry.to_numpy()).sum() < shapely.get_num_coordinates(full).sum()
    )


def test_outlines_of_another_release_or_missing_oas_are_not_used(tmp_path):
    wh, boundaries = _setup(tmp_path, fingerprint="release-0")
    geo, tolerance = assets._web_map_outlines(wh, "r", boundaries)
    assert tolerance is None  # the map simplifies the boundaries it is given
    assert geo.geometry.equals(gpd.GeoSeries(shapely.from_wkb(boundaries["geometry_wkb"].to_numpy())))
    wh, boundaries = _setup(tmp_path / "b")
    extra = pd.concat(
        [
            boundaries,
            to_wkb_frame(gpd.GeoDataFrame({"OA": ["E09999999"]}, geometry=[shapely.box(0, 0, 1, 1)])),
        ]
    )
    assert assets._web_map_outlines(wh, "r", extra)[1] is None
    assert assets._web_map_outlines(wh, "other-region", boundaries)[1] is None


def _matrix(oas, shift=0.0):
    return pd.DataFrame({"v01": np.arange(len(oas)) + shift, "v02": 1.0}, index=pd.Index(oas, name="OA"))


def _labels_warehouse(tmp_path, oas, fitted_on):
    wh = Warehouse(path=str(tmp_path / "l.duckdb"))
    stored = pd.DataFrame({"OA": oas, "k1": 0, "k2": np.arange(len(oas)) % 2, "k3": np.arange(len(oas)) % 3})
    stored = stored.iloc[::-1]  # stored in another order than the matrix's
    fingerprint = assets.matrix_fingerprint(fitted_on)
    wh.replace_partition("clustergram_labels", REGION, "r", stored.assign(matrix_fingerprint=fingerprint))
    return wh


def test_clustergram_labels_come_back_in_the_matrix_order(tmp_path):
    oas = [f"E0000000{i}" for i in range(6)]
    wh = _labels_warehouse(tmp_path, oas, _matrix(oas))
    got = assets._clustergram_labels(wh, "r", _matrix(oas))
    assert got is not None and sorted(got) == [1, 2, 3]
    assert got[3].tolist() == [0, 1, 2, 0, 1, 2]


def test_clustergram_labels_of_another_matrix_are_not_used(tmp_path):
    oas = [f"E0000000{i}" for i in range(6)]
    wh = _labels_warehouse(tmp_path, oas, _matrix(oas))
    assert assets._clustergram_labels(wh, "r", _matrix(oas, shift=0.5)) is None  # same OAs, new values
    assert assets._clustergram_labels(wh, "r", _matrix(oas).drop(columns="v02")) is None  # a variable dropped
    assert assets._clustergram_labels(wh, "r", _matrix(oas[:5])) is None
    assert assets._clustergram_labels(wh, "r", _matrix([*oas[:5], "E09999999"])) is None
    assert assets._clustergram_labels(wh, "other-region", _matrix(oas)) is None


def test_outlines_without_a_release_fingerprint_are_not_used(tmp_path):
    wh, boundaries = _setup(tmp_path)
    shown = wh.read("region_display_geometry", REGION, "r").drop(columns=[REGION, "census_fingerprint"])
    wh2 = Warehouse(path=str(tmp_path / "old.duckdb"))
    wh2.replace_partition("census_release_info", "release", "x", pd.DataFrame({"fingerprint": ["release-1"]}))
    wh2.replace_partition("region_display_geometry", REGION, "r", shown)
    assert assets._web_map_outlines(wh2, "r", boundaries)[1] is None
