"""Self-contained HTML maps (Plotly, its JavaScript inlined): they open without a network.

The polygons are drawn as filled shapes in British National Grid metres on a plain x/y plot
with equal scales, so no tile server and no base-map download (Plotly's `geo` subplots fetch
topojson from a CDN) is involved. Outlines are simplified for display only
(`display.display_geometries`: neighbours stay edge-matched); never used for any assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geodem_assets.display import web_map_geometries

# The region's Output Areas coloured by LAD, written by `region_output_areas` before clustering.
OUTPUT_AREAS_MAP = "output_areas_map.html"
OUTPUT_AREAS_KEPLER = "output_areas_map_kepler.html"  # the same OAs in Kepler.gl (needs internet)

# Above this many OAs no offline map is written: every OA is an SVG path in the page, and on
# the UK's 239,023 detailed OAs the two maps took 849 s of a run and would not open usably in a
# browser. Every region of regions.yaml but `uk` is below it (Scotland about 46,000 OAs); the
# GeoPackage and the Kepler.gl map carry the larger ones.
OFFLINE_MAP_MAX_OAS = 50_000


def offline_map_refused(n_oas: int) -> str | None:
    """Why no offline map is written for ``n_oas`` OAs (above OFFLINE_MAP_MAX_OAS), else None."""
    if n_oas <= OFFLINE_MAP_MAX_OAS:
        return None
    return (
        f"not written: {n_oas:,} OAs is above {OFFLINE_MAP_MAX_OAS:,}, beyond what a self-contained "
        "HTML map draws usably; open classification.gpkg in a GIS or the Kepler.gl map"
    )


# Qualitative colours: Plotly's "Dark24" then "Light24", enough for every subgroup of a usual
# classification; they repeat after 48 codes.
def _palette() -> list[str]:
    from plotly.colors import qualitative

    return [*qualitative.Dark24, *qualitative.Light24]


@dataclass(frozen=True)
class MapLevel:
    """One switchable level of a map: a code per OA (e.g. supergroup A…E) and a name per code.

    label: shown in the dropdown ("Supergroups"); codes: Series indexed by OA; names: code -> name
    (codes without a name are shown by code only).
    """

    label: str
    codes: pd.Series
    names: dict[str, str]


POOR_FIT, FITS = "poor fit", "fits"


def poor_fit_codes(flags: pd.Series) -> pd.Series:
    """A map level's codes from a poor-fit flag per OA: "poor fit" or "fits" (index kept)."""
    return flags.fillna(False).astype(bool).map({True: POOR_FIT, False: FITS})


def _rings_xy(geoms: np.ndarray, decimals: int) -> tuple[list, list]:
    """x, y lists of every exterior ring of `geoms`, rings separated by None (Plotly's gap)."""
    xs: list = []
    ys: list = []
    polygons = shapely.get_parts(np.asarray(geoms, dtype=object))
    for ring in shapely.get_exterior_ring(polygons):
        coords = np.round(shapely.get_coordinates(ring), decimals)
        xs.extend(coords[:, 0].tolist())
        ys.extend(coords[:, 1].tolist())
        xs.append(None)
        ys.append(None)
    return xs, ys


def offline_map_figure(geo, levels: list[MapLevel], title: str, tolerance_m: float | None = None) -> dict:
    """A Plotly figure, as a plain dict ({"data": [...], "layout": {...}}), of OA polygons
    coloured by code, one trace per code, one level visible.

    geo: GeoDataFrame with columns OA and geometry in a projected CRS in metres (EPSG:27700);
    levels: one or more `MapLevel`s (a dropdown switches between them when there are several);
    tolerance_m: display simplification (default `display.web_map_geometries`'s: the larger of
    10 m and extent / 20,000; 0 draws the geometries as given, already simplified).
    Each code is one filled trace named "code name": the legend and the hover show the names
    (hovering a polygon shows its cluster; holes are drawn filled, as web maps of OAs usually
    are). Raises ValueError when `levels` is empty or no OA of `geo` has a code.

    Built as plain data rather than `plotly.graph_objects`: Plotly validates a list-valued x or
    y element by element, which was most of a map's time for a city region (the rings are
    hundreds of thousands of numbers). `go.Figure(offline_map_figure(...))` validates it.
    """
    if not levels:
        raise ValueError("offline_map_figure: give at least one level")
    geoms = geo.geometry.to_numpy()
    simple = pd.Series(web_map_geometries(geoms, tolerance_m), index=geo["OA"].to_numpy())
    palette = _palette()
    data: list[dict] = []
    visibility: list[list[bool]] = []
    for i, level in enumerate(levels):
        codes = level.codes.reindex(simple.index).dropna()
        if codes.empty:
            raise ValueError(f"offline_map_figure: no OA of the map has a code at level {level.label!r}")
        first = len(data)
        for j, code in enumerate(sorted(codes.unique(), key=str)):
            members = codes.index[codes.to_numpy() == code]
            xs, ys = _rings_xy(simple.loc[members].to_numpy(), decimals=0)
            label = f"{code} {level.names.get(code, '')}".strip() + f" ({len(members)} OAs)"
            data.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": ys,
                    "mode": "lines",
                    "fill": "toself",
                    "fillcolor": palette[j % len(palette)],
                    "line": {"width": 0.3, "color": "white"},
                    "name": label,
                    "legendgroup": level.label,
                    "legendgrouptitle": {"text": level.label},
                    "hoveron": "fills",
                    "hoverinfo": "name",
                    "hoverlabel": {"namelength": -1},
                    "opacity": 0.85,
                    "visible": i == 0,
                }
            )
        visibility.append([first <= t < len(data) for t in range(len(data))])
    visibility = [v + [False] * (len(data) - len(v)) for v in visibility]
    layout: dict = {
        "title": {"text": title},
        "xaxis": {"visible": False},
        "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": 1},
        "plot_bgcolor": "white",
        "height": 800,
        "legend": {"itemsizing": "constant"},
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
    }
    if len(levels) > 1:
        layout["title"] = {"text": title, "x": 0.5, "xanchor": "center"}  # clear of the dropdown
        layout["updatemenus"] = [
            {
                "type": "dropdown",
                "x": 0.0,
                "y": 1.06,
                "xanchor": "left",
                "buttons": [
                    {"label": level.label, "method": "update", "args": [{"visible": visible}]}
                    for level, visible in zip(levels, visibility)
                ],
            }
        ]
    return {"data": data, "layout": layout}


def write_offline_map(
    path: Path, geo, levels: list[MapLevel], title: str, tolerance_m: float | None = None
) -> str | None:
    """Write `offline_map_figure` as one HTML file with plotly.js inlined (no script, stylesheet
    or tile fetched from the network; plotly.js itself is about 4.8 MB of it).

    Returns None, or, for more than OFFLINE_MAP_MAX_OAS OAs, writes nothing and returns why
    (`offline_map_refused`). tolerance_m as in `offline_map_figure`."""
    refused = offline_map_refused(len(geo))
    if refused:
        return refused
    import plotly.io as pio

    pio.write_html(
        offline_map_figure(geo, levels, title, tolerance_m),
        path,
        include_plotlyjs=True,
        full_html=True,
        config={"displaylogo": False},
        validate=False,  # built as plain data; tests validate it through go.Figure
    )
    return None
