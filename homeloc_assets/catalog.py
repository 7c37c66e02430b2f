"""What the UI shows about each home-location asset besides its data: owners, kinds, domain tags."""

from __future__ import annotations

OWNERS = ["team:home-location"]

KINDS: dict[str, set[str]] = {
    "userday_source": {"csv"},
    "user_locations": {"python", "duckdb", "parquet", "geopandas"},
    "user_country_userdays": {"python", "postgres", "duckdb", "parquet"},
    "user_home_country": {"python", "duckdb", "parquet"},
    "user_classification": {"python", "duckdb", "parquet"},
    "locals_tourists_summary": {"python", "duckdb", "parquet"},
}

TAGS: dict[str, dict[str, str]] = {
    "userday_source": {"domain": "social_media", "level": "user_day"},
    "user_locations": {"domain": "social_media", "level": "user_day"},
    "user_country_userdays": {"domain": "home_location", "level": "user_country"},
    "user_home_country": {"domain": "home_location", "level": "user"},
    "user_classification": {"domain": "home_location", "level": "user"},
    "locals_tourists_summary": {"domain": "home_location", "level": "study_country"},
}
