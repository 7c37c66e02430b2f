"""Point -> country: a vectorised ``within`` join, then the nearest country for points just offshore."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

MOLLWEIDE = "ESRI:54009"
EARTH_RADIUS_KM = 6371.0088
# Natural Earth marks some countries -99 where their ISO code is disputed or was withheld.
ISO_A3_FIXES = {"France": "FRA", "Norway": "NOR", "Kosovo": "XKX", "N. Cyprus": "CYN", "Somaliland": "SOL"}
# Mollweide stretches distances by up to this factor away from its central meridian, so the
# projected search looks this much further and the great-circle check decides.
_SEARCH_FACTOR = 4.0


def default_countries_path() -> Path:
    """The vendored Natural Earth 1:110m countries GeoPackage."""
    return Path(str(resources.files("sample_data") / "naturalearth" / "naturalearth_lowres_countries.gpkg"))


def load_countries(path=None) -> gpd.GeoDataFrame:
    """Country polygons with columns ``name, iso_a3, geometry`` in EPSG:4326, -99 codes fixed."""
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
    for i in np.flatnonzero(bad.to_numpy()):
        name = gdf["name"].iat[i]
        if name not in ISO_A3_FIXES:
            raise ValueError(f"{path}: country {name!r} has iso_a3 -99 and no known replacement code")
        gdf.iloc[i, gdf.columns.get_loc("iso_a3")] = ISO_A3_FIXES[name]
    return gdf.reset_index(drop=True)


def _haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class CountryIndex:
    """Country polygons prepared for repeated ``assign_countries`` calls (trees, projections)."""

    def __init__(self, countries: gpd.GeoDataFrame, crs: str = MOLLWEIDE):
        if countries.crs is not None and not countries.crs.equals("EPSG:4326"):
            countries = countries.to_crs("EPSG:4326")
        self.countries = countries
        self.crs = crs
        self.geoms = np.asarray(countries.geometry.values, dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self._fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        self._geoms_m = None
        self._grown: dict[float, tuple[np.ndarray, shapely.STRtree]] = {}

    def _projected(self) -> np.ndarray:
        if self._geoms_m is None:
            fwd = self._fwd
            self._geoms_m = shapely.transform(
                self.geoms, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))
            )
        return self._geoms_m

    def _grown_tree(self, search_m: float):
        if search_m not in self._grown:
            grown = shapely.buffer(self._projected(), search_m, quad_segs=4)
            shapely.prepare(grown)
            self._grown[search_m] = (grown, shapely.STRtree(grown))
        return self._grown[search_m]

    def within(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the first polygon containing each point, -1 for none; int64 (n,)."""
        out = np.full(len(lon), -1, dtype=np.int64)
        # Bounding-box candidates, then an exact point-in-polygon test: much faster than a
        # "within" predicate query on complex multipolygons.
        pi, ci = self.tree.query(shapely.points(lon, lat))
        inside = shapely.contains_xy(self.geoms[ci], lon[pi], lat[pi])
        pi, ci = pi[inside], ci[inside]
        if len(pi):
            order = np.lexsort((ci, pi))
            p, c = pi[order], ci[order]
            first = np.r_[True, p[1:] != p[:-1]]
            out[p[first]] = c[first]
        return out

    def nearest(self, lon: np.ndarray, lat: np.ndarray, max_km: float) -> np.ndarray:
        """Index of the nearest polygon within ``max_km`` great-circle km, -1 for none; int64 (n,)."""
        out = np.full(len(lon), -1, dtype=np.int64)
        if not len(lon) or max_km <= 0:
            return out
        x, y = (np.asarray(v) for v in self._fwd.transform(lon, lat))
        grown, tree = self._grown_tree(max_km * 1000.0 * _SEARCH_FACTOR)
        # Candidates: inside the country grown by the search radius (a cheap point-in-polygon test).
        pi, ci = tree.query(shapely.points(x, y))
        hit = shapely.contains_xy(grown[ci], x[pi], y[pi])
        pi, ci = pi[hit], ci[hit]
        if not len(pi):
            return out
        line = shapely.shortest_line(shapely.points(x[pi], y[pi]), self._projected()[ci])
        ends = shapely.get_coordinates(shapely.get_point(line, 1))
        elon, elat = (np.asarray(v) for v in self._inv.transform(ends[:, 0], ends[:, 1]))
        ok = np.isfinite(elon) & np.isfinite(elat)
        # A nearest point on the edge of the projection has no inverse: keep the projected distance.
        dist = shapely.length(line) / 1000.0
        dist[ok] = _haversine_km(lon[pi][ok], lat[pi][ok], elon[ok], elat[ok])
        keep = dist <= max_km
        pi, ci, dist = pi[keep], ci[keep], dist[keep]
        if len(pi):
            order = np.lexsort((ci, dist, pi))
            p, c = pi[order], ci[order]
            first = np.r_[True, p[1:] != p[:-1]]
            out[p[first]] = c[first]
        return out


def assign_countries(
    lat,
    lon,
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
    but within ``max_offshore_km`` great-circle km of one, found in the index's metric CRS
    (Mollweide, ESRI:54009, by default) and measured on the sphere; ``"none"``). A point
    inside two polygons, or equally near two, gets the first in ``countries`` order. Invalid
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
