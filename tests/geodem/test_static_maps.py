"""Static maps on asset pages: polygons filled as compound paths, holes cut, every part drawn."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from common.figures import plt
from geodem_assets import plots

RED, BLUE = (1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)


def _pixel(fig, ax, x: float, y: float) -> tuple[int, ...]:
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return tuple(int(v) for v in image[image.shape[0] - round(float(py)), round(float(px)), :3])


def _drawn(geoms, groups, colors):
    fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
    plots._draw_polygons(ax, np.array(geoms, dtype=object), np.array(groups), colors)
    ax.set_xlim(0, 30)
    ax.set_ylim(0, 10)
    return fig, ax


def test_a_hole_is_cut_and_a_polygon_inside_it_keeps_its_own_colour():
    ring = [(3, 3), (3, 7), (7, 7), (7, 3)]  # clockwise as given: the hole is oriented, not trusted
    outer = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)], holes=[ring])  # exterior clockwise
    inside = shapely.box(3, 3, 7, 7)
    empty_hole = shapely.Polygon(
        [(11, 0), (19, 0), (19, 10), (11, 10)], holes=[[(13, 3), (17, 3), (17, 7), (13, 7)]]
    )
    parts = shapely.MultiPolygon([shapely.box(20, 0, 22, 2), shapely.box(25, 0, 27, 2)])
    fig, ax = _drawn(
        [outer, inside, empty_hole, parts, None, shapely.Polygon()], [0, 1, 0, 1, 0, 1], [RED, BLUE]
    )
    try:
        assert _pixel(fig, ax, 1, 1) == (255, 0, 0)
        assert _pixel(fig, ax, 5, 5) == (0, 0, 255)  # inside the hole: the inner polygon
        assert _pixel(fig, ax, 15, 5) == (255, 255, 255)  # a hole with nothing in it stays empty
        assert _pixel(fig, ax, 12, 1) == (255, 0, 0)
        assert _pixel(fig, ax, 21, 1) == (0, 0, 255)  # both parts of a MultiPolygon
        assert _pixel(fig, ax, 26, 1) == (0, 0, 255)
        assert _pixel(fig, ax, 23.5, 1) == (255, 255, 255)
    finally:
        plt.close(fig)


def test_paths_hold_every_ring_of_their_group_only():
    geoms = np.array(
        [shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1), None, shapely.box(4, 0, 5, 1)], dtype=object
    )
    paths = plots.polygon_paths(geoms, np.array([0, 2, 1, 0]), 3)
    assert [len(p.vertices) for p in paths] == [10, 0, 5]  # two closed rings, nothing, one ring
    first = paths[0]
    assert list(first.codes[:5]) == [first.MOVETO, first.LINETO, first.LINETO, first.LINETO, first.CLOSEPOLY]
    assert first.vertices[:, 0].max() == 5 and first.vertices[:, 0].min() == 0


def test_cluster_map_and_poor_fit_map_render_a_png():
    import geopandas as gpd
    import pandas as pd

    geo = gpd.GeoDataFrame(
        {"OA": ["a", "b", "c"], "supergroup": ["B", "A", "B"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)],
        crs=27700,
    )
    assert plots.cluster_map(geo, "supergroup").startswith("![supergroup map](data:image/png;base64,")
    assert _red_pixels(plots.poor_fit_map(geo, pd.Series([True, False], index=["b", "zz"]), "x")) > 100
    assert _red_pixels(plots.poor_fit_map(geo, pd.Series(dtype=bool), "x")) == 0


def _red_pixels(markdown: str) -> int:
    """Pixels of the poor-fit red (#d62728) in a Markdown PNG data URI."""
    import base64
    import io

    from PIL import Image

    png = base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")"))
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.abs(rgb - [214, 39, 40]).sum(axis=2) < 30).sum())


def test_bad_groups_are_refused_and_collections_are_drawn_by_their_polygons():
    square, other = shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)
    geoms = np.array([square, other], dtype=object)
    for groups in ([0, 5], [0, -1], [0, 1, 1]):
        with pytest.raises(ValueError, match=r"one int in 0\.\.1 per geometry"):
            plots.polygon_paths(geoms, np.array(groups), 2)
    collection = shapely.GeometryCollection(
        [shapely.MultiPolygon([square, other]), shapely.LineString([(0, 0), (5, 5)])]
    )
    paths = plots.polygon_paths(np.array([collection], dtype=object), np.array([0]), 1)
    assert len(paths[0].vertices) == 10  # both squares; the line draws nothing


def test_cluster_map_leaves_oas_without_a_value_undrawn(monkeypatch):
    import geopandas as gpd

    geo = gpd.GeoDataFrame(
        {"OA": ["a", "b"], "group": [2, None]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs=27700,
    )
    drawn = {}
    real = plots._draw_polygons

    def spy(ax, geoms, groups, colors):
        drawn.update(polygons=len(geoms), colours=len(colors))
        real(ax, geoms, groups, colors)

    monkeypatch.setattr(plots, "_draw_polygons", spy)
    plots.cluster_map(geo, "group")
    assert drawn == {"polygons": 1, "colours": 1}
