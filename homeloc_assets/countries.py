"""Point -> country: a vectorised ``within`` join, then the nearest country on the sphere for points just offshore."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from homeloc_assets.sphere import EARTH_RADIUS_KM, ArcIndex
from resources.country_layers import COUNTRY_LAYERS, DEFAULT_COUNTRY_LAYER, countries_path

# Natural Earth marks some countries -99 where their ISO code is disputed or was withheld.
ISO_A3_FIXES = {"France": "FRA", "Norway": "NOR", "Kosovo": "XKX", "N. Cyprus": "CYN", "Somaliland": "SOL"}
__all__ = [
    "COUNTRY_LAYERS",
    "DEFAULT_COUNTRY_LAYER",
    "EARTH_RADIUS_KM",
    "ISO_A3_FIXES",
    "CountryIndex",
    "assign_countries",
    "countries_path",
    "default_countries_path",
    "load_countries",
]


def default_countries_path() -> Path:
    """The default vendored country layer: Natural Earth admin-0 at 1:10m."""
    return countries_path(DEFAULT_COUNTRY_LAYER)


def load_countries(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Country polygons with columns ``name, iso_a3, geometry`` in EPSG:4326, -99 codes fixed.

    ``path``: any file GeoPandas reads with ``name`` and ``iso_a3`` columns; default the
    vendored 1:10m layer (``countries_path("110m")`` for the 1:110m one). Raises ValueError
    naming the file when a column or the CRS is missing, or a -99 code has no known fix.
    """
    path = default_countries_path() if path is None else Path(path)
    gdf = gpd.read_file(path)
    missing = {"name", "iso_a3"} - set(gdf.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected name, iso_a3 and a geometry")
    gdf = gdf[["name", "iso_a3", "geometry"]].copy()
    if gdf.crs is None:
        raise ValueError(f"{path}: the layer has no CRS; expected EPSG:4326 or any CRS to convert from")
    gdf = gdf.to_crs("EPSG:4326")
    bad = gdf["iso_a3"].isna() | (gdf["iso_a3"].astype(str) == "-99")
    iso_col = list(gdf.columns).index("iso_a3")
    for i in np.flatnonzero(bad.to_numpy()).tolist():
        name = str(gdf["name"].iat[i])
        if name not in ISO_A3_FIXES:
            raise ValueError(f"{path}: country {name!r} has iso_a3 -99 and no known replacement code")
        gdf.iat[i, iso_col] = ISO_A3_FIXES[name]
    return gdf.reset_index(drop=True)


class CountryIndex:
    """Country polygons prepared for repeated ``assign_countries`` calls.

    ``within``: an STRtree on the polygon parts (each island its own bounding box) and a
    prepared point-in-polygon test. ``nearest``: great-circle distances to the boundary arcs
    (``homeloc_assets.sphere.ArcIndex``), built on first use.
    """

    def __init__(self, countries: gpd.GeoDataFrame):
        if countries.crs is not None and not countries.crs.equals("EPSG:4326"):
            countries = countries.to_crs("EPSG:4326")
        self.countries = countries
        self.geoms = np.asarray(countries.geometry.values, dtype=object)
        self.parts, self.part_owner = shapely.get_parts(self.geoms, return_index=True)
        shapely.prepare(self.parts)
        self.tree = shapely.STRtree(self.parts)
        self._arcs: ArcIndex | None = None

    @property
    def arcs(self) -> ArcIndex:
        if self._arcs is None:
            self._arcs = ArcIndex(self.geoms)
        return self._arcs

    def within(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the first polygon containing each point, -1 for none; int64 (n,)."""
        out = np.full(len(lon), -1, dtype=np.int64)
        # Bounding-box candidates of the parts, then an exact point-in-polygon test: much faster
        # than a "within" predicate query on complex multipolygons.
        pi, ci = self.tree.query(shapely.points(lon, lat))
        inside = shapely.contains_xy(self.parts[ci], lon[pi], lat[pi])
        pi, ci = pi[inside], self.part_owner[ci[inside]]
        if len(pi):
            order = np.lexsort((ci, pi))
            p, c = pi[order], ci[order]
            first = np.r_[True, p[1:] != p[:-1]]
            out[p[first]] = c[first]
        return out

    def nearest(self, lon: np.ndarray, lat: np.ndarray, max_km: float) -> np.ndarray:
        """Index of the nearest polygon within ``max_km`` great-circle km, -1 for none; int64 (n,).

        Distances are measured on the sphere (radius ``EARTH_RADIUS_KM``) to the boundary edges
        taken as great-circle arcs, so the answer is the same on both sides of +-180 and near the
        poles. Polygons within 1 mm of the nearest count as equally near: the first wins.
        """
        return self.nearest_km(lon, lat, max_km)[0]

    def nearest_km(self, lon: np.ndarray, lat: np.ndarray, max_km: float) -> tuple[np.ndarray, np.ndarray]:
        """``nearest`` and the distance in km (float64 (n,), inf where none is within ``max_km``)."""
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        if not len(lon) or max_km <= 0:
            return np.full(len(lon), -1, dtype=np.int64), np.full(len(lon), np.inf)
        return self.arcs.nearest(lon, lat, max_km, len(self.geoms))


def assign_countries(
    lat: ArrayLike,
    lon: ArrayLike,
    countries: gpd.GeoDataFrame | CountryIndex,
    max_offshore_km: float = 25.0,
    *,
    field: str = "name",
) -> tuple[np.ndarray, np.ndarray]:
    """Country of each point and how it was found.

    ``lat``, ``lon``: degrees, shape (n,). ``countries``: polygons (``load_countries()``) or a
    ``CountryIndex`` of them, which saves rebuilding the index on repeated calls. Returns
    ``country`` (object, shape (n,): the ``field`` value, None when unassigned) and ``how``
    (object, shape (n,): ``"within"`` inside a polygon; ``"nearest"`` outside every polygon
    but within ``max_offshore_km`` great-circle km of one, searched and measured on the sphere
    (``CountryIndex.nearest``); ``"none"``). A point inside two polygons, or equally near two
    (within 1 mm), gets the first in ``countries`` order. Invalid
    coordinates (NaN, |lat| > 90, |lon| > 180) get None / ``"none"``. Distinct coordinates are
    looked up once.
    """
    index = countries if isinstance(countries, CountryIndex) else CountryIndex(countries)
    lat = np.asarray(lat, dtype=np.float64).ravel()
    lon = np.asarray(lon, dtype=np.float64).ravel()
    if lat.shape != lon.shape:
        raise ValueError(f"lat and lon differ in length: {lat.shape[0]} != {lon.shape[0]}")
    n = lat.shape[0]
    country = np.full(n, None, dtype=object)
    how = np.full(n, "none", dtype=object)
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if not valid.any():
        return country, how
    # A complex number is a cheap hashable key for a (lat, lon) pair.
    codes, uniq = pd.factorize(lat[valid] + 1j * lon[valid])
    ulat, ulon = uniq.real.copy(), uniq.imag.copy()

    u_idx = index.within(ulon, ulat)
    u_how = np.where(u_idx >= 0, "within", "none").astype(object)
    rest = np.flatnonzero(u_idx < 0)
    near = index.nearest(ulon[rest], ulat[rest], max_offshore_km)
    u_idx[rest] = near
    u_how[rest[near >= 0]] = "nearest"

    values = index.countries[field].to_numpy(dtype=object)
    u_country = np.where(u_idx >= 0, values[np.maximum(u_idx, 0)], None)
    country[valid] = u_country[codes]
    how[valid] = u_how[codes]
    return country, how
