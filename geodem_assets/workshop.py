"""The files the reference workshop notebook handed its users, written beside the platform's own.

A workshop user looks for: the classification as a CSV, the clusters' names and pen portraits
as `cluster_descriptions.csv`, the clustergram pictures (supergroups, and one per supergroup
for its subgroups) and the UMAP coordinates as Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodem_assets import clustering
from geodem_assets.distinct import count_distinct_rows
from geodem_assets.tables import present_levels
from geodem_assets.tiers import ALL_LEVELS, sort_key

CLASSIFICATION_CSV = "classification.csv"
DESCRIPTIONS_CSV = "cluster_descriptions.csv"
UMAP_PARQUET = "umap.parquet"
CLUSTERGRAM_SUPERGROUPS = "clustergram_supergroups.png"

WORKSHOP_FILES = (CLASSIFICATION_CSV, DESCRIPTIONS_CSV, UMAP_PARQUET, CLUSTERGRAM_SUPERGROUPS)

CLASSIFICATION_COLUMNS = ["OA", "supergroup", "subgroup", "supergroup_name", "subgroup_name"]
DESCRIPTION_COLUMNS = ["level", "code", "name", "pen_portrait", "source"]
UMAP_COLUMNS = ["OA", "UMAP1", "UMAP2", "supergroup", "subgroup"]

# The workshop's clustergram range: k = 1..9, for the supergroups and within each supergroup.
CLUSTERGRAM_KS = range(1, 10)


def clustergram_subgroups_file(code: str) -> str:
    """File name of a parent's clustergram: supergroup A's `clustergram_A.png`, group A1's
    `clustergram_A1.png`, …"""
    return f"clustergram_{code}.png"


def _with_groups(columns: list[str], table: pd.DataFrame) -> list[str]:
    """The workshop's columns, with the group's beside the subgroup's for a depth-3 table."""
    if "group" not in present_levels(table):
        return columns
    out = []
    for c in columns:
        out += {"subgroup": ["group", "subgroup"], "subgroup_name": ["group_name", "subgroup_name"]}.get(
            c, [c]
        )
    return out


def classification_csv(table: pd.DataFrame) -> pd.DataFrame:
    """One row per OA: OA, supergroup, subgroup, supergroup_name, subgroup_name (at depth 3 also
    group after supergroup and group_name after supergroup_name).

    table: `exports.classification_table` output. Raises KeyError naming a missing column.
    """
    columns = _with_groups(CLASSIFICATION_COLUMNS, table)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"classification table lacks columns {', '.join(missing)}")
    return table[columns].sort_values("OA").reset_index(drop=True)


def cluster_descriptions(names: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster: level (supergroup/group/subgroup), code, name, pen_portrait, source.

    names: the `cluster_names` table (level, cluster, name, description, source). Supergroups
    first, then groups (depth 3), then subgroups, each in code order (A2 before A10).
    """
    out = pd.DataFrame(
        {
            "level": names["level"].to_numpy(),
            "code": names["cluster"].to_numpy(),
            "name": names["name"].to_numpy(),
            "pen_portrait": names["description"].to_numpy(),
            "source": names["source"].to_numpy(),
        }
    )
    out["_order"] = out["level"].map(ALL_LEVELS.index)
    out["_code"] = out["code"].map(sort_key)
    return out.sort_values(["_order", "_code"]).drop(columns=["_order", "_code"]).reset_index(drop=True)


def umap_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per OA: OA, UMAP1, UMAP2, supergroup, [group,] subgroup (from the classification table)."""
    return table[_with_groups(UMAP_COLUMNS, table)].sort_values("OA").reset_index(drop=True)


@dataclass(frozen=True)
class Clustergram:
    """The k-means labels behind one clustergram picture: labels_by_k {k: (n,) int labels}."""

    title: str
    file: str
    labels_by_k: dict[int, np.ndarray]
    X: np.ndarray


def clustergrams(
    matrix: pd.DataFrame,
    supergroups: pd.Series,
    *,
    groups: pd.Series | None = None,
    seed: int = 507,
    n_init: int | None = None,
    whole: dict[int, np.ndarray] | None = None,
) -> list[Clustergram]:
    """The workshop's clustergrams: k = 1..9 over the whole matrix, within each supergroup, and
    (depth 3, `groups` given) within each group.

    whole: labels k -> (n,) of the whole matrix already fitted (`cluster_diagnostics` keeps its
    own as `clustergram_labels`); used when it holds every k the picture needs, else refitted.

    matrix: OA × variables (the transformed matrix); supergroups, groups: code per OA (same
    index). The whole matrix's labels are `whole` when it holds every k needed (then fitted
    with whatever method, seed and starts cluster_diagnostics used; `seed` and `n_init` do
    not apply to it); every other clustergram's labels are computed here with the project's
    k-means (`clustering.kmeans_range`, fast method, `n_init` starts per k, `seed`), as the
    clustergram package's reference did with scikit-learn (Fonseca & Cardoso's clustergram, as
    in the `clustergram` package); a cluster of fewer OAs than 9 gets k up to its size.
    """
    X = matrix.to_numpy(dtype=np.float64)
    out = [
        Clustergram(
            "Clustergram of the supergroups (k = 1..9)",
            CLUSTERGRAM_SUPERGROUPS,
            _labels(X, seed, n_init, whole),
            X,
        )
    ]
    children = "groups" if groups is not None else "subgroups"
    parents = [("supergroup", supergroups, children)]
    if groups is not None:
        parents.append(("group", groups, "subgroups"))
    for level, codes_of, what in parents:
        codes = codes_of.reindex(matrix.index).to_numpy()
        for code in sorted(pd.unique(codes), key=sort_key):
            rows = X[codes == code]
            out.append(
                Clustergram(
                    f"Clustergram of the {what} of {level} {code}",
                    clustergram_subgroups_file(code),
                    _labels(rows, seed, n_init),
                    rows,
                )
            )
    return out


def _labels(
    X: np.ndarray, seed: int, n_init: int | None, fitted: dict[int, np.ndarray] | None = None
) -> dict[int, np.ndarray]:
    # k up to the distinct rows, as the clustergram asset does: no k-means with an empty cluster.
    distinct = count_distinct_rows(X, at_most=max(CLUSTERGRAM_KS))
    ks = [k for k in CLUSTERGRAM_KS if k <= distinct]
    if fitted is not None and all(k in fitted and len(fitted[k]) == len(X) for k in ks):
        return {k: np.asarray(fitted[k]) for k in ks}
    fits = clustering.kmeans_range(X, ks, n_init=n_init, seed=seed)
    return {k: fits[k].labels for k in ks}


def write_clustergram_png(path: Path, gram: Clustergram) -> None:
    """Draw `gram` with the clustergram package's plot and save it as a PNG (100 dpi)."""
    from geodem_assets.plots import clustergram_figure

    fig = clustergram_figure(gram.X, gram.labels_by_k, gram.title)
    try:
        fig.savefig(path, format="png", dpi=100, bbox_inches="tight")
    finally:
        from common.figures import plt

        plt.close(fig)
