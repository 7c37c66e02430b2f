"""What each column of the geodemographic tables holds: the descriptions behind every asset's
`dagster/column_schema`, written once.

`describe(table, columns)` gives one description per column and refuses a column nobody wrote
down, so a new column cannot reach the UI undocumented. Variable columns (v01..v60) take their
name and unit from `geodem_assets.variables`.
"""

from __future__ import annotations

from collections.abc import Iterable

from geodem_assets import choose_k, transitions, variables

OA = "Output Area code (E00/W00 England and Wales, S00 Scotland, N20 Northern Ireland)"
REGION_COLUMN = "region partition key (slug in partitions/regions.yaml)"
LEVEL = "supergroup, group or subgroup"
CLUSTER = "cluster code: supergroup A, B, …; subgroup A1, A2, … (depth 3: group A1, subgroup A1a)"


def fit_descriptions(level: str) -> dict[str, str]:
    """Descriptions of each OA's fit at `level` (supergroup or subgroup), the columns
    `<level>_<name>` for name in oa_fit.FIT_COLUMNS."""
    return {
        f"{level}_distance2": f"squared distance from the OA to its {level}'s centre (matrix units)",
        f"{level}_second": f"the next nearest {level} (runner-up)",
        f"{level}_second_distance2": f"squared distance to the runner-up {level}'s centre",
        f"{level}_silhouette": "simplified silhouette (b − a) / max(a, b) with a, b the distances to "
        "the own and the runner-up centre: near 1 fits well, near 0 or below sits between two",
        f"{level}_poor_fit": f"true when {level}_distance2 is above the level's 95th percentile",
    }


COLUMNS: dict[str, dict[str, str]] = {
    "census_variables": {"OA": OA},
    "region_output_areas": {"OA": OA, "LAD22CD": "Local Authority District (2022) the OA lies in"},
    "region_census": {"OA": OA},
    "region_matrix": {"OA": OA},
    "cluster_diagnostics": {
        **choose_k.SCORE_COLUMNS,
        "suggested_k": "the k the diagnostics suggest (same on every row)",
    },
    "cluster_transitions": dict(transitions.TRANSITION_COLUMNS),
    "supergroups": {
        "OA": OA,
        "supergroup": "supergroup letter (A, B, …), stable across re-runs and releases",
    },
    "subgroups": {
        "OA": OA,
        "supergroup": "supergroup letter",
        "group": "group code at depth 3: its supergroup's letter and a number (A1, A2, …)",
        "subgroup": "subgroup code: A1, A2, … at depth 2; its group's code and a letter (A1a, A1b, …) at depth 3",
    },
    "cluster_embedding": {
        "OA": OA,
        "UMAP1": "first UMAP coordinate (unitless)",
        "UMAP2": "second UMAP coordinate (unitless)",
    },
    "cluster_profiles": {
        "level": LEVEL,
        "cluster": CLUSTER,
        "oas": "Output Areas in the cluster",
        "pct_oas": "% of the region's OAs",
        "population": "usual residents in the cluster's OAs",
        "pct_population": "% of the region's usual residents",
    },
    "cluster_names": {
        "level": LEVEL,
        "cluster": CLUSTER,
        "name": "name of at most 3 words",
        "description": "pen portrait",
        "source": "who named it: openai, offline or override (a person)",
        "model": "OpenAI model that wrote it (empty for offline and override)",
        "prompt_version": "version of the naming prompt",
        "fallback_reason": "why the offline namer stood in for the configured one (empty if it did not)",
    },
    "classification": {
        "OA": OA,
        "supergroup": "supergroup letter",
        "supergroup_name": "supergroup name",
        "group": "group code (depth 3 only)",
        "group_name": "group name (depth 3 only)",
        "subgroup": "subgroup code",
        "subgroup_name": "subgroup name",
        "UMAP1": "first UMAP coordinate (unitless)",
        "UMAP2": "second UMAP coordinate (unitless)",
        **fit_descriptions("supergroup"),
        **fit_descriptions("group"),
        **fit_descriptions("subgroup"),
    },
}


def _variable_description(code: str) -> str:
    v = variables.variable(code)
    return f"{v.name}: {v.unit} ({v.kind}, Census 2021 {v.table})"


def describe(table: str, columns: Iterable[str], extra: dict[str, str] | None = None) -> dict[str, str]:
    """One description per column of `table`, in the given column order.

    Known columns come from COLUMNS[table] (and `extra`), variable codes v01..v60 from
    `geodem_assets.variables`, and the partition column `region` is described as such.
    Raises KeyError naming the table when it is not in COLUMNS, and ValueError naming the
    table and every column that has no description.
    """
    if table not in COLUMNS:
        raise KeyError(f"no column descriptions for table {table!r}; known: {sorted(COLUMNS)}")
    known = {**COLUMNS[table], **(extra or {})}
    out: dict[str, str] = {}
    missing = []
    for c in columns:
        if c in known:
            out[c] = known[c]
        elif c in variables.BY_CODE:
            out[c] = _variable_description(c)
        elif c == "region":
            out[c] = REGION_COLUMN
        else:
            missing.append(c)
    if missing:
        raise ValueError(f"table {table!r}: columns without a description: {missing}")
    return out
