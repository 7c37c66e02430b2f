"""GIS and web exports of a region's classification."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodem_assets.display import web_map_geometries
from geodem_assets.oa_fit import FIT_COLUMNS
from geodem_assets.tables import present_levels

EXPORT_FILES = (
    "classification.parquet",
    "classification.gpkg",
    "profiles.csv",
    "map.html",
    "map_offline.html",
    "umap.html",
    "profiles.html",
)


def classification_table(
    labels: pd.DataFrame,
    embedding: pd.DataFrame,
    names: dict[str, str],
    fits: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """OA, its code at every level, UMAP1, UMAP2, each level's cluster name, then its fit per level.

    labels: indexed by OA, one column per level coarsest first (supergroup, [group,] subgroup);
    fits: level -> frame indexed by OA with oa_fit.FIT_COLUMNS; each column lands as
    `<level>_<column>` (supergroup_distance2, …, subgroup_poor_fit).
    """
    levels = present_levels(labels)
    oas = labels.index
    table = pd.DataFrame({"OA": oas})
    for level in levels:
        table[level] = labels[level].to_numpy()
    table["UMAP1"] = embedding["UMAP1"].reindex(oas).to_numpy()
    table["UMAP2"] = embedding["UMAP2"].reindex(oas).to_numpy()
    for level in levels:
        table[f"{level}_name"] = table[level].map(names)
    for level, fit in (fits or {}).items():
        for column in FIT_COLUMNS:
            table[f"{level}_{column}"] = fit[column].reindex(oas).to_numpy()
    return table


def fit_columns(table: pd.DataFrame, level: str) -> list[str]:
    """The `<level>_<fit column>` columns of a classification table (none before fits were added)."""
    return [f"{level}_{c}" for c in FIT_COLUMNS if f"{level}_{c}" in table.columns]


def _field(values: pd.Series) -> np.ndarray:
    """A GeoPackage field: numbers and booleans keep their type, the rest are text (None = NULL)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_float_dtype(values):
        return values.to_numpy()
    return values.astype(object).where(values.notna(), None).to_numpy()


def write_geopackage(path: Path, boundaries: pd.DataFrame, table: pd.DataFrame) -> None:
    """One layer per level of `table` (`supergroups`, [`groups`,] `subgroups`): OA polygons
    (EPSG:27700) with the codes of the level and those above it, its name and, when `table` has
    them, the OA's fit at that level (`supergroup_distance2`, …).

    boundaries: OA, geometry_wkb (the warehouse's column); the WKB is written as it is, at full
    detail (MultiPolygon layers), without building geometry objects.
    """
    import pyogrio.raw

    merged = boundaries[["OA", "geometry_wkb"]].merge(table, on="OA", how="inner")
    wkb = np.array([bytes(b) for b in merged["geometry_wkb"]], dtype=object)
    if path.exists():
        path.unlink()
    levels = present_levels(table)
    for i, level in enumerate(levels):
        layer, columns = f"{level}s", ["OA", *levels[: i + 1], f"{level}_name", *fit_columns(table, level)]
        pyogrio.raw.write(
            path,
            geometry=wkb,
            field_data=[_field(merged[c]) for c in columns],
            fields=columns,
            layer=layer,
            driver="GPKG",
            geometry_type="MultiPolygon",
            promote_to_multi=True,
            crs="EPSG:27700",
            append=i > 0,
        )


KEPLER_DATASET = "classification"
# (layer label, column coloured by): the first layer is shown, the others start hidden.
CLASSIFICATION_LAYERS = (("supergroups", "supergroup"), ("subgroups", "subgroup"))


def kepler_config(title: str, layers: Sequence[tuple[str, str]] = CLASSIFICATION_LAYERS) -> dict:
    """Polygon layers of one dataset, one per (label, column) in `layers`, coloured by that
    column's codes; the first is shown, the others start hidden (a click in the layer panel)."""

    def layer(layer_id: str, data_id: str, field: str, visible: bool) -> dict:
        return {
            "id": layer_id,
            "type": "geojson",
            "config": {
                "dataId": data_id,
                "label": layer_id,
                "columns": {"geojson": "geometry"},
                "isVisible": visible,
                "visConfig": {"opacity": 0.75, "filled": True, "stroked": False},
                "colorField": {"name": field, "type": "string"},
                "colorScale": "ordinal",
            },
        }

    return {
        "version": "v1",
        "config": {
            "visState": {
                "layers": [
                    layer(label, KEPLER_DATASET, field, i == 0) for i, (label, field) in enumerate(layers)
                ]
            },
            "mapState": {"title": title},
        },
    }


def write_kepler_map(
    path: Path,
    geo: gpd.GeoDataFrame,
    table: pd.DataFrame,
    title: str,
    layers: Sequence[tuple[str, str]] | None = None,
    columns: Sequence[str] | None = None,
    tolerance_m: float | None = None,
) -> None:
    """A Kepler.gl HTML map of `geo` (OA, geometry in EPSG:27700) joined to `table` on OA.

    By default one layer per classification level present in `table` (supergroups shown;
    groups and subgroups hidden) with each level's code and name in the tooltips; `layers` as
    in kepler_config and `columns` (OA first) the table's columns carried into the map give
    any other map. Each polygon is embedded once. The file loads Kepler.gl's viewer and
    basemap from the internet when opened (the self-contained maps are in `geodem_assets.maps`).
    The outlines are simplified for display (`display.web_map_geometries`) unless tolerance_m
    is given (0: `geo` is drawn as given, already simplified)."""
    from keplergl import KeplerGl

    merged = geo[["OA", "geometry"]].merge(table, on="OA", how="inner")
    # Map rendering does not need survey-grade outlines: simplified (display only, shared
    # edges kept matched) before the projection, which then has fewer points to move.
    geoms = merged.geometry.to_numpy()
    merged["geometry"] = web_map_geometries(geoms, tolerance_m)
    merged = merged.to_crs(4326)
    # The outlines go in as WKT in a CSV dataset (kepler.gl parses WKT geometry columns):
    # one string per OA written by GEOS, where a GeoDataFrame would be turned into GeoJSON
    # dicts of Python floats twice over, several GiB for the UK.
    if layers is None:
        levels = present_levels(table)
        layers = [(f"{lvl}s", lvl) for lvl in levels]
        columns = ["OA", *(c for lvl in levels for c in (lvl, f"{lvl}_name"))]
    data = pd.DataFrame(merged[list(columns or table.columns)])
    data["geometry"] = shapely.to_wkt(merged.geometry.to_numpy(), rounding_precision=6)
    del merged
    kmap = KeplerGl(data={KEPLER_DATASET: data}, config=kepler_config(title, layers))
    with contextlib.redirect_stdout(io.StringIO()):  # keplergl prints "Map saved to …!"
        kmap.save_to_html(file_name=str(path), read_only=False)


def write_umap_html(path: Path, table: pd.DataFrame, title: str) -> None:
    import plotly.express as px

    fig = px.scatter(
        table,
        x="UMAP1",
        y="UMAP2",
        color="supergroup",
        hover_data=["OA", *present_levels(table)[1:], *(f"{lvl}_name" for lvl in present_levels(table))],
        title=title,
        category_orders={"supergroup": sorted(table["supergroup"].unique())},
    )
    fig.update_traces(marker={"size": 3})
    fig.write_html(path, include_plotlyjs=True, full_html=True)


def write_profiles_html(
    path: Path, scores: pd.DataFrame, variable_names: dict[str, str], names: dict[str, str], title: str
) -> None:
    import plotly.graph_objects as go

    cols = [f"{c} {names.get(c, '')}".strip() for c in scores.columns]
    rows = [f"{v} {variable_names.get(v, '')}" for v in scores.index]
    fig = go.Figure(
        go.Heatmap(
            z=scores.to_numpy(dtype=float),
            x=cols,
            y=rows,
            colorscale="RdBu",
            reversescale=True,
            zmid=100,
            zmin=0,
            zmax=200,
            colorbar={"title": "index"},
        )
    )
    fig.update_layout(title=title, height=max(600, 14 * len(rows)), yaxis={"autorange": "reversed"})
    fig.write_html(path, include_plotlyjs=True, full_html=True)


def write_metadata(path: Path, info: dict) -> None:
    path.write_text(json.dumps(info, indent=2, default=str))
