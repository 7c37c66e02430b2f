"""One prompt for a whole level of a region, to paste into any chat LLM (the workshop's route to names).

The API path (resources.namers.prompt) asks for one cluster at a time; a person without an API
key pastes one prompt for all supergroups, then one per parent for its children (each
supergroup's subgroups; at depth 3 each supergroup's groups and each group's subgroups), and
imports the JSON answers (resources.namers.chat_answer). Both say the same: the rules are
prompt.RULES, the scores are listed by prompt.score_lines.
"""

from __future__ import annotations

import json

from resources.namers.base import LEVELS, ClusterProfile, naming_order
from resources.namers.prompt import RULES, reference_population, score_lines

_INTRO = """\
You are a geodemographer naming the clusters of a classification of UK Census Output Areas.
You receive the index scores of several clusters by census variable: 100 is the average of the
reference population, above 100 means more than average, below 100 fewer.

"""


def _answer_shape(codes: list[str]) -> str:
    shape = ", ".join(f'"{code}": {{"name": "", "description": ""}}' for code in codes)
    return (
        "Answer with one JSON object only, keyed by cluster code, with an entry for every cluster "
        f'below and no other, each holding "name" and "description" only:\n{{{shape}}}\n'
        "Every name must differ from the others and from the names already taken."
    )


def chat_prompt(
    profiles: list[ClusterProfile], region_name: str, parent_name: str | None = None, taken_names=()
) -> str:
    """The prompt naming `profiles` (all supergroups of a region, or all children of one parent).

    profiles: of one level; children all of one parent. parent_name: the parent's name, for
    children. taken_names: names the answer must not reuse (e.g. the supergroups' names).
    Raises ValueError for an empty list, mixed levels or children of several parents.
    """
    if not profiles:
        raise ValueError("no clusters to name")
    levels = {p.level for p in profiles}
    parents = {p.parent for p in profiles}
    if len(levels) > 1 or len(parents) > 1:
        raise ValueError(f"one prompt names one level of one parent, got {sorted(levels)} under {parents}")
    ordered = sorted(profiles, key=lambda p: p.code)
    first = ordered[0]
    what = (
        "supergroups"
        if first.level == "supergroup"
        else f"{first.level}s of {first.parent_level} {first.parent}"
    )
    lines = [
        _INTRO + RULES,
        "",
        _answer_shape([p.code for p in ordered]),
        "",
        f"Region: {region_name}",
        f"Clusters: the {len(ordered)} {what}",
        f"Index scores relative to: {reference_population(first, region_name, parent_name)}",
        f"Names already taken in this region: {json.dumps(sorted(taken_names), ensure_ascii=False)}",
    ]
    for profile in ordered:
        lines += [
            "",
            f"Cluster {profile.code} ({profile.level}, {profile.n_oas:,} Output Areas, "
            f"{profile.pct_population:.1f}% of the region's residents). Index scores by domain and variable name:",
            *score_lines(profile),
        ]
    return "\n".join(lines) + "\n"


def chat_prompts(
    profiles: list[ClusterProfile], region_name: str, names: dict[str, str] | None = None
) -> dict[str, str]:
    """File name -> prompt: "names_prompt.txt" for the supergroups, "names_prompt_<P>.txt" for
    the children of each parent P (the subgroups of supergroup A; at depth 3 the groups of A and
    the subgroups of group A1).

    names: the current names by code; each prompt gives its parent's name and lists the names
    of every level above its clusters as taken.
    """
    names = names or {}
    supergroups = [p for p in profiles if p.level == "supergroup"]
    out = {"names_prompt.txt": chat_prompt(supergroups, region_name)}
    for parent in naming_order(profiles):
        children = [p for p in profiles if p.parent == parent.code]
        if children:
            above = LEVELS[: LEVELS.index(children[0].level)]
            taken = [names[p.code] for p in profiles if p.level in above and p.code in names]
            out[f"names_prompt_{parent.code}.txt"] = chat_prompt(
                children, region_name, names.get(parent.code), taken
            )
    return out
