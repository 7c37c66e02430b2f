"""The tiers below the supergroups, top-down: each parent's OAs split by k-means into its children.

At depth 2 the supergroups are split into subgroups; at depth 3 into groups, and each group
into subgroups (geodem_assets.tiers for the codes). Each split is the multi-start k-means of
the parent's own rows, as the OAC builds its groups and subgroups (Wyszomierski et al. 2024).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodem_assets import clustering, tiers
from geodem_assets.clustering import LevelFit


@dataclass
class TierFit:
    """One tier: each OA's code, each parent's k-means and each child's centre."""

    level: str
    codes: pd.Series  # child code per OA (indexed by OA)
    fits: dict[str, LevelFit]  # parent code -> its split
    centres: dict[str, np.ndarray] = field(default_factory=dict)  # child code -> centre (p,)
    numbers_from: dict[str, str] = field(default_factory=dict)  # parent -> how children were ordered

    @property
    def counts(self) -> dict[str, int]:
        return {parent: level.fit.k for parent, level in self.fits.items()}

    @property
    def lowered(self) -> dict[str, str]:
        return {parent: level.note for parent, level in self.fits.items() if level.note}

    def children(self) -> list[tuple[str, str]]:
        """(parent, child) for every child fitted, one no OA carries included."""
        return [(p, tiers.child_code(p, i)) for p, level in self.fits.items() for i in range(level.fit.k)]

    def centroid_table(self, columns: list[str]) -> pd.DataFrame:
        """parent, <level>, then one column per variable: the centres, for the next run to match."""
        table = pd.DataFrame([self.centres[c] for _, c in self.children()], columns=columns)
        table.insert(0, self.level, [c for _, c in self.children()])
        table.insert(0, "parent", [p for p, _ in self.children()])
        return table


def suggested_counts(
    X: np.ndarray, parents: np.ndarray, *, n_init: int | None, seed: int, method: str
) -> dict[str, int]:
    """Per parent code, the k the criteria vote suggests for its rows (clustering.clustergram_fits)."""
    out = {}
    for code in sorted(set(parents), key=tiers.sort_key):
        rows = X[parents == code]
        out[code] = clustering.clustergram_fits(
            rows, range(1, 10), n_init=n_init and max(n_init // 10, 5), seed=seed, method=method
        ).suggested_k
    return out


def _order_like_previous(
    level: LevelFit, previous: pd.DataFrame, columns: list[str], code_column: str
) -> bool:
    """Renumber `level` so that each previous child keeps its code on its nearest new centre.

    previous: the parent's rows of the last run's centroid table. False (canonical order kept)
    when the counts differ or no variable is shared.
    """
    common = [c for c in columns if c in previous.columns]
    if not common or len(previous) != level.fit.k:
        return False
    previous = previous.sort_values(code_column, key=lambda s: s.map(tiers.sort_key))
    idx = [columns.index(c) for c in common]
    order = clustering.match_previous(level.fit.centers[:, idx], previous[common].to_numpy(dtype=float))
    level.fit = clustering.relabel(level.fit, order)
    return True


def fit_tier(
    matrix: pd.DataFrame,
    parents: pd.Series,
    level: str,
    counts: dict[str, int],
    previous: pd.DataFrame | None = None,
    *,
    n_init: int | None = None,
    seed: int = 507,
    method: str = "fast",
    on_too_few_distinct: str = "fail",
) -> TierFit:
    """Split each parent's OAs into counts[parent] children coded by tiers.child_code.

    matrix: OA x variables; parents: parent code per OA (same index). previous: the last run's
    centroid table of this level (parent, <level>, variables) or None; a parent whose count is
    unchanged keeps its children's codes on the nearest new centres, else children are in
    canonical order (largest first). Errors as clustering.subgroup_fits (the level named in
    them). Returns the TierFit.
    """
    X = matrix.to_numpy(dtype=np.float64)
    parent_of = parents.reindex(matrix.index).to_numpy()
    ordered = dict(sorted(counts.items(), key=lambda kv: tiers.sort_key(kv[0])))
    fits = clustering.subgroup_fits(
        X,
        parent_of,
        ordered,
        n_init=n_init,
        seed=seed,
        method=method,
        on_too_few_distinct=on_too_few_distinct,
        child_level=level,
    )
    columns = list(matrix.columns)
    numbers_from = {}
    for parent, split in fits.items():
        mine = previous[previous["parent"] == parent] if previous is not None and len(previous) else None
        matched = mine is not None and _order_like_previous(split, mine, columns, level)
        numbers_from[parent] = "matched to previous centroids" if matched else "canonical (largest first)"
    codes = pd.Series(index=matrix.index, dtype=object, name=level)
    centres = {}
    for parent, split in fits.items():
        members = parent_of == parent
        codes.iloc[np.flatnonzero(members)] = [tiers.child_code(parent, i) for i in split.fit.labels]
        for i, centre in enumerate(split.fit.centers):
            centres[tiers.child_code(parent, i)] = centre
    return TierFit(level, codes, fits, centres, numbers_from)


def counts_for(
    wanted: list[int] | tuple[int, ...] | None, parents: list[str], what: str
) -> dict[str, int] | None:
    """Counts given per parent in parent order, as a dict; None when not given.

    ValueError naming `what` (e.g. "subgroup counts") when their number is not the parents'.
    """
    if wanted is None:
        return None
    parents = sorted(parents, key=tiers.sort_key)
    if len(wanted) != len(parents):
        raise ValueError(f"{len(wanted)} {what} given for {len(parents)} parents ({', '.join(parents)})")
    return dict(zip(parents, (int(k) for k in wanted)))
