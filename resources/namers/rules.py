"""The rules every cluster name and pen portrait must follow, whoever wrote them."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_NAME_WORDS = 3
MAX_DESCRIPTION_WORDS = 500
HIGH = 120.0  # index scores above this are worth describing
LOW = 80.0  # ... and below this

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
_SCORE_WORDS = re.compile(r"\b(?:index|score|scores|scoring|scored)\b", re.IGNORECASE)
_FIRST_OR_SECOND_PERSON = re.compile(r"\b(?:I|we|We|our|Our|us|you|You|your|Your)\b")


def word_count(text: str) -> int:
    return len(text.split())


def _looks_like_a_score(match: re.Match, text: str) -> bool:
    """Decimals, percentages, numbers of 100 or more, the 80/120 thresholds, or any number near 'score'."""
    token = match.group()
    if "." in token or "%" in token:
        return True
    value = int(token.replace(",", ""))
    if value >= 100 or value in (80, 120):
        return True
    before = text[max(0, match.start() - 30) : match.start()]
    return bool(_SCORE_WORDS.search(before))


def validate_name(name: str, description: str, taken_names: Iterable[str] = ()) -> list[str]:
    """Rule violations of a cluster name and pen portrait; an empty list means both are fine.

    Names are compared with the region's names already taken case-insensitively. Ages such as
    "aged 85 and over" are allowed in the description; anything that looks like an index score
    is not.
    """
    problems: list[str] = []
    name = (name or "").strip()
    description = (description or "").strip()
    if not name:
        problems.append("name is empty")
    else:
        if word_count(name) > MAX_NAME_WORDS:
            problems.append(
                f"name {name!r} has {word_count(name)} words; at most {MAX_NAME_WORDS} are allowed"
            )
        if any(ch.isdigit() for ch in name):
            problems.append(f"name {name!r} contains digits; it must be words only")
        if name.casefold() in {t.strip().casefold() for t in taken_names}:
            problems.append(f"name {name!r} is already used by another cluster in this region")
    if not description:
        problems.append("description is empty")
    else:
        if word_count(description) > MAX_DESCRIPTION_WORDS:
            problems.append(
                f"description has {word_count(description)} words; at most {MAX_DESCRIPTION_WORDS} are allowed"
            )
        quoted = [m.group() for m in _NUMBER.finditer(description) if _looks_like_a_score(m, description)]
        if quoted:
            problems.append(
                f"description quotes numbers that look like index scores: {', '.join(quoted[:5])}"
            )
        if _FIRST_OR_SECOND_PERSON.search(description):
            problems.append("description is not in the third person (it uses I, we, our, us, you or your)")
    return problems
