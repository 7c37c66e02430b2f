"""Offline cluster names: descriptor words ranked by contrast, assembled into at most three words."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from resources.namers.base import ClusterProfile
from resources.namers.rules import HIGH, LOW, MAX_NAME_WORDS
from resources.namers.vocabulary import SLOTS, Concept, concept_for

# Heads for clusters whose own contrasts offer none; neutral words for the last resort.
_DEFAULT_HEADS = ("Residents", "Households", "Neighbourhoods")
_NEUTRAL_WORDS = ("Mixed", "Typical", "Mainstream", "Balanced", "Everyday", "Ordinary", "Average")
_MAX_ALTERNATIVE_MODIFIERS = 12


@dataclass(frozen=True)
class Ranked:
    """A name word with the strength of the contrast behind it.

    tier 0: index score outside 80..120; tier 1: outside 90..110; tier 2: anything else.
    strength: |ln(score / 100)|.
    """

    concept: Concept
    domain: str | None
    tier: int
    strength: float


def contrast(score: float) -> float:
    """|ln(score / 100)|: a score of 200 is as strong a contrast as a score of 50."""
    return abs(math.log(max(score, 0.5) / 100.0))


def _tier(score: float) -> int:
    if score > HIGH or score < LOW:
        return 0
    return 1 if (score > 110.0 or score < 90.0) else 2


def ranked_concepts(profile: ClusterProfile) -> list[Ranked]:
    """Each distinct name word the profile supports, strongest contrast first."""
    best: dict[Concept, Ranked] = {}
    for variable, score in profile.index_scores.items():
        domain = profile.domains.get(variable)
        concept = concept_for(variable, score, domain, profile.index_scores)
        if concept is None:
            continue
        ranked = Ranked(concept, domain, _tier(score), contrast(score))
        held = best.get(concept)
        if held is None or (ranked.tier, -ranked.strength) < (held.tier, -held.strength):
            best[concept] = ranked
    return sorted(best.values(), key=lambda r: (r.tier, -r.strength, r.concept.word))


def _words(concept: Concept) -> int:
    return len(concept.word.split())


def _assemble(head: Concept, modifiers: tuple[Ranked, ...]) -> str:
    ordered = sorted((m.concept for m in modifiers), key=lambda c: SLOTS.index(c.slot))
    return " ".join([c.word for c in ordered] + [head.word])


def _fits(head: Concept, modifiers: tuple[Ranked, ...]) -> bool:
    slots = [m.concept.slot for m in modifiers]
    words = [m.concept.word for m in modifiers] + [head.word]
    return (
        len(set(slots)) == len(slots)
        and len(set(words)) == len(words)
        and _words(head) + sum(_words(m.concept) for m in modifiers) <= MAX_NAME_WORDS
    )


def _best_modifiers(head: Ranked, modifiers: list[Ranked]) -> tuple[Ranked, ...]:
    """Strongest first, preferring words from domains the name does not speak of yet."""
    chosen: list[Ranked] = []
    for max_tier in (0, 1):
        for new_domain_only in (True, False):
            for candidate in modifiers:
                if candidate.tier > max_tier or candidate in chosen:
                    continue
                domains = {head.domain} | {c.domain for c in chosen}
                if new_domain_only and candidate.domain in domains:
                    continue
                if _fits(head.concept, (*chosen, candidate)):
                    chosen.append(candidate)
    return tuple(chosen)


def candidate_names(profile: ClusterProfile, parent_name: str | None = None) -> Iterator[str]:
    """Names for the profile, best first; the caller takes the first one not yet used in the region."""
    ranked = ranked_concepts(profile)
    fallback_heads = list(_DEFAULT_HEADS)
    if parent_name:
        fallback_heads.insert(0, parent_name.split()[-1])
    heads = [r for r in ranked if r.concept.slot == "head"] + [
        Ranked(Concept("head", word), None, 3, 0.0) for word in dict.fromkeys(fallback_heads)
    ]
    modifiers = [r for r in ranked if r.concept.slot != "head"]
    for head in heads:
        yield _assemble(head.concept, _best_modifiers(head, modifiers))
    # Alternatives for a region where the best names are taken: pairs, then single words,
    # by combined rank so stronger contrasts still come first.
    pool = modifiers[:_MAX_ALTERNATIVE_MODIFIERS]
    pairs = sorted(combinations(range(len(pool)), 2), key=lambda ij: (ij[0] + ij[1], ij))
    for head in heads:
        for i, j in pairs:
            if _fits(head.concept, (pool[i], pool[j])):
                yield _assemble(head.concept, (pool[i], pool[j]))
        for single in pool:
            if _fits(head.concept, (single,)):
                yield _assemble(head.concept, (single,))
    for head in heads:
        for word in _NEUTRAL_WORDS:
            yield f"{word} {head.concept.word}"


def unique_name(profile: ClusterProfile, taken: set[str], parent_name: str | None = None) -> str:
    """The best candidate name not in `taken` (compared case-insensitively)."""
    used = {t.casefold() for t in taken}
    for name in candidate_names(profile, parent_name):
        if name.casefold() not in used:
            return name
    raise RuntimeError(f"cluster {profile.code}: every candidate name is already used in this region")
