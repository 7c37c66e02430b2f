"""What the language model is asked: instructions, the cluster's index scores, the answer's JSON schema."""

from __future__ import annotations

import json

from resources.namers.base import ClusterProfile
from resources.namers.rules import HIGH, LOW, MAX_DESCRIPTION_WORDS, MAX_NAME_WORDS

# Part of every cache key: change it whenever the instructions or the schema change.
PROMPT_VERSION = "names-v2"

SCHEMA_NAME = "cluster_name"
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "description": f"Cluster name of at most {MAX_NAME_WORDS} words, no digits.",
        },
        "description": {
            "type": "string",
            "description": f"Third-person pen portrait of at most {MAX_DESCRIPTION_WORDS} words.",
        },
    },
    "required": ["name", "description"],
    "additionalProperties": False,
}
TEXT_FORMAT = {
    "format": {"type": "json_schema", "name": SCHEMA_NAME, "schema": ANSWER_SCHEMA, "strict": True}
}

_INTRO = """\
You are a geodemographer naming the clusters of a classification of UK Census Output Areas.
"""

# The rules every name and pen portrait follows, worded once for the API's per-cluster request
# and for the chat prompt of all clusters at once (resources.namers.chat_prompt).
RULES = f"""\
Write a pen portrait of the cluster in the third person, at most {MAX_DESCRIPTION_WORDS} words, in
several sentences of plain British English. Describe only the characteristics whose index score
is above {HIGH:g} or below {LOW:g}, strongest first, relative to the reference population (the
region's average for a supergroup, its supergroup's average for a subgroup). Never quote index
scores, thresholds, percentages or any other figures; say "far more", "fewer", "higher" and so on.

Each variable's line says what its value is. Most are percentages of an Output Area's residents
or households: there an index score above 100 means more such people or homes than average.
A density or a ratio (such as the Standardised Illness Ratio, disability relative to what the
residents' ages would lead one to expect) is not a share of residents: describe it as a higher or
lower level, never as more or fewer people.

Give the cluster a name of at most {MAX_NAME_WORDS} words, without digits, in the style of a
commercial geodemographic classification (for example "Student Cosmopolitan Flats", "Suburban
Family Homeowners", "Ageing Rural Homeowners"). The name must differ from every name listed as
already taken."""

INSTRUCTIONS = (
    _INTRO
    + """\
You receive one cluster's index scores by census variable: 100 is the average of the reference
population, above 100 means more than average, below 100 fewer.

"""
    + RULES
    + """

Answer with a JSON object holding "name" and "description" only."""
)


def reference_population(profile: ClusterProfile, region_name: str, parent_name: str | None) -> str:
    if profile.level == "supergroup":
        return f"the average of {region_name}"
    parent = f"{profile.parent_level} {profile.parent}" + (f" ({parent_name})" if parent_name else "")
    return f"the average of {parent} within {region_name}"


def cluster_input(
    profile: ClusterProfile, region_name: str, parent_name: str | None, taken_names: list[str]
) -> str:
    """The request's input text: who the cluster is and its index scores by variable name, by domain."""
    lines = [
        f"Region: {region_name}",
        f"Cluster: {profile.level} {profile.code}",
        f"Index scores relative to: {reference_population(profile, region_name, parent_name)}",
        f"Names already taken in this region: {json.dumps(sorted(taken_names), ensure_ascii=False)}",
        "Index scores by domain and variable name:",
    ]
    return "\n".join(lines + score_lines(profile))


def score_lines(profile: ClusterProfile) -> list[str]:
    """The profile's index scores (to 0.1) by domain, one "- variable: score (unit)" line each."""
    by_domain: dict[str, dict[str, float]] = {}
    for variable, score in profile.index_scores.items():
        by_domain.setdefault(profile.domains.get(variable, "Other"), {})[variable] = round(score, 1)
    lines = []
    for domain, scores in by_domain.items():
        lines.append(f"{domain}:")
        lines.extend(f"- {variable}: {score}{_unit(profile, variable)}" for variable, score in scores.items())
    return lines


def _unit(profile: ClusterProfile, variable: str) -> str:
    """What the variable's value is, after its score: " (% of households)", " (ratio, not a share ...)"."""
    unit = profile.units.get(variable)
    if profile.is_share(variable):
        return f" ({unit})" if unit else ""
    kind = profile.kinds[variable]
    return f" ({kind}, not a share of residents" + (f": {unit})" if unit else ")")


def correction(problems: list[str], previous_answer: str) -> str:
    """Text appended to the input when the previous answer broke the schema or the rules."""
    shown = previous_answer if len(previous_answer) <= 4000 else previous_answer[:4000] + " [cut]"
    return (
        "\n\nYour previous answer was rejected for these reasons:\n- "
        + "\n- ".join(problems)
        + f"\nPrevious answer: {shown}\nAnswer again, following every rule."
    )
