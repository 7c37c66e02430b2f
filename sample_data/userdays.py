"""Synthetic userday CSV in the real file's layout, with the true home country of every user.

The file is what a study of one country starts from: every user posted there at least once.
``user_guid,latitude,longitude,userday_hll``, LF, sorted by user_guid in byte order, one row
per (user, rounded coordinate), ``userday_hll`` = the postgresql-hll (11, 5, 0, 1) of the
user's active days there, items ``hll_hash_text('<origin>:<user_guid>:<YYYY-MM-DD>')``.

Model (per user): activity D distinct days ~ Zipf(1.8) capped at 1,500 (about 70 % post on one
or two days, 1-2 % on a hundred or more); home = the study country for ``p_local`` of users,
else a country drawn by GDP^0.7 x exp(-distance / 2,000 km); the home holds at least
half of the days (Beta(6, 2) share), so the truth is a country with the most days; tourists
spend at least one day in the study country (a one-day tourist only that); other days go
to 0-6 other countries. In each visited country the user has a base place
(a Natural Earth city, or a random town inside the country) and 1-8 favourite spots a few
km around it, 2 % of them a few km offshore; spots are rounded to a 0.01 degree grid and
checked with ``assign_countries`` to lie in (or just off) the intended country.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from homeloc_assets.countries import (
    ISO_A3_FIXES,
    CountryIndex,
    assign_countries,
    countries_path,
    load_countries,
)
from resources.hll import HLL, hash_texts
from resources.hll.params import TYPE_SPARSE, checked_params
from resources.hll.registers import register_updates
from resources.hll.storage import uses_sparse

HEADER = "user_guid,latitude,longitude,userday_hll\n"
FIRST_DAY = dt.date(2014, 1, 1)
N_DAYS = 3653  # 2014-01-01 .. 2023-12-31
MAX_DAYS = 1500
GRID = 100  # coordinates rounded to 1 / GRID degrees
CHUNK_USERS = 20_000  # part of the determinism contract: same seed, same file
PARAMS = (11, 5, 0, 1)
ORIGINS = np.array(["1", "2", "3"])
BAD_KINDS = ("bad_latitude", "bad_longitude", "bad_hll", "hll_parameters", "field_count")
_KM_PER_DEG = 111.195


@dataclass
class Summary:
    """What ``write_sample_userdays`` wrote and how fast."""

    path: Path
    truth_path: Path
    n_users: int
    n_rows: int
    n_locals: int
    n_bytes: int
    seconds: float
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def users_per_second(self) -> float:
        return self.n_users / self.seconds if self.seconds else float("inf")

    @property
    def rows_per_second(self) -> float:
        return self.n_rows / self.seconds if self.seconds else float("inf")


def truth_path_for(path) -> Path:
    """``<stem>_truth.csv`` beside ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_truth.csv")


# ---- places -------------------------------------------------------------------------------


@dataclass
class _World:
    names: np.ndarray  # country names, shape (c,)
    study: int
    foreign: np.ndarray  # country ids a foreign home / trip is drawn from
    foreign_p: np.ndarray
    centre_xy: np.ndarray  # (k, 2) lon, lat of base places, grouped by country
    centre_sigma_km: np.ndarray  # (k,)
    centre_cum: np.ndarray  # country id + cumulative weight within the country, (k,)
    offshore_xy: np.ndarray  # (j, 2) offshore anchors grouped by country
    offshore_cum: np.ndarray
    has_offshore: np.ndarray  # (c,) bool
    index: CountryIndex


def _uniform_in(geom, k: int, rng) -> np.ndarray:
    """``k`` random points inside ``geom``, (k, 2): a part by area, then rejection in its box."""
    parts = shapely.get_parts(geom)
    area = shapely.area(parts)
    counts = np.bincount(rng.choice(len(parts), k, p=area / area.sum()), minlength=len(parts))
    out = []
    for part, m in zip(parts, counts):
        minx, miny, maxx, maxy = part.bounds
        shapely.prepare(part)
        got = np.empty((0, 2))
        while len(got) < m:
            xy = np.column_stack([rng.uniform(minx, maxx, 64 + 4 * m), rng.uniform(miny, maxy, 64 + 4 * m)])
            got = np.vstack([got, xy[shapely.contains_xy(part, xy[:, 0], xy[:, 1])]])
        out.append(got[:m])
    return np.vstack(out)


def _cum_by_group(group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``group + cumulative share of weight within the group``; ``group`` sorted ascending."""
    cum = np.empty(len(group))
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        cum[idx] = g + np.cumsum(weight[idx]) / weight[idx].sum()
        cum[idx[-1]] = g + 1.0  # exact, so rounding never lets a draw spill into the next group
    return cum


def _pick(cum: np.ndarray, group: np.ndarray, rng) -> np.ndarray:
    """One index per entry of ``group``, weighted within that group (see ``_cum_by_group``)."""
    return np.minimum(np.searchsorted(cum, group + rng.random(len(group)), side="left"), len(cum) - 1)


def _round(xy: np.ndarray) -> np.ndarray:
    return np.round(xy * GRID) / GRID


def _build_world(study_country: str, rng) -> _World:
    countries = load_countries()
    names = countries["name"].to_numpy(dtype=object)
    if study_country not in set(names):
        raise ValueError(f"study country {study_country!r} is not a Natural Earth country name")
    study = int(np.flatnonzero(names == study_country)[0])
    index = CountryIndex(countries)
    # GDP comes with the 1:110m layer only; units it lacks (small states, territories) get none.
    raw = gpd.read_file(countries_path("110m"), ignore_geometry=True)
    raw.index = raw["iso_a3"].where(raw["iso_a3"] != "-99", raw["name"].map(ISO_A3_FIXES))
    raw = raw[raw.index.notna() & ~raw.index.duplicated()]
    gdp = raw["gdp_md_est"].reindex(countries["iso_a3"]).fillna(0.0).to_numpy(dtype=float)

    geoms = countries.geometry.to_numpy()
    cent = np.array([(g.representative_point().x, g.representative_point().y) for g in geoms])
    d_km = _haversine(cent[:, 0], cent[:, 1], cent[study, 0], cent[study, 1])
    # Visitors come mostly from rich and near countries: a gravity model on GDP and distance.
    w = np.maximum(gdp, 1.0) ** 0.7 * np.exp(-d_km / 2000.0)
    w[study] = 0.0
    w[names == "Antarctica"] = 0.0  # nobody lives there; keep it as a polygon all the same
    foreign = np.flatnonzero(w > 0)

    cities = gpd.read_file(
        Path(str(resources.files("sample_data") / "naturalearth" / "naturalearth_cities.gpkg"))
    )
    cxy = np.column_stack([cities.geometry.x, cities.geometry.y])
    city_country, _ = assign_countries(cxy[:, 1], cxy[:, 0], index)
    groups, xys, sig, wts = [], [], [], []
    for c, g in enumerate(geoms):
        mine = _round(cxy[city_country == names[c]])
        area_km2 = g.area * _KM_PER_DEG**2 * np.cos(np.radians(cent[c, 1]))
        k_towns = 40 if c == study else int(np.clip(np.sqrt(area_km2) / 150.0, 2, 15))
        towns = _round(_uniform_in(g, k_towns, rng))
        xy = np.vstack([mine, towns])
        ok = assign_countries(xy[:, 1], xy[:, 0], index)[0] == names[c]
        xy = xy[ok]
        if not len(xy):
            xy = _round(_uniform_in(g, 1, rng))
        n_city = int(ok[: len(mine)].sum())
        groups.append(np.full(len(xy), c))
        xys.append(xy)
        sig.append(np.r_[np.full(n_city, 4.0), np.full(len(xy) - n_city, 6.0)])
        wts.append(np.r_[np.full(n_city, 6.0), np.ones(len(xy) - n_city)])
    group = np.concatenate(groups)

    off_xy, off_group = _offshore_anchors(index, names, rng)
    return _World(
        names=names,
        study=study,
        foreign=foreign,
        foreign_p=w[foreign] / w[foreign].sum(),
        centre_xy=np.vstack(xys),
        centre_sigma_km=np.concatenate(sig),
        centre_cum=_cum_by_group(group, np.concatenate(wts)),
        offshore_xy=off_xy,
        offshore_cum=_cum_by_group(off_group, np.ones(len(off_group))),
        has_offshore=np.isin(np.arange(len(names)), off_group),
        index=index,
    )


def _haversine(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _offshore_anchors(index: CountryIndex, names, rng) -> tuple[np.ndarray, np.ndarray]:
    """Points 2-10 km off each country's coast (outside all land, nearest to that country)."""
    xy, grp = [], []
    for c, g in enumerate(index.geoms):
        ring = shapely.boundary(g)
        pts = shapely.line_interpolate_point(ring, rng.random(60), normalized=True)
        base = shapely.get_coordinates(pts)
        ang = rng.uniform(0, 2 * np.pi, len(base))
        dist = rng.uniform(2.0, 10.0, len(base)) / _KM_PER_DEG
        cand = _round(
            base + np.column_stack([dist * np.cos(ang) / np.cos(np.radians(base[:, 1])), dist * np.sin(ang)])
        )
        who, how = assign_countries(cand[:, 1], cand[:, 0], index)
        keep = (how == "nearest") & (who == names[c])
        xy.append(cand[keep])
        grp.append(np.full(int(keep.sum()), c))
    return np.vstack(xy), np.concatenate(grp)


# ---- users ---------------------------------------------------------------------------------


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _distinct_days(days_per_user: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """``(user, day)`` with ``days_per_user[u]`` distinct days in [0, N_DAYS) per user, random order."""
    days_per_user = days_per_user.astype(np.int64)
    heavy = days_per_user > 64
    # Light users: draw with replacement and top up the few collisions.
    need = np.where(heavy, 0, days_per_user)
    have = np.empty(0, dtype=np.int64)
    while need.sum():
        u = np.repeat(np.arange(len(need)), need)
        have = _sorted_unique(np.concatenate([have, u * N_DAYS + rng.integers(0, N_DAYS, len(u))]))
        need = np.where(heavy, 0, days_per_user) - np.bincount(have // N_DAYS, minlength=len(need))
    # Heavy users (a few per cent) would need many top-up rounds: sample them directly.
    parts = [have] + [
        u * N_DAYS + rng.choice(N_DAYS, int(days_per_user[u]), replace=False) for u in np.flatnonzero(heavy)
    ]
    keys = np.concatenate(parts)
    order = np.lexsort((rng.random(len(keys)), keys // N_DAYS))
    return keys[order] // N_DAYS, keys[order] % N_DAYS


def _simulate(n: int, world: _World, p_local: float, rng):
    """Users of one chunk: home (country id), is_local, and posts (user, day, spot lon/lat)."""

    def foreign(size):
        return world.foreign[rng.choice(len(world.foreign), size, p=world.foreign_p)]

    is_local = rng.random(n) < p_local
    home = np.where(is_local, world.study, foreign(n))
    n_days = np.minimum(rng.zipf(1.8, n), MAX_DAYS)
    # At least half of the days at home; a tourist keeps one day for the study country.
    share = np.clip(rng.beta(6.0, 2.0, n), 0.5, 0.97)
    home_days = np.maximum(np.ceil(n_days / 2), np.round(share * n_days)).astype(np.int64)
    home_days = np.where(is_local, home_days, np.minimum(home_days, n_days - 1))
    away_days = n_days - home_days
    # Trips to up to 6 other countries, no more than the away days can fill; a local's away
    # days need at least one.
    wanted = np.minimum(rng.poisson(0.3 + 0.35 * np.log1p(n_days)), 6)
    n_trips = np.minimum(wanted, np.where(is_local, away_days, np.maximum(away_days - 1, 0)))
    n_trips = np.where(is_local & (away_days > 0), np.maximum(n_trips, 1), n_trips)
    trips = foreign((n, 6))

    user, day = _distinct_days(n_days, rng)
    j = np.arange(len(user)) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    # An away day goes to a trip country (or, for a tourist, the study country again).
    slot = (rng.random(len(user)) * np.where(is_local, n_trips, n_trips + 1)[user]).astype(np.int64)
    trip = np.where(is_local[user], slot, slot - 1)
    away = np.where(trip < 0, world.study, trips[user, np.clip(trip, 0, 5)])
    tourist_first_away = ~is_local[user] & (j == home_days[user])
    country = np.where(j < home_days[user], home[user], np.where(tourist_first_away, world.study, away))

    # One base place per visited (user, country); 1-8 favourite spots around it.
    uc, uc_of_day = np.unique(user * len(world.names) + country, return_inverse=True)
    uc_country = uc % len(world.names)
    days_uc = np.bincount(uc_of_day)
    centre = _pick(world.centre_cum, uc_country, rng)
    n_spots = 1 + np.minimum(np.floor(np.log2(days_uc)).astype(np.int64), 7)
    spot_uc = np.repeat(np.arange(len(uc)), n_spots)
    spot_xy = _spot_coordinates(world, uc_country[spot_uc], centre[spot_uc], rng)

    # Posts: 1-3 per day, each at a spot (the first spots are the favourites).
    posts = 1 + (rng.random(len(user)) < 0.25) + (rng.random(len(user)) < 0.05)
    post_day = np.repeat(np.arange(len(user)), posts)
    p_uc = uc_of_day[post_day]
    first_spot = np.cumsum(n_spots) - n_spots
    spot = first_spot[p_uc] + (n_spots[p_uc] * rng.random(len(post_day)) ** 2).astype(np.int64)
    return home, is_local, user[post_day], day[post_day], spot_xy[spot]


def _spot_coordinates(world: _World, country: np.ndarray, centre: np.ndarray, rng) -> np.ndarray:
    """Rounded (lon, lat) of each spot, checked to fall in (or just off) ``country``, (s, 2)."""
    xy = np.empty((len(country), 2))
    todo = np.arange(len(country))
    for attempt in range(6):
        if not len(todo):
            break
        c, k = country[todo], centre[todo]
        if attempt == 5:  # the base place itself was checked when the world was built
            xy[todo] = world.centre_xy[k]
            break
        sea = world.has_offshore[c] & (rng.random(len(todo)) < 0.02)
        base = world.centre_xy[k].copy()
        sigma = world.centre_sigma_km[k].copy()
        if sea.any():
            base[sea] = world.offshore_xy[_pick(world.offshore_cum, c[sea], rng)]
            sigma[sea] = 0.5
        d = rng.normal(0.0, 1.0, (len(todo), 2)) * (sigma / _KM_PER_DEG)[:, None]
        d[:, 0] /= np.cos(np.radians(base[:, 1]))
        cand = _round(base + d)
        cand[:, 1] = np.clip(cand[:, 1], -89.99, 89.99)
        cand[:, 0] = np.clip(cand[:, 0], -180.0, 180.0)
        got = assign_countries(cand[:, 1], cand[:, 0], world.index)[0]
        ok = got == world.names[c]
        xy[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return xy


# ---- HLL encoding ---------------------------------------------------------------------------


def sparse_hlls_hex(row: np.ndarray, hashes: np.ndarray, n_rows: int) -> list[str]:
    """``HLL.from_hashes(hashes[row == r]).to_hex()`` for r in range(n_rows), in bulk.

    ``row``: int64 (k,), ``hashes``: int64 (k,). Rows small enough for SPARSE storage are packed
    here at once; others (and rows with no filled register) go through ``HLL.from_hashes``.
    """
    log2m, regwidth, _expthresh, _sparseon = PARAMS
    params = checked_params(*PARAMS)
    index, value = register_updates(hashes, log2m, regwidth)
    reg_key = row.astype(np.int64) * (1 << log2m) + index
    order = np.lexsort((value, reg_key))
    reg_key, value = reg_key[order], value[order]
    last = np.r_[reg_key[1:] != reg_key[:-1], True]
    reg_key, value = reg_key[last], value[last]
    filled = value > 0
    reg_key, value = reg_key[filled], value[filled]
    reg_row = reg_key >> log2m
    nfilled = np.bincount(reg_row, minlength=n_rows)
    fast = np.array([uses_sparse(params, int(k)) for k in range(int(nfilled.max(initial=0)) + 1)])[
        nfilled
    ] & (nfilled > 0)
    assert log2m + regwidth == 16, "the bulk packer writes 16-bit sparse entries"
    keep = fast[reg_row]
    entries = (((reg_key[keep] & ((1 << log2m) - 1)) << regwidth) | value[keep]).astype(">u2")
    header = params.header(TYPE_SPARSE).hex()
    payload = entries.tobytes().hex()
    counts = np.where(fast, nfilled, 0) * 4
    ends = np.cumsum(counts)
    out = []
    by_row = None
    for r in range(n_rows):
        if fast[r]:
            out.append("\\x" + header + payload[ends[r] - counts[r] : ends[r]])
        else:
            if by_row is None:
                by_row = np.argsort(row, kind="stable")
                bounds = np.searchsorted(row[by_row], np.arange(n_rows + 1))
            h = hashes[by_row[bounds[r] : bounds[r + 1]]]
            out.append(HLL.from_hashes(h, *PARAMS).to_hex())
    return out


# ---- writing --------------------------------------------------------------------------------


def _guid_numbers(n: int, rng) -> np.ndarray:
    """``n`` distinct random 128-bit guids as (n, 2) uint64 (high, low), in ascending order.

    Kept as numbers (16 bytes a user) and written as 32 lowercase hex digits chunk by chunk:
    numeric order is the hex strings' byte order.
    """
    words = rng.integers(0, 2**64 - 1, (n, 2), dtype=np.uint64, endpoint=True)
    words = words[np.lexsort((words[:, 1], words[:, 0]))]
    if n > 1 and np.any(np.all(words[1:] == words[:-1], axis=1)):
        raise RuntimeError("duplicate guid drawn; use another seed")
    return words


def _guid_text(words: np.ndarray) -> np.ndarray:
    return np.array([f"{hi:016x}{lo:016x}" for hi, lo in words.tolist()], dtype=object)


def _bad_line(kind: str, guid: str, good_hex: str) -> str:
    other = HLL.from_hashes(np.array([1], dtype=np.int64), 12, 5, 0, 1).to_hex()
    return {
        "bad_latitude": f"{guid},95.00,10.00,{good_hex}",
        "bad_longitude": f"{guid},50.00,nan,{good_hex}",
        "bad_hll": f"{guid},50.00,10.00,\\x13zz",
        "hll_parameters": f"{guid},50.00,10.00,{other}",
        "field_count": f"{guid},50.00,10.00",
    }[kind]


_LAT_SPAN, _LON_SPAN = 180 * GRID + 1, 360 * GRID + 1


def _chunk_rows(
    guids: np.ndarray, origins: np.ndarray, world: _World, p_local: float, date_text: np.ndarray, rng
):
    """Simulate one chunk of users; per-user (home, is_local) and per-row (user, lat, lon, hex).

    Rows are unique (user, grid coordinate), ordered by user then coordinate; lat/lon are in
    grid units (1 / GRID degrees).
    """
    home, is_local, p_user, p_day, p_xy = _simulate(len(guids), world, p_local, rng)
    lat_i = np.round(p_xy[:, 1] * GRID).astype(np.int64) + 90 * GRID
    lon_i = np.round(p_xy[:, 0] * GRID).astype(np.int64) + 180 * GRID
    row_key, post_row = np.unique((p_user * _LAT_SPAN + lat_i) * _LON_SPAN + lon_i, return_inverse=True)
    r_user, rest = np.divmod(row_key, _LAT_SPAN * _LON_SPAN)
    r_lat, r_lon = rest // _LON_SPAN - 90 * GRID, rest % _LON_SPAN - 180 * GRID
    # Items of a row: its distinct days; each (user, day) is hashed once.
    item_row, item_day = np.divmod(_sorted_unique(post_row.astype(np.int64) * N_DAYS + p_day), N_DAYS)
    user_day, item_ud = np.unique(r_user[item_row] * N_DAYS + item_day, return_inverse=True)
    ud_user, ud_day = np.divmod(user_day, N_DAYS)
    text = [
        f"{o}:{u}:{d}"
        for o, u, d in zip(origins[ud_user].tolist(), guids[ud_user].tolist(), date_text[ud_day].tolist())
    ]
    hexes = sparse_hlls_hex(item_row, hash_texts(text)[item_ud], len(row_key))
    return home, is_local, r_user, r_lat, r_lon, hexes


def write_sample_userdays(
    path,
    n_users: int,
    seed: int = 0,
    study_country: str = "Germany",
    *,
    p_local: float = 0.33,
    n_bad_rows: int = 0,
) -> Summary:
    """Write the sorted userday CSV ``path`` and its truth file; deterministic for ``seed``.

    Users are simulated and written ``CHUNK_USERS`` at a time (memory stays bounded, apart from
    16 bytes of guid per user). ``n_bad_rows`` invalid rows (kinds in ``BAD_KINDS``, in turn)
    follow randomly chosen users' rows; their line numbers and kinds are in
    ``Summary.bad_lines``.
    """
    t0 = time.perf_counter()
    if n_users < 1:
        raise ValueError(f"n_users must be at least 1, got {n_users}")
    if not 0.0 <= p_local <= 1.0:
        raise ValueError(f"p_local must be in [0, 1], got {p_local}")
    path = Path(path)
    truth = truth_path_for(path)
    setup_rng, guid_rng, bad_rng = (np.random.default_rng([seed, stream]) for stream in range(3))
    world = _build_world(study_country, setup_rng)
    guids = _guid_numbers(n_users, guid_rng)
    origin = ORIGINS[guid_rng.integers(0, len(ORIGINS), n_users)]
    date_text = np.array([(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(N_DAYS)])
    chosen = np.sort(bad_rng.choice(n_users, min(n_bad_rows, n_users), replace=False)).tolist()
    bad_after = {u: BAD_KINDS[i % len(BAD_KINDS)] for i, u in enumerate(chosen)}

    n_rows = n_locals = 0
    line_no = 1
    bad_lines: list[tuple[int, str]] = []
    with (
        open(path, "w", encoding="utf-8", newline="\n") as out,
        open(truth, "w", encoding="utf-8", newline="\n") as tout,
    ):
        out.write(HEADER)
        tout.write("user_guid,true_home\n")
        for ci, first in enumerate(range(0, n_users, CHUNK_USERS)):
            g = _guid_text(guids[first : first + CHUNK_USERS])
            rng = np.random.default_rng([seed, 3, ci])
            home, is_local, r_user, r_lat, r_lon, hexes = _chunk_rows(
                g, origin[first : first + len(g)], world, p_local, date_text, rng
            )
            lines = []
            users = r_user.tolist()
            for r, (u, la, lo, hx) in enumerate(zip(users, r_lat.tolist(), r_lon.tolist(), hexes)):
                lines.append(f"{g[u]},{la / GRID:.2f},{lo / GRID:.2f},{hx}\n")
                line_no += 1
                if (r + 1 == len(users) or users[r + 1] != u) and first + u in bad_after:
                    kind = bad_after[first + u]
                    lines.append(_bad_line(kind, g[u], hx) + "\n")
                    line_no += 1
                    bad_lines.append((line_no, kind))
            out.write("".join(lines))
            tout.write("".join(f"{u},{h}\n" for u, h in zip(g.tolist(), world.names[home].tolist())))
            n_rows += len(users)
            n_locals += int(is_local.sum())
    return Summary(
        path=path,
        truth_path=truth,
        n_users=n_users,
        n_rows=n_rows,
        n_locals=n_locals,
        n_bytes=path.stat().st_size,
        seconds=time.perf_counter() - t0,
        bad_lines=bad_lines,
    )
