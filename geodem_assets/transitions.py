"""What changed between two classifications of a region: the transition table of each level and
the OAs that moved, as geosnap's transition matrices do for neighbourhood types between periods.

Cluster codes are compared as they are: the supergroup letters (and each supergroup's subgroup
numbers) of a new release are matched to the previous release's by centroid before this
runs (clustering.match_previous), so "A -> A" means the same kind of place in both.
"""

from __future__ import annotations

import pandas as pd

TRANSITION_COLUMNS = {
    "level": "supergroup or subgroup",
    "from_cluster": "the cluster in the previous release",
    "to_cluster": "the cluster in this release",
    "oas": "OAs that were in from_cluster and are now in to_cluster",
    "pct_of_from": "share of from_cluster's OAs (those in both releases), %",
    "pct_of_all": "share of every OA in both releases, %",
}
CHANGED_COLUMNS = ("OA", "change")  # then <level>_before, <level>_after for each level
NEW_OA, GONE_OA = "new OA", "OA gone"


def transition_table(before: pd.Series, after: pd.Series, level: str) -> pd.DataFrame:
    """Long transition table of one level over the OAs in both releases, every pair with an OA.

    before, after: cluster code per OA (indexed by OA). Rows: level, from_cluster, to_cluster,
    oas, pct_of_from, pct_of_all, ordered by from_cluster then to_cluster.
    """
    common = before.index.intersection(after.index)
    pairs = pd.DataFrame(
        {"from_cluster": before.loc[common].to_numpy(), "to_cluster": after.loc[common].to_numpy()}
    )
    table = pairs.value_counts().rename("oas").reset_index().sort_values(["from_cluster", "to_cluster"])
    sizes = table.groupby("from_cluster")["oas"].transform("sum")
    table["pct_of_from"] = 100.0 * table["oas"] / sizes
    table["pct_of_all"] = 100.0 * table["oas"] / max(len(common), 1)
    table.insert(0, "level", level)
    return table.reset_index(drop=True)


def empty_transition_table() -> pd.DataFrame:
    """A transition table with no rows, its columns typed as `transition_table` types them."""
    return pd.DataFrame(
        {
            "level": pd.Series(dtype=object),
            "from_cluster": pd.Series(dtype=object),
            "to_cluster": pd.Series(dtype=object),
            "oas": pd.Series(dtype="int64"),
            "pct_of_from": pd.Series(dtype="float64"),
            "pct_of_all": pd.Series(dtype="float64"),
        }
    )


def transition_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """One level's transition table as a matrix: from_cluster rows x to_cluster columns of OAs."""
    return table.pivot_table(
        index="from_cluster", columns="to_cluster", values="oas", fill_value=0, aggfunc="sum"
    )


def changed_oas(before: pd.DataFrame, after: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """The OAs whose cluster changed at any level, and those in only one release.

    before, after: frames indexed by OA with one column per level. Columns: OA, change (the
    coarsest level that changed, NEW_OA or GONE_OA), then <level>_before, <level>_after for
    each level; sorted by OA.
    """
    missing = [lvl for lvl in levels if lvl not in before.columns or lvl not in after.columns]
    if missing:
        raise KeyError(f"levels not in both classifications: {', '.join(missing)}")
    joined = before[levels].add_suffix("_before").join(after[levels].add_suffix("_after"), how="outer")
    change = pd.Series(None, index=joined.index, dtype=object)
    for level in reversed(levels):  # the coarsest level that changed wins
        moved = joined[f"{level}_before"].notna() & joined[f"{level}_after"].notna()
        moved &= joined[f"{level}_before"] != joined[f"{level}_after"]
        change[moved] = level
    change[joined[f"{levels[0]}_before"].isna()] = NEW_OA
    change[joined[f"{levels[0]}_after"].isna()] = GONE_OA
    out = joined[change.notna()].assign(change=change[change.notna()])
    columns = ["change", *(f"{lvl}_{side}" for lvl in levels for side in ("before", "after"))]
    return out[columns].rename_axis("OA").reset_index().sort_values("OA").reset_index(drop=True)
