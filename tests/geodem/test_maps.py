"""Self-contained HTML maps: open offline, show the clusters' names, switch level."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import shapely

from geodem_assets import maps
from sample_data.detail import detail_coverage


class _Refs(HTMLParser):
    """Collects the external references an HTML page would fetch: script src, link href, img src."""

    def __init__(self):
        super().__init__()
        self.external: list[str] = []
        self.scripts = 0
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.open.append(tag)
        if tag == "script":
            self.scripts += 1
        for attr in ("src", "href"):
            value = attrs.get(attr) or ""
            if tag in ("script", "link", "img", "iframe") and re.match(r"\s*(https?:)?//", value):
                self.external.append(f"<{tag} {attr}={value}>")


def _region(n: int = 5, size: float = 400.0) -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size) for i in range(n) for j in range(n)
    ]
    geoms, _ = detail_coverage(np.array(boxes, dtype=object), seed=3)
    oas = [f"E{i:08d}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"OA": oas}, geometry=geoms, crs=27700)


NAMES = {
    "A": "Harbour Flat Dwellers",
    "B": "Suburban Family Homeowners",
    "C": "Student Cosmopolitan Flats",
    "A1": "Dockside Renters",
    "A2": "Old Port Terraces",
    "B1": "Leafy Semis",
    "C1": "Campus Core",
}


def _levels(geo):
    sup = pd.Series(["A", "B", "C", "A", "B"] * 5, index=geo["OA"])
    sub = sup.map({"A": "A1", "B": "B1", "C": "C1"})
    sub.iloc[0] = "A2"
    return [maps.MapLevel("Supergroups", sup, NAMES), maps.MapLevel("Subgroups", sub, NAMES)]


def _figure_json(html: str) -> list:
    """The traces' JSON that plotly's write_html embeds in Plotly.newPlot(…)."""
    start = html.index("Plotly.newPlot(")
    body = html[start:]
    first = body.index("[")
    depth, end = 0, None
    for i, ch in enumerate(body[first:], first):
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0:
            end = i + 1
            break
    return json.loads(body[first:end])


def test_offline_map_has_no_network_references_and_every_name(tmp_path):
    geo = _region()
    path = tmp_path / "map_offline.html"
    maps.write_offline_map(path, geo, _levels(geo), "Test region")
    html = path.read_text()
    refs = _Refs()
    refs.feed(html)
    refs.close()
    assert refs.external == []
    assert refs.scripts >= 2  # plotly.js inline, then the figure
    assert len(html) > 1_000_000  # plotly.js itself is inlined, not fetched
    assert "Plotly.newPlot" in html and "mapbox" not in refs.open
    for name in NAMES.values():
        assert name in html
    traces = _figure_json(html)
    assert [t["name"] for t in traces[:3]] == [
        "A Harbour Flat Dwellers (10 OAs)",
        "B Suburban Family Homeowners (10 OAs)",
        "C Student Cosmopolitan Flats (5 OAs)",
    ]
    assert all(t["type"] == "scatter" and t["fill"] == "toself" for t in traces)
    assert [t["visible"] for t in traces] == [True] * 3 + [False] * 4
    # every polygon drawn once per level: 25 rings each, separated by None
    assert sum(t["x"].count(None) for t in traces[:3]) == 25
    assert sum(t["x"].count(None) for t in traces[3:]) == 25


def test_dropdown_switches_between_levels():
    geo = _region()
    fig = go.Figure(maps.offline_map_figure(geo, _levels(geo), "t"))  # validates the plain data
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["Supergroups", "Subgroups"]
    assert buttons[0].args[0]["visible"] == [True] * 3 + [False] * 4
    assert buttons[1].args[0]["visible"] == [False] * 3 + [True] * 4
    assert fig.data[0].legendgrouptitle.text == "Supergroups"


def test_display_simplification_only_reduces_what_is_drawn():
    geo = _region()
    fig = go.Figure(maps.offline_map_figure(geo, _levels(geo)[:1], "t", tolerance_m=20.0))
    drawn = sum(len(t.x) - t.x.count(None) for t in fig.data)
    assert drawn < shapely.get_num_coordinates(geo.geometry.to_numpy()).sum()
    assert not fig.layout.updatemenus  # one level: no dropdown
    # the input geometries are not changed
    assert (
        shapely.get_num_coordinates(_region().geometry.to_numpy()).sum()
        == shapely.get_num_coordinates(geo.geometry.to_numpy()).sum()
    )


def test_bad_levels_are_refused():
    geo = _region()
    with pytest.raises(ValueError, match="at least one level"):
        maps.offline_map_figure(geo, [], "t")
    stranger = pd.Series(["A"], index=["W99999999"])
    with pytest.raises(ValueError, match="no OA of the map has a code at level 'Supergroups'"):
        maps.offline_map_figure(geo, [maps.MapLevel("Supergroups", stranger, {})], "t")


def test_no_offline_map_above_the_limit_and_the_reason_names_the_count(tmp_path, monkeypatch):
    monkeypatch.setattr(maps, "OFFLINE_MAP_MAX_OAS", 3)
    geo = gpd.GeoDataFrame(
        {"OA": [f"E0{i}" for i in range(4)]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)],
        crs="EPSG:27700",
    )
    level = maps.MapLevel("LADs", pd.Series(["a", "a", "b", "b"], index=geo["OA"]), {})
    why = maps.write_offline_map(tmp_path / "m.html", geo, [level], "t")
    assert why is not None and "4 OAs is above 3" in why and not (tmp_path / "m.html").exists()
    assert maps.write_offline_map(tmp_path / "m.html", geo.iloc[:3], [level], "t") is None
    assert (tmp_path / "m.html").exists()
