"""What the UI shows about each geodemographic asset besides its data: owners, kinds, domain tags."""

from __future__ import annotations

OWNERS = ["team:geodemographics"]

# kinds: the technologies an asset touches (the UI shows up to ten, with icons for several).
KINDS: dict[str, set[str]] = {
    "census_release": {"python", "duckdb", "geopackage", "csv"},
    "region_output_areas": {"python", "duckdb", "geopandas"},
    "region_census": {"python", "duckdb", "pandas"},
    "region_matrix": {"python", "duckdb", "numpy"},
    "cluster_diagnostics": {"python", "duckdb", "scikitlearn"},
    "supergroups": {"python", "duckdb", "numba"},
    "subgroups": {"python", "duckdb", "numba"},
    "cluster_embedding": {"python", "duckdb", "umap"},
    "cluster_profiles": {"python", "duckdb", "pandas"},
    "cluster_names": {"python", "duckdb", "openai"},
    "classification_exports": {"python", "parquet", "geopackage", "csv", "plotly", "kepler"},
    "release_changes": {"python", "duckdb", "parquet", "csv"},
}

# Domain facts a user filters by in the catalog.
TAGS: dict[str, dict[str, str]] = {
    "census_release": {"domain": "census", "level": "release"},
    "region_output_areas": {"domain": "census", "level": "output_area"},
    "region_census": {"domain": "census", "level": "output_area"},
    "region_matrix": {"domain": "classification", "level": "output_area"},
    "cluster_diagnostics": {"domain": "classification", "level": "region"},
    "supergroups": {"domain": "classification", "level": "supergroup"},
    "subgroups": {"domain": "classification", "level": "subgroup"},
    "cluster_embedding": {"domain": "classification", "level": "output_area"},
    "cluster_profiles": {"domain": "profiles", "level": "cluster"},
    "cluster_names": {"domain": "profiles", "level": "cluster"},
    "classification_exports": {"domain": "exports", "level": "region"},
    "release_changes": {"domain": "classification", "level": "release"},
}
