"""Between cluster profiles and the namers: what a namer is told, and the names as a table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from geodem_assets import tiers
from geodem_assets.variables import BY_CODE
from resources.namers import ClusterName, ClusterProfile
from resources.namers.chat_prompt import chat_prompts


def naming_basis(code: str) -> str:
    """The index scores a cluster is named from: a supergroup's against the region ("raw"), a
    group's or subgroup's against its parent ("raw_within_supergroup", or "raw_within_group"
    for a depth-3 subgroup)."""
    depth = tiers.code_depth(code)
    return "raw" if depth == 1 else f"raw_within_{'supergroup' if depth == 2 else 'group'}"


def profiles_for_naming(
    sizes: pd.DataFrame, scores: pd.DataFrame, lookup: pd.DataFrame
) -> list[ClusterProfile]:
    """ClusterProfiles from the cluster_profiles and cluster_index_scores tables, scores keyed by variable name.

    Supergroups are scored against the region (basis "raw"); groups and subgroups against
    their parent (naming_basis), with their regional scores in `region_scores`.

    Each variable's kind and unit come from geodem_assets.variables, so that the namers
    speak of the density and the Standardised Illness Ratio as levels, not as shares.
    """
    names = dict(zip(lookup["No."], lookup["Variable_Name"]))
    domains = dict(zip(lookup["Variable_Name"], lookup["Domain"]))
    known = {names.get(code, code): var for code, var in BY_CODE.items()}
    out = []

    def scores_of(level: str, basis: str, cluster: str) -> dict[str, float]:
        mine = scores[
            (scores["level"] == level) & (scores["basis"] == basis) & (scores["cluster"] == cluster)
        ]
        return {
            names.get(v, v): float(x)
            for v, x in zip(mine["variable"], mine["score"])
            if x is not None and math.isfinite(x)
        }

    for row in sizes.itertuples(index=False):
        basis = naming_basis(row.cluster)
        index_scores = scores_of(row.level, basis, row.cluster)
        parent = tiers.parent_code(row.cluster) if row.level != "supergroup" else None
        # A child's regional scores let the offline namer check what it shares with its parent.
        region_scores = scores_of(row.level, "raw", row.cluster) if parent else {}
        out.append(
            ClusterProfile(
                code=row.cluster,
                level=row.level,
                parent=parent,
                parent_level=basis.removeprefix("raw_within_") if parent else "",
                index_scores=index_scores,
                domains={n: domains.get(n, "") for n in index_scores},
                kinds={n: known[n].kind for n in index_scores if n in known},
                units={n: known[n].unit for n in index_scores if n in known},
                region_scores=region_scores,
                n_oas=int(row.oas),
                pct_oas=float(row.pct_oas),
                population=int(row.population),
                pct_population=float(row.pct_population),
            )
        )
    return out


def names_table(names: list[ClusterName], profiles: list[ClusterProfile]) -> pd.DataFrame:
    level = {p.code: p.level for p in profiles}
    return (
        pd.DataFrame(
            [
                {
                    "level": level[n.code],
                    "cluster": n.code,
                    "name": n.name,
                    "description": n.description,
                    "source": n.source,
                    "model": n.model,
                    "prompt_version": n.prompt_version,
                    "fallback_reason": n.fallback_reason,
                }
                for n in names
            ]
        )
        .sort_values(
            ["level", "cluster"],
            key=lambda col: (
                col.map(tiers.ALL_LEVELS.index) if col.name == "level" else col.map(tiers.sort_key)
            ),
        )
        .reset_index(drop=True)
    )


def names_markdown(table: pd.DataFrame) -> str:
    """Each cluster's name, who wrote it, and its pen portrait."""
    parts = []
    for row in table.itertuples(index=False):
        parts.append(f"**{row.cluster} {row.name}** _({row.source})_\n\n{row.description}\n")
    return "\n".join(parts)


def write_name_prompts(
    folder: Path, cluster_profiles: list[ClusterProfile], names: dict[str, str], region_name: str
) -> list[str]:
    """Write names_prompt.txt (supergroups) and names_prompt_<S>.txt (subgroups of S) into `folder`.

    Prompts of supergroups that no longer exist are removed, so a re-run leaves exactly the
    current classification's prompts. Returns the file names written.
    """
    for stale in folder.glob("names_prompt*.txt"):
        stale.unlink()
    prompts = chat_prompts(cluster_profiles, region_name, names)
    for file_name, text in prompts.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    return list(prompts)


CLASSIFICATION_COLUMNS = {
    "level": "supergroup, group (depth 3) or subgroup",
    "code": "cluster code: A, B, … for supergroups; A1, A2, … for the subgroups of A (depth 2) or its groups (depth 3); A1a, A1b, … for the subgroups of group A1",
    "name": "the cluster's name (model, offline namer or a reviewed override)",
    "oas": "Output Areas in the cluster",
    "pct_oas": "share of the region's Output Areas, %",
    "population": "usual residents of those Output Areas",
    "pct_population": "share of the region's usual residents, %",
}


def classification_summary(sizes: pd.DataFrame, names: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster, each parent followed by its children: level, code, name, OAs,
    % OAs, population, % population (shares rounded to 0.1).

    sizes: cluster_profiles' size table (level, cluster, oas, pct_oas, population, pct_population);
    names: cluster_names' table (cluster, name), or None before the clusters are named (names
    then left empty). Raises KeyError naming a column missing from `sizes`.
    """
    missing = [
        c for c in ("level", "cluster", "oas", "pct_oas", "population", "pct_population") if c not in sizes
    ]
    if missing:
        raise KeyError(f"cluster sizes lack column(s) {missing}")
    out = sizes.rename(columns={"cluster": "code"})[
        ["level", "code", "oas", "pct_oas", "population", "pct_population"]
    ].copy()
    by_code = dict(zip(names["cluster"], names["name"])) if names is not None else {}
    out.insert(2, "name", out["code"].map(by_code).fillna(""))
    out["pct_oas"] = out["pct_oas"].astype(float).round(1)
    out["pct_population"] = out["pct_population"].astype(float).round(1)
    # Supergroup A, then A1, A1a, A1b, A2, …; then B and its children (A10 after A9).
    return out.sort_values("code", key=lambda c: c.map(tiers.sort_key)).reset_index(drop=True)
