"""Distances on the sphere from points to polygon boundaries: unit vectors, great-circle arcs, a KD-tree.

Boundary edges are taken as great-circle arcs between consecutive vertices (as in S2 and
PostGIS ``geography``). The candidate search is exact: every arc is sampled at least every
``spacing_km`` (about; each point of the arc lies within about ``spacing_km / 2`` of a sample),
so an arc within ``d`` km of a point has a sample within ``d + spacing_km`` (twice the margin
needed), found by a ball query on the samples' 3-D unit vectors (chord length
2 sin(theta / 2) is monotonic in the great-circle angle theta). The candidates' distances are
then computed exactly (``point_arc_angle``).
"""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy.spatial import KDTree

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def unit_vectors(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Points on the unit sphere, float64 (n, 3), from longitude and latitude in degrees."""
    lon, lat = np.radians(np.asarray(lon, dtype=np.float64)), np.radians(np.asarray(lat, dtype=np.float64))
    c = np.cos(lat)
    return np.column_stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)])


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in radians between rows of ``u`` and ``v`` (n, 3); atan2 form, exact near 0 and pi."""
    return np.arctan2(np.linalg.norm(np.cross(u, v), axis=1), np.einsum("ij,ij->i", u, v))


def point_arc_angle(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle angle (radians, (n,)) from each point ``p`` to the minor arc ``a``-``b``.

    ``p``, ``a``, ``b``: unit vectors (n, 3). When the foot of the perpendicular from ``p`` to
    the arc's great circle lies on the arc, the angle is asin(|p . n|) with ``n`` the unit
    normal of the circle; otherwise it is the angle to the nearer end. A zero-length arc is its
    end point.
    """
    n = np.cross(a, b)
    norm = np.linalg.norm(n, axis=1)
    ends = np.minimum(_angle(p, a), _angle(p, b))
    ok = norm > 1e-15
    out = ends
    if ok.any():
        n_ok = n[ok] / norm[ok, None]
        p_ok = p[ok]
        inside = (np.einsum("ij,ij->i", np.cross(a[ok], p_ok), n_ok) >= 0) & (
            np.einsum("ij,ij->i", np.cross(p_ok, b[ok]), n_ok) >= 0
        )
        perp = np.arcsin(np.minimum(np.abs(np.einsum("ij,ij->i", p_ok, n_ok)), 1.0))
        out = ends.copy()
        out[ok] = np.where(inside, perp, ends[ok])
    return out


def boundary_arcs(geoms: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every boundary edge of ``geoms`` (polygons, lon/lat degrees) as a great-circle arc.

    Returns ``vertices`` (v, 3) unit vectors, ``start`` (m,) int64 (arc i runs from
    ``vertices[start[i]]`` to ``vertices[start[i] + 1]``) and ``owner`` (m,) int64, the index
    in ``geoms`` of the polygon the arc bounds. Exterior and interior rings alike.
    """
    parts, part_owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_owner = part_owner[ring_part]
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    vertices = unit_vectors(xy[:, 0], xy[:, 1])
    same_ring = ring_of[1:] == ring_of[:-1]
    start = np.flatnonzero(same_ring)
    return vertices, start, ring_owner[ring_of[start]].astype(np.int64)


class ArcIndex:
    """Boundary arcs of polygons and a KD-tree on samples along them, for nearest-polygon queries.

    ``geoms``: polygons or multipolygons in lon/lat degrees, shape (g,), edges shorter than
    120 degrees. ``spacing_km``: the largest arc length one sample stands for (smaller: more
    samples, a tighter search; 3 km is about four times faster on the 1:10m layer than 10 km).
    """

    def __init__(self, geoms: ArrayLike, spacing_km: float = 3.0) -> None:
        self.vertices, self.start, self.owner = boundary_arcs(geoms)
        a, b = self.vertices[self.start], self.vertices[self.start + 1]
        length_km = _angle(a, b) * EARTH_RADIUS_KM
        k = np.maximum(np.ceil(length_km / spacing_km), 1).astype(np.int64)
        arc = np.repeat(np.arange(len(self.start)), k)
        first = np.repeat(np.cumsum(k) - k, k)
        frac = (np.arange(len(arc)) - first + 0.5) / k[arc]
        # Points at even steps along the chord, put back on the sphere, lie on the arc; for an
        # arc of angle alpha their gaps are at most 1 / cos(alpha / 2) times the even gap, so
        # every point of an arc shorter than 120 degrees is within 0.58 * spacing_km of a
        # sample, inside the full spacing of margin that ``nearest`` searches.
        pts = a[arc] + frac[:, None] * (b[arc] - a[arc])
        pts /= np.linalg.norm(pts, axis=1)[:, None]
        self.spacing_km = float(spacing_km)
        self.sample_arc = arc
        self.tree = KDTree(pts)

    def nearest(
        self, lon: ArrayLike, lat: ArrayLike, max_km: float, n_geoms: int, tie_km: float = 1e-6
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest polygon of each point within ``max_km`` great-circle km.

        Returns ``(index, km)``: int64 (n,) index into ``geoms`` (-1 when none is within
        ``max_km``) and float64 (n,) the distance (inf when none). Polygons within ``tie_km``
        of the nearest count as equally near; the first in ``geoms`` order wins. ``n_geoms``:
        the number of polygons (for the tie rule's key).
        """
        n = np.asarray(lon).shape[0]
        out = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        if not n or max_km <= 0:
            return out, dist
        p = unit_vectors(lon, lat)
        # The nearest sample lies on some arc, so no arc is nearer than that arc: the search
        # radius is the smaller of max_km and that distance, plus a full spacing of margin
        # where half is needed (and 1e-9 for rounding), as a chord.
        chord0, _ = self.tree.query(p, k=1)
        km0 = 2 * np.arcsin(np.minimum(chord0 / 2, 1.0)) * EARTH_RADIUS_KM
        theta = (
            np.minimum(np.minimum(km0, max_km) + self.spacing_km, np.pi * EARTH_RADIUS_KM) / EARTH_RADIUS_KM
        )
        look = np.flatnonzero(km0 <= max_km + self.spacing_km)
        if not len(look):
            return out, dist
        hits = self.tree.query_ball_point(p[look], 2 * np.sin(theta[look] / 2) + 1e-9, return_sorted=False)
        counts = np.fromiter(map(len, hits), dtype=np.int64, count=len(look))
        pi = np.repeat(look, counts)
        si = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64, count=int(counts.sum()))
        # One (point, arc) pair per arc, however many of its samples were hit.
        pair = np.unique(pi * len(self.start) + self.sample_arc[si])
        pi, ai = pair // len(self.start), pair % len(self.start)
        s = self.start[ai]
        km = point_arc_angle(p[pi], self.vertices[s], self.vertices[s + 1]) * EARTH_RADIUS_KM
        owner = self.owner[ai]
        # Per (point, polygon): the nearest arc; per point: the nearest polygon, ties to the first.
        key, km = _min_by_key(pi * n_geoms + owner, km)
        pi, owner = key // n_geoms, key % n_geoms
        keep = km <= max_km
        pi, owner, km = pi[keep], owner[keep], km[keep]
        if not len(pi):
            return out, dist
        low = np.full(n, np.inf)
        np.minimum.at(low, pi, km)
        near = km <= low[pi] + tie_km
        pi, owner, km = pi[near], owner[near], km[near]
        order = np.lexsort((owner, pi))
        pi, owner, km = pi[order], owner[order], km[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = owner[first]
        dist[pi[first]] = low[pi[first]]
        return out, dist


def _min_by_key(key: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``key`` values (sorted) and the smallest ``value`` of each, both (k,)."""
    order = np.lexsort((value, key))
    key, value = key[order], value[order]
    first = np.r_[True, key[1:] != key[:-1]]
    return key[first], value[first]
