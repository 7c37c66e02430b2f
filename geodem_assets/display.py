"""Polygons simplified for display only (maps, Kepler.gl); never for assignment or export."""

from __future__ import annotations

import numpy as np
import shapely

# A static map of this many pixels across cannot show finer detail.
MAP_PIXELS = 1500
# The web maps (Kepler.gl and the offline Plotly map): about what a web map shows at street
# level, metres, coarser for a large region (its extent over WEB_MAP_PIXELS, about 50 m for the
# UK) so the files stay near the size plain cells give.
WEB_MAP_TOLERANCE_M = 10.0
WEB_MAP_PIXELS = 20_000


def display_geometries(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Polygons simplified for display only: shapely.coverage_simplify (Visvalingam-Whyatt on
    the shared edges, GEOS >= 3.12), so neighbours stay edge-matched and no polygon vanishes.

    geoms (n,) Polygons/MultiPolygons in metres forming a coverage (where they do not, the
    result is still drawn but may overlap a little); tolerance_m roughly the square root of
    the triangle areas removed. Returns (n,) geometries; tolerance_m <= 0 returns them as given.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or tolerance_m <= 0:
        return geoms
    return shapely.coverage_simplify(geoms, tolerance_m)


def web_map_geometries(geoms: np.ndarray, tolerance_m: float | None = None) -> np.ndarray:
    """`display_geometries` at `tolerance_m`, by default the web maps' tolerance: the larger of
    WEB_MAP_TOLERANCE_M and the extent over WEB_MAP_PIXELS (0: the geometries as given, already
    simplified). A region's OAs are simplified so once (`region_output_areas` stores them as
    `region_display_geometry`) and every web map of the region reuses them."""
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_m is None:
        tolerance_m = max(WEB_MAP_TOLERANCE_M, map_tolerance(geoms, WEB_MAP_PIXELS))
    return display_geometries(geoms, tolerance_m)


def static_map_geometries(geoms: np.ndarray, pixels: int = MAP_PIXELS) -> np.ndarray:
    """Polygons simplified below one pixel of a static map `pixels` across (Douglas-Peucker per
    polygon, shapely.simplify without topology checks, several times faster on the UK): what
    cannot be seen is not drawn, and a polygon smaller than a pixel may vanish from the picture."""
    geoms = np.asarray(geoms, dtype=object)
    tolerance = map_tolerance(geoms, pixels)
    return shapely.simplify(geoms, tolerance, preserve_topology=False) if tolerance > 0 else geoms


def map_tolerance(geoms: np.ndarray, pixels: int = MAP_PIXELS) -> float:
    """Metres per pixel of a map of `pixels` across the geometries' extent."""
    if len(geoms) == 0:
        return 0.0
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return max(maxx - minx, maxy - miny) / pixels
