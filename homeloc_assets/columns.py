"""What each column of the home-location tables holds: the descriptions behind every asset's
`dagster/column_schema`, written once (the home table's own are in `inference`)."""

from __future__ import annotations

from collections.abc import Iterable

from homeloc_assets.inference import HOME_COLUMN_DESCRIPTIONS

USER = "user_guid: the user (hex guid; its first digits decide the user range)"
RANGE = "user range partition key: the user_guid hex prefixes it holds ('3', or '00-0f')"

COLUMNS: dict[str, dict[str, str]] = {
    "user_locations": {
        "line_number": "line of the userday file (1 = the header)",
        "user_guid": USER,
        "latitude": "latitude of the point, degrees WGS 84",
        "longitude": "longitude of the point, degrees WGS 84",
        "userday_hll": "HyperLogLog of the user's days at this point (postgresql-hll storage bytes)",
        "country": "name of the country the point is in or near (the country layer's name; empty: none)",
        "located": "how: within (a polygon), nearest (offshore, within the tolerance) or none",
    },
    "user_country_userdays": {
        "user_guid": USER,
        "country": "country name (the country layer's name)",
        "userdays": "estimated distinct user-days in the country (HLL union of the user's points there)",
        "n_points": "the user's points in the country",
        "userdays_rounded": "userdays rounded to a whole user-day, for reading",
    },
    "user_total_userdays": {
        "user_guid": USER,
        "total_userdays": "estimated distinct user-days over all the user's points (a union, not a sum)",
        "n_points": "the user's points",
        "total_userdays_rounded": "total_userdays rounded to a whole user-day, for reading",
    },
    "user_home_country": dict(HOME_COLUMN_DESCRIPTIONS),
    "user_classification": {
        **HOME_COLUMN_DESCRIPTIONS,
        "classification": "Local (home is the study country), Tourist (home elsewhere) or Unclassified",
    },
}


def describe(table: str, columns: Iterable[str]) -> dict[str, str]:
    """One description per column of `table`, in the given order; the partition column
    `user_range` is described as such. Raises KeyError naming the table when it is not in
    COLUMNS, and ValueError naming the table and every column without a description."""
    if table not in COLUMNS:
        raise KeyError(f"no column descriptions for table {table!r}; known: {sorted(COLUMNS)}")
    known = {**COLUMNS[table], "user_range": RANGE}
    missing = [c for c in columns if c not in known]
    if missing:
        raise ValueError(f"table {table!r}: columns without a description: {missing}")
    return {c: known[c] for c in columns}
