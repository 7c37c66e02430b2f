"""The reference workflow's per-user home-location loop: the baseline the benchmark compares with.

One user at a time, as the published notebook did: stream the sorted CSV in chunks, join
the user's points with the country polygons (``within``, Mollweide ESRI:54009; points
outside every polygon are lost), then per country two PostgreSQL round trips (the
``hll_union_agg`` of the user's HLLs there, then its ``hll_cardinality``); home = the
country with most estimated user-days; ``user_guid,country`` appended to a CSV.
Ties are broken by country name, as ``homeloc_assets.inference.infer_home`` does, so the
two implementations can be compared user by user.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import psycopg2
from psycopg2 import sql

MOLLWEIDE = "ESRI:54009"
COLUMNS = ["user_guid", "home_country", "home_userdays", "runner_up_userdays", "n_countries"]


def iter_users(path, chunk_rows: int = 50_000) -> Iterator[tuple[str, pd.DataFrame]]:
    """(user_guid, that user's rows) in file order, reading ``chunk_rows`` lines at a time.

    The file must be sorted by user_guid: the last user of a chunk is carried over to the
    next one, since its rows may continue there.
    """
    carry = None
    dtypes = {"user_guid": str, "latitude": float, "longitude": float, "userday_hll": str}
    for chunk in pd.read_csv(path, chunksize=chunk_rows, dtype=dtypes):
        if carry is not None:
            chunk = pd.concat([carry, chunk], ignore_index=True)
        guids = chunk["user_guid"]
        tail = guids == guids.iat[-1]
        carry = chunk[tail]
        yield from chunk[~tail].groupby("user_guid", sort=False)
    if carry is not None and len(carry):
        yield carry["user_guid"].iat[0], carry


@dataclass
class ReferenceRun:
    """Homes found by the per-user loop and what it cost."""

    homes: pd.DataFrame  # COLUMNS; home_country None for a user with no point in a country
    n_users: int
    n_rows: int
    n_groups: int  # (user, country) pairs, i.e. half the number of round trips
    seconds: float

    @property
    def users_per_second(self) -> float:
        return self.n_users / self.seconds if self.seconds else float("inf")


class ReferenceHomeLoop:
    """One database connection and the projected polygons, kept across users."""

    def __init__(self, database_url: str, countries: gpd.GeoDataFrame, name_field: str = "name"):
        self.countries = (
            countries[[name_field, "geometry"]].rename(columns={name_field: "country"}).to_crs(MOLLWEIDE)
        )
        self.conn = psycopg2.connect(database_url)
        self.conn.autocommit = True

    def close(self) -> None:
        self.conn.close()

    def userdays_by_country(self, rows: pd.DataFrame) -> dict[str, float]:
        """Estimated distinct user-days per country of one user's rows (two round trips each)."""
        points = gpd.GeoDataFrame(
            {"userday_hll": rows["userday_hll"].to_numpy()},
            geometry=gpd.points_from_xy(rows["longitude"], rows["latitude"]),
            crs="EPSG:4326",
        ).to_crs(MOLLWEIDE)
        joined = gpd.sjoin(points, self.countries, how="inner", predicate="within")
        out = {}
        with self.conn.cursor() as cur:
            for country, group in joined.groupby("country", sort=True):
                hexes = group["userday_hll"].tolist()
                union = sql.SQL("SELECT hll_union_agg(h::hll) FROM (VALUES {}) AS t(h)").format(
                    sql.SQL(", ").join(sql.SQL("({})").format(sql.Placeholder()) for _ in hexes)
                )
                cur.execute(union, hexes)
                merged = cur.fetchone()[0]
                cur.execute("SELECT hll_cardinality(%s::hll)", (merged,))
                out[country] = float(cur.fetchone()[0])
        return out


def _home(userdays: dict[str, float]) -> tuple[str | None, float, float]:
    """Home country (most user-days, then name), its user-days and the runner-up's."""
    ranked = sorted(userdays.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        return None, 0.0, 0.0
    return ranked[0][0], ranked[0][1], ranked[1][1] if len(ranked) > 1 else 0.0


def run_reference(
    path, database_url: str, countries: gpd.GeoDataFrame, *, max_users: int | None = None, out_csv=None
) -> ReferenceRun:
    """Home of the first ``max_users`` users of ``path`` (all when None), one user at a time.

    ``countries``: polygons with a ``name`` column (``load_countries()``). ``out_csv``: when
    given, ``user_guid,country`` is appended per user, as the reference did.
    """
    loop = ReferenceHomeLoop(database_url, countries)
    records, n_groups, n_rows = [], 0, 0
    sink = open(out_csv, "a", encoding="utf-8") if out_csv is not None else None
    t0 = time.perf_counter()
    try:
        for i, (guid, rows) in enumerate(iter_users(path)):
            if max_users is not None and i >= max_users:
                break
            userdays = loop.userdays_by_country(rows)
            n_groups += len(userdays)
            n_rows += len(rows)
            home, first, second = _home(userdays)
            records.append((guid, home, first, second, len(userdays)))
            if sink is not None and home is not None:
                sink.write(f"{guid},{home}\n")
    finally:
        seconds = time.perf_counter() - t0
        loop.close()
        if sink is not None:
            sink.close()
    homes = pd.DataFrame.from_records(records, columns=COLUMNS)
    return ReferenceRun(homes=homes, n_users=len(records), n_rows=n_rows, n_groups=n_groups, seconds=seconds)
