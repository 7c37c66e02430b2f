"""Home countries computed in one pass over a whole userday file in process (embedded HLL): what any split into ranges must equal."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from homeloc_assets.countries import assign_countries, load_countries
from homeloc_assets.inference import infer_home
from homeloc_assets.reader import read_range
from resources.hll_backends import EmbeddedHLLBackend


def whole_file_aggregates(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """(per_country, per_user, users located in no country) of the whole file, embedded HLL."""
    rows = read_range(path, None, None).rows
    country, _ = assign_countries(rows["latitude"], rows["longitude"], load_countries())
    rows = rows.assign(country=country)
    located = rows[rows["country"].notna()]
    per_country, per_user = EmbeddedHLLBackend().aggregate(located[["user_guid", "country", "userday_hll"]])
    return per_country, per_user, set(rows["user_guid"]) - set(per_user["user_guid"])


def expected_homes(path: Path) -> pd.DataFrame:
    """user_home_country of every user in the file, sorted by user_guid, as it reads back from Parquet."""
    homes = infer_home(*whole_file_aggregates(path))
    # A Parquet round trip gives the dtypes the pipeline's combined file has.
    buffer = io.BytesIO()
    homes.sort_values("user_guid").reset_index(drop=True).to_parquet(buffer, index=False)
    buffer.seek(0)
    return pd.read_parquet(buffer)
