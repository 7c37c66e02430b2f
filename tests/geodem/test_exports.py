"""GeoPackage export at full detail from WKB; simplification for display only."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geodem_assets import exports
from geodem_assets.display import display_geometries, map_tolerance, static_map_geometries
from sample_data.detail import detail_coverage


def _grid(n: int = 4, size: float = 500.0) -> np.ndarray:
    boxes = [
        shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size) for i in range(n) for j in range(n)
    ]
    detailed, _ = detail_coverage(np.array(boxes, dtype=object), seed=2)
    return detailed


def test_geopackage_holds_every_vertex_of_the_warehouse_wkb(tmp_path):
    geoms = _grid()
    oas = [f"E{i:08d}" for i in range(len(geoms))]
    boundaries = pd.DataFrame({"OA": oas, "geometry_wkb": list(shapely.to_wkb(geoms))})
    table = pd.DataFrame(
        {
            "OA": oas[::-1][:-1],  # one OA not classified: left out of both layers
            "supergroup": ["A"] * (len(oas) - 1),
            "subgroup": ["A1"] * (len(oas) - 1),
            "supergroup_name": ["Town"] * (len(oas) - 1),
            "subgroup_name": ["Old town"] * (len(oas) - 1),
        }
    )
    path = tmp_path / "classification.gpkg"
    path.write_text("stale")  # replaced, not appended to
    exports.write_geopackage(path, boundaries, table)
    assert dict(pyogrio.list_layers(path)) == {"supergroups": "MultiPolygon", "subgroups": "MultiPolygon"}
    for layer, columns in (
        ("supergroups", ["OA", "supergroup", "supergroup_name"]),
        ("subgroups", ["OA", "supergroup", "subgroup", "subgroup_name"]),
    ):
        got = pyogrio.read_dataframe(path, layer=layer)
        assert list(got.columns) == [*columns, "geometry"] and got.crs.to_epsg() == 27700
        assert sorted(got["OA"]) == sorted(oas[1:])
        original = dict(zip(oas, geoms))
        for oa, g in zip(got["OA"], got.geometry):
            assert shapely.equals_exact(shapely.get_parts(g)[0], original[oa], tolerance=0)


def test_display_simplification_keeps_a_coverage_and_every_polygon():
    geoms = _grid()
    simple = display_geometries(geoms, 20.0)
    assert len(simple) == len(geoms) and not shapely.is_empty(simple).any()
    assert shapely.get_num_coordinates(simple).sum() < 0.5 * shapely.get_num_coordinates(geoms).sum()
    assert shapely.coverage_is_valid(simple)
    assert display_geometries(geoms, 0.0) is not None
    assert (shapely.to_wkb(display_geometries(geoms, 0.0)) == shapely.to_wkb(geoms)).all()
    assert map_tolerance(geoms, pixels=1000) == 2.0  # 2,000 m across
    assert map_tolerance(np.array([], dtype=object)) == 0.0


def test_static_maps_drop_only_what_a_pixel_cannot_show():
    geoms = _grid()
    simple = static_map_geometries(geoms, pixels=100)  # 20 m per pixel
    assert len(simple) == len(geoms)
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(geoms).sum()
    assert (shapely.hausdorff_distance(simple, geoms) <= 20.0 + 1e-6).all()


def test_kepler_layers_share_one_dataset(tmp_path):
    layers = exports.kepler_config("t")["config"]["visState"]["layers"]
    assert [layer["id"] for layer in layers] == ["supergroups", "subgroups"]
    assert [layer["config"]["isVisible"] for layer in layers] == [True, False]
    assert {layer["config"]["dataId"] for layer in layers} == {exports.KEPLER_DATASET}
    geoms = _grid()
    geo = gpd.GeoDataFrame({"OA": [f"E{i:08d}" for i in range(len(geoms))]}, geometry=geoms, crs=27700)
    table = pd.DataFrame({"OA": geo["OA"], "supergroup": "A", "subgroup": "A1"})
    table["supergroup_name"], table["subgroup_name"] = "Town", "Old town"
    exports.write_kepler_map(tmp_path / "map.html", geo, table, "t")
    html = (tmp_path / "map.html").read_text()
    assert "keplergl" in html.lower() and html.count("E00000003") == 1
    assert "processCsvData" in html  # a CSV dataset whose geometry column is WKT in EPSG:4326
    wkt = re.search(r"POLYGON \(\([-0-9., ]+\)\)", html).group(0)
    minx, miny, maxx, maxy = shapely.from_wkt(wkt).bounds
    assert -8.0 < minx < maxx < -7.0 and 49.0 < miny < maxy < 50.0  # the grid's corner of the National Grid
