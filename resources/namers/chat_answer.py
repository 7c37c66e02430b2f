"""A chat LLM's answer to a names prompt, read as chat LLMs really write it and checked like the API's.

Accepted: the JSON object alone, inside a fenced ```json block, or with prose around it; cluster
keys "A", "Cluster A", "Supergroup A", "A1", "Subgroup A1"; field names in any case. Refused,
with every problem named by its cluster: no JSON object, an entry that is not {name,
description}, unknown fields, a cluster not in the classification, a cluster of the answered
prompt left out, and anything resources.namers.rules.validate_name refuses (more than 3 words,
digits, quoted scores, not third person, a name used twice).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from resources.namers.base import parent_of
from resources.namers.rules import validate_name

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
_KEY = re.compile(
    r"^\s*(?:(?:cluster|supergroup|subgroup|group)\s*)?([A-Za-z])(\d*)([A-Za-z]?)\s*:?\s*$", re.IGNORECASE
)
_FIELDS = ("name", "description")


class AnswerError(ValueError):
    """The answer cannot be imported; `problems` lists each reason, prefixed by its cluster code."""

    def __init__(self, problems: list[str], source: str = "answer") -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n- " + "\n- ".join(problems))


def extract_json(text: str) -> dict:
    """The JSON object in a chat answer: a fenced block's, else the first object that parses.

    Raises AnswerError when no JSON object is found.
    """
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in [i for i, ch in enumerate(candidate) if ch == "{"]:
            try:
                found, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(found, dict):
                return found
    raise AnswerError(
        ['no JSON object found in the answer (expected {"A": {"name": …, "description": …}, …})']
    )


def cluster_code(key: str) -> str | None:
    """ "A", "Cluster A", "cluster a1", "Subgroup A1", "Subgroup A1a" -> "A" / "A1" / "A1a"; None
    for anything else (a trailing letter only after a number: the depth-3 subgroups)."""
    found = _KEY.match(str(key))
    if not found or (found.group(3) and not found.group(2)):
        return None
    return found.group(1).upper() + found.group(2) + found.group(3).lower()


def read_answer(
    text: str, levels: Mapping[str, str], existing_names: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """Code -> {"name", "description"} from a pasted answer, checked against the classification.

    levels: code -> "supergroup" | "group" | "subgroup" for every cluster of the region (a
    code's parent is the code without its last part: A1a -> A1 -> A). existing_names: the
    region's current names by code; those of clusters the answer does not name count as taken.
    The answer must name a whole prompt's clusters: every supergroup, or every child of each
    parent it names children of.
    Raises AnswerError listing every problem.
    """
    data = extract_json(text)
    problems: list[str] = []
    entries: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        code = cluster_code(key)
        if code is None or code not in levels:
            problems.append(
                f"{key}: not a cluster of this classification (clusters: {', '.join(sorted(levels))})"
            )
            continue
        if code in entries:
            problems.append(f"{code}: given more than once")
            continue
        if not isinstance(value, dict):
            problems.append(f'{code}: expected {{"name": …, "description": …}}, got {type(value).__name__}')
            continue
        fields = {str(k).strip().casefold(): v for k, v in value.items()}
        unknown = sorted(set(fields) - set(_FIELDS))
        missing = [f for f in _FIELDS if f not in fields]
        if unknown:
            problems.append(f"{code}: unknown field(s) {unknown}; only 'name' and 'description' are allowed")
        if missing:
            problems.append(f"{code}: missing {' and '.join(missing)}")
        if not all(isinstance(fields.get(f, ""), str) for f in _FIELDS):
            problems.append(f"{code}: name and description must be text")
            continue
        entries[code] = {
            "name": " ".join(fields.get("name", "").split()),
            "description": fields.get("description", "").strip(),
        }
    problems += _missing(entries, levels, data)
    taken = {c: n for c, n in (existing_names or {}).items() if c not in entries}
    for code, entry in entries.items():
        others = [e["name"] for c, e in entries.items() if c != code] + list(taken.values())
        problems += [f"{code}: {p}" for p in validate_name(entry["name"], entry["description"], others)]
    if problems:
        raise AnswerError(problems)
    return entries


def _missing(entries: Mapping[str, object], levels: Mapping[str, str], data: Mapping) -> list[str]:
    """Clusters of the answered prompt(s) the answer leaves out."""
    if not data:
        return ["the answer names no cluster"]
    supergroups = sorted(c for c, level in levels.items() if level == "supergroup")
    named_sup = any(levels.get(c) == "supergroup" for c in entries)
    parents = {parent_of(c) for c in entries if levels.get(c) not in (None, "supergroup")}
    expected: Iterable[str] = (supergroups if named_sup else []) + sorted(
        c for c, level in levels.items() if level != "supergroup" and parent_of(c) in parents
    )
    return [f"{code}: missing from the answer" for code in expected if code not in entries]
