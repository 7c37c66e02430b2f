"""Cluster profiles: sizes, population shares and index scores (cluster mean / reference mean x 100).

Index scores are computed the same way for every kind of variable (geodem_assets.variables):
for a percentage the score compares shares of a population, for the density (v01) and the
Standardised Illness Ratio (v42) it compares mean levels; those two are not shares, and
the profiles label each variable with its kind so that nothing reads them as one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodem_assets.variables import BY_CODE


def sizes(codes: pd.Series, population: pd.Series) -> pd.DataFrame:
    """Per cluster code: OAs, % OAs, population, % population (codes and population share an OA index)."""
    pop = population.reindex(codes.index).fillna(0)
    table = pd.DataFrame({"oas": codes.value_counts(), "population": pop.groupby(codes).sum()}).sort_index()
    table["pct_oas"] = 100 * table["oas"] / table["oas"].sum()
    table["pct_population"] = 100 * table["population"] / max(table["population"].sum(), 1)
    table["population"] = table["population"].astype(np.int64)
    table.index.name = "cluster"
    return table[["oas", "pct_oas", "population", "pct_population"]]


def index_scores(
    values: pd.DataFrame, codes: pd.Series, reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Variables x clusters: 100 * cluster mean / mean of `reference` rows (default all rows).

    values: OAs x variables in their own units (a percentage, a density, a ratio ×100) or
    transformed; the score is a ratio of means whatever the kind (the reference workflow's
    index score, Singleton & Longley's OAC profiles). A variable whose reference mean is 0
    gets NaN rather than an infinite score.
    """
    ref_mean = (values if reference is None else reference).mean()
    means = values.groupby(codes).mean()
    scores = 100 * means.div(ref_mean.where(ref_mean != 0), axis=1)
    return scores.T.sort_index(axis=1)


def subgroup_scores_within(
    values: pd.DataFrame, supergroups: pd.Series, subgroups: pd.Series
) -> pd.DataFrame:
    """Index scores of each child cluster relative to its own parent's mean (variables x children):
    the subgroups against their supergroup or group, the groups against their supergroup."""
    parts = []
    for code in sorted(supergroups.unique()):
        members = supergroups == code
        parts.append(index_scores(values[members], subgroups[members], reference=values[members]))
    return pd.concat(parts, axis=1)


def long_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Variables x clusters -> rows of variable, kind, cluster, score (NaN scores kept).

    kind is the variable's kind (percentage, density, ratio), missing (NaN) for a code not in the table.
    """
    wide_ = scores.rename_axis(index="variable", columns="cluster").reset_index()
    out = wide_.melt(id_vars="variable", var_name="cluster", value_name="score")
    kinds = {code: v.kind for code, v in BY_CODE.items()}
    out.insert(1, "kind", out["variable"].map(kinds))
    return out


def variable_labels(names: dict[str, str]) -> dict[str, str]:
    """Variable code -> its name (from the release's lookup) labelled with its kind, for charts:
    "Social rented (%)", "Usual residents per square kilometre (per km²)", "SIR (ratio ×100)"."""
    return {code: BY_CODE[code].label(name) if code in BY_CODE else name for code, name in names.items()}
