"""Conversions between warehouse tables and the frames the pure functions use."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

REGION = "region"
BNG = "EPSG:27700"


def to_wkb_frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """GeoDataFrame -> plain frame with a `geometry_wkb` blob column (DuckDB needs no extension)."""
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    out["geometry_wkb"] = shapely.to_wkb(gdf.geometry.to_numpy())
    return out


def from_wkb_frame(df: pd.DataFrame, crs: str = BNG) -> gpd.GeoDataFrame:
    geometry = shapely.from_wkb(df["geometry_wkb"].map(bytes).to_numpy())
    return gpd.GeoDataFrame(df.drop(columns=["geometry_wkb"]), geometry=geometry, crs=crs)


def wide(df: pd.DataFrame, drop=(REGION,)) -> pd.DataFrame:
    """A warehouse table of OA rows -> frame indexed by OA, without bookkeeping columns."""
    return df.drop(columns=[c for c in drop if c in df.columns]).set_index("OA").sort_index()


def present_levels(table: pd.DataFrame) -> list[str]:
    """The classification levels a table of OA labels holds, coarsest first (supergroup, group,
    subgroup): a level column empty for this region (a depth-2 region in a table that a depth-3
    region also wrote) is not one of them."""
    from geodem_assets.tiers import ALL_LEVELS

    return [lvl for lvl in ALL_LEVELS if lvl in table.columns and table[lvl].notna().any()]
