"""The nearest country offshore is searched and measured on the sphere: across +-180, near the poles,
and equal to a brute-force search over every boundary arc."""

from __future__ import annotations

import numpy as np
import pytest

from homeloc_assets.countries import (
    EARTH_RADIUS_KM,
    CountryIndex,
    assign_countries,
    countries_path,
    load_countries,
)
from homeloc_assets.sphere import boundary_arcs

LAYERS = ("10m", "110m")


@pytest.fixture(scope="module", params=LAYERS)
def index(request):
    return CountryIndex(load_countries(countries_path(request.param)))


def _destination(lon, lat, bearing_deg, km):
    """Point ``km`` from (lon, lat) along ``bearing_deg`` on the sphere (standard direct formula)."""
    lon1, lat1, b = np.radians(lon), np.radians(lat), np.radians(bearing_deg)
    d = np.asarray(km) / EARTH_RADIUS_KM
    lat2 = np.arcsin(np.sin(lat1) * np.cos(d) + np.cos(lat1) * np.sin(d) * np.cos(b))
    lon2 = lon1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(lat1), np.cos(d) - np.sin(lat1) * np.sin(lat2))
    return (np.degrees(lon2) + 540.0) % 360.0 - 180.0, np.degrees(lat2)


def _lonlat(v):
    return np.degrees(np.arctan2(v[:, 1], v[:, 0])), np.degrees(np.arcsin(np.clip(v[:, 2], -1, 1)))


_ARCS: dict[int, tuple] = {}


def _arcs(index: CountryIndex):
    """Every boundary arc's ends, unit normal, length (rad) and ends in lon/lat, once per index."""
    if id(index) not in _ARCS:
        v, start, owner = boundary_arcs(index.geoms)
        a, b = v[start], v[start + 1]
        n = np.cross(a, b)
        norm = np.linalg.norm(n, axis=1)
        good = norm > 1e-15
        n[good] /= norm[good, None]
        ab = np.arccos(np.clip(np.einsum("ij,ij->i", a, b), -1, 1))
        _ARCS[id(index)] = (a, b, n, good, ab, owner)
    return _ARCS[id(index)]


def _brute_force(index: CountryIndex, lon: float, lat: float, max_km: float, tie_km: float = 1e-6):
    """(country index or -1, km) over every boundary arc: the closest point of each arc is the foot
    of the perpendicular on its great circle when that lies between the ends (by arc lengths),
    else an end; distances are arccos of dot products (within 0.1 m at these distances). Arcs whose
    nearer end is farther than ``max_km`` plus the arc's length cannot be within ``max_km``
    (triangle inequality) and are skipped before the exact step."""
    a, b, n, good, ab, owner = _arcs(index)
    rlon, rlat = np.radians(lon), np.radians(lat)
    p = np.array([np.cos(rlat) * np.cos(rlon), np.cos(rlat) * np.sin(rlon), np.sin(rlat)])
    ends = np.arccos(np.clip(np.maximum(a @ p, b @ p), -1, 1))
    k = ends - ab <= (max_km + 1.0) / EARTH_RADIUS_KM
    a, b, n, good, ab, owner, ends = a[k], b[k], n[k], good[k], ab[k], owner[k], ends[k]
    foot = p - (n @ p)[:, None] * n
    foot_norm = np.linalg.norm(foot, axis=1)
    foot /= np.where(foot_norm > 0, foot_norm, 1.0)[:, None]
    af = np.arccos(np.clip(np.einsum("ij,ij->i", a, foot), -1, 1))
    fb = np.arccos(np.clip(np.einsum("ij,ij->i", foot, b), -1, 1))
    on_arc = good & (foot_norm > 0) & (af <= ab + 1e-12) & (fb <= ab + 1e-12)
    km = np.where(on_arc, np.minimum(np.arccos(np.clip(foot @ p, -1, 1)), ends), ends) * EARTH_RADIUS_KM
    per_country = np.full(len(index.geoms), np.inf)
    np.minimum.at(per_country, owner, km)
    best = per_country.min() if len(km) else np.inf
    if best > max_km:
        return -1, np.inf
    return int(np.flatnonzero(per_country <= best + tie_km)[0]), float(best)


def _name(index, i):
    return None if i < 0 else index.countries["name"].iat[i]


@pytest.mark.parametrize(("lat", "lon"), [(64.8, 179.8), (69.2, -179.9)])
def test_points_off_russia_at_the_antimeridian_get_russia(index, lat, lon):
    country, how = assign_countries([lat], [lon], index)
    assert (country[0], how[0]) == ("Russia", "nearest")
    i, km = index.nearest_km(np.array([lon]), np.array([lat]), 25.0)
    assert _name(index, i[0]) == "Russia" and km[0] == pytest.approx(
        _brute_force(index, lon, lat, 25.0)[1], abs=1e-3
    )


def test_the_same_coast_is_found_from_both_sides_of_the_antimeridian(index):
    # Walk from coastal vertices within 1 degree of +-180 out to sea, so that many of the
    # points lie on the other side of the antimeridian from their nearest coast.
    v, start, _ = boundary_arcs(index.geoms)
    lon, lat = _lonlat(v[start])
    near = np.flatnonzero((np.abs(lon) > 179.6) & (np.abs(np.abs(lon) - 180.0) > 1e-9))
    rng = np.random.default_rng(11)
    pick = rng.choice(near, 120, replace=len(near) < 120)
    plon, plat = _destination(
        lon[pick],
        lat[pick],
        np.where(lon[pick] > 0, 90.0, 270.0) + rng.uniform(-45, 45, 120),
        rng.uniform(1, 24, 120),
    )
    out = index.within(plon, plat) < 0
    assert out.sum() >= 30 and (np.sign(plon[out]) != np.sign(lon[pick][out])).sum() >= 5
    got, km = index.nearest_km(plon[out], plat[out], 25.0)
    for g, d, x, y in zip(got, km, plon[out], plat[out]):
        want, want_km = _brute_force(index, x, y, 25.0)
        assert _name(index, g) == _name(index, want), (x, y)
        assert g < 0 or abs(d - want_km) <= 1e-3, (x, y, d, want_km)
    assert (got >= 0).mean() > 0.9


@pytest.mark.parametrize(
    ("lat", "lon", "country", "iso"),
    [
        (80.6, 20.0, "Norway", "NOR"),  # north of Svalbard's Nordaustlandet
        (83.75, -35.0, "Greenland", "GRL"),  # off Greenland's north coast
        (83.7, -30.0, "Greenland", "GRL"),
        (-66.5, 110.4, "Antarctica", "ATA"),  # off Casey station
    ],
)
def test_points_off_high_latitude_coasts_get_their_country(index, lat, lon, country, iso):
    if index.within(np.array([lon]), np.array([lat]))[0] >= 0:
        pytest.fail(f"({lat}, {lon}) lies on land in this layer; the test wants a point offshore")
    got, how = assign_countries([lat], [lon], index, field="iso_a3")
    want, want_km = _brute_force(index, lon, lat, 25.0)
    assert (got[0], how[0]) == (iso, "nearest") and _name(index, want) == country and want_km <= 25.0


def test_nearest_agrees_with_brute_force_on_random_offshore_points(index):
    """Random boundary vertices (a third of them within 2 degrees of +-180 or beyond 60 degrees of
    latitude) moved 0.5-30 km in a random direction; those outside every polygon are compared."""
    v, start, _ = boundary_arcs(index.geoms)
    lon, lat = _lonlat(v[start])
    rng = np.random.default_rng(5)
    edge = np.flatnonzero((np.abs(lon) > 178.0) | (np.abs(lat) > 60.0))
    pick = np.r_[rng.choice(len(start), 500), rng.choice(edge, 250)]
    plon, plat = _destination(
        lon[pick], lat[pick], rng.uniform(0, 360, len(pick)), rng.uniform(0.5, 30, len(pick))
    )
    out = np.flatnonzero(index.within(plon, plat) < 0)[:300]
    assert len(out) >= 200
    got, km = index.nearest_km(plon[out], plat[out], 25.0)
    mismatched = []
    for g, d, x, y in zip(got, km, plon[out], plat[out]):
        want, want_km = _brute_force(index, x, y, 25.0)
        if g != want or (g >= 0 and abs(d - want_km) > 1e-3):
            mismatched.append((x, y, _name(index, g), d, _name(index, want), want_km))
    assert not mismatched, mismatched[:5]
    assert 0.3 < (got >= 0).mean() < 1.0  # both answers occur
