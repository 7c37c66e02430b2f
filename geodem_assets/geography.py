"""Assign every Output Area to exactly one Local Authority District."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd


def assign_lads(oa: gpd.GeoDataFrame, lad: gpd.GeoDataFrame, max_gap_m: float = 1000.0) -> pd.DataFrame:
    """One LAD per OA: the LAD containing the OA's representative point; where that is
    ambiguous or empty (generalised boundaries), the LAD with the largest overlap; else the
    nearest LAD within max_gap_m metres. Returns OA, LAD22CD, method ('within'|'overlap'|'nearest'|None)."""
    points = gpd.GeoDataFrame(
        {"OA": oa["OA"].to_numpy()}, geometry=oa.geometry.representative_point().to_numpy(), crs=oa.crs
    )
    hits = gpd.sjoin(points, lad[["LAD22CD", "geometry"]], predicate="within", how="left")
    counts = hits.groupby("OA")["LAD22CD"].count()
    single = counts[counts == 1].index
    out = hits[hits["OA"].isin(single)][["OA", "LAD22CD"]].assign(method="within")
    rest = oa[~oa["OA"].isin(single)]
    if len(rest):
        inter = gpd.overlay(
            rest[["OA", "geometry"]], lad[["LAD22CD", "geometry"]], how="intersection", keep_geom_type=True
        )
        if len(inter):
            inter["area"] = inter.geometry.area
            best = inter.sort_values(
                ["OA", "area", "LAD22CD"], ascending=[True, False, True]
            ).drop_duplicates("OA")
            out = pd.concat([out, best[["OA", "LAD22CD"]].assign(method="overlap")])
        left = rest[~rest["OA"].isin(out["OA"])]
        if len(left):
            near = gpd.sjoin_nearest(
                left[["OA", "geometry"]], lad[["LAD22CD", "geometry"]], max_distance=max_gap_m, how="left"
            )
            near = near.drop_duplicates("OA")
            found = near["LAD22CD"].notna()
            out = pd.concat(
                [
                    out,
                    near.loc[found, ["OA", "LAD22CD"]].assign(method="nearest"),
                    near.loc[~found, ["OA"]].assign(LAD22CD=None, method=None),
                ]
            )
    return out.sort_values("OA").reset_index(drop=True)


def region_oas(assignment: pd.DataFrame, lads: tuple[str, ...] | None) -> pd.Index:
    """OA codes of a region given its LAD list (None = every assigned OA)."""
    assigned = assignment[assignment["LAD22CD"].notna()]
    if lads is None:
        return pd.Index(assigned["OA"])
    return pd.Index(assigned.loc[assigned["LAD22CD"].isin(lads), "OA"])


def intersects_count(oa: gpd.GeoDataFrame, lad: gpd.GeoDataFrame, lads: tuple[str, ...]) -> int:
    """OAs the reference's `intersects` join would select (border OAs of neighbours included)."""
    region = lad[lad["LAD22CD"].isin(lads)]
    joined = gpd.sjoin(oa[["OA", "geometry"]], region[["geometry"]], predicate="intersects")
    return int(joined["OA"].nunique())
