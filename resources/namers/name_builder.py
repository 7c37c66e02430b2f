"""Offline cluster names: words backed by strong index scores, assembled into at most three words.

Every descriptive word needs an index score above 120 or below 80 on a variable that lends it
(resources.namers.vocabulary). A supergroup is named from its scores against the region. A
subgroup keeps the words of its supergroup's name that its own regional scores still back
(what it shares) and adds words from its scores against the supergroup (what sets it apart)
that the regional scores do not deny; words that contradict each other never meet in a name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from resources.namers.base import ClusterProfile
from resources.namers.rules import HIGH, LOW, MAX_NAME_WORDS
from resources.namers.vocabulary import SLOTS, Concept, concept_for, concepts_in, contradicts

# Head nouns that claim nothing, for clusters whose scores back no head noun; neutral words
# are the last resort of a region whose backed names are all taken.
GENERIC_HEADS = ("Residents", "Households", "Neighbourhoods")
NEUTRAL_WORDS = ("Mixed", "Typical", "Mainstream", "Balanced", "Everyday", "Ordinary", "Average")
_MAX_ALTERNATIVE_MODIFIERS = 12

REGION, SUPERGROUP = "region", "supergroup"


@dataclass(frozen=True)
class Ranked:
    """A name word with the index score behind it.

    basis: "region" (the score compares the cluster with the region) or "supergroup" (a
    subgroup against its supergroup). strength: |ln(score / 100)|. shared: the word is in the
    supergroup's name and the subgroup's regional scores back it too.
    """

    concept: Concept
    domain: str | None
    variable: str
    score: float
    basis: str
    strength: float
    shared: bool = False


def contrast(score: float) -> float:
    """|ln(score / 100)|: a score of 200 is as strong a contrast as a score of 50."""
    return abs(math.log(max(score, 0.5) / 100.0))


def backs(score: float) -> bool:
    """A score strong enough to lend a name word: above 120 or below 80."""
    return score > HIGH or score < LOW


def ranked_concepts(
    profile: ClusterProfile, scores: dict[str, float] | None = None, basis: str = REGION
) -> list[Ranked]:
    """Each distinct name word the scores back (default: the profile's own), strongest first."""
    scores = profile.index_scores if scores is None else scores
    best: dict[Concept, Ranked] = {}
    for variable, score in scores.items():
        if not backs(score):
            continue
        domain = profile.domains.get(variable)
        concept = concept_for(variable, score, domain, scores)
        if concept is None:
            continue
        ranked = Ranked(concept, domain, variable, score, basis, contrast(score))
        held = best.get(concept)
        if held is None or ranked.strength > held.strength:
            best[concept] = ranked
    return sorted(best.values(), key=lambda r: (-r.strength, r.concept.word))


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
        and not any(contradicts(a, b) for a, b in combinations(words, 2))
    )


def _best_modifiers(head: Ranked, modifiers: list[Ranked]) -> tuple[Ranked, ...]:
    """Strongest first, preferring words from domains the name does not speak of yet."""
    chosen: list[Ranked] = []
    for new_domain_only in (True, False):
        for candidate in modifiers:
            if candidate in chosen:
                continue
            domains = {head.domain} | {c.domain for c in chosen}
            if new_domain_only and candidate.domain in domains:
                continue
            if _fits(head.concept, (*chosen, candidate)):
                chosen.append(candidate)
    return tuple(chosen)


def _generic(word: str) -> Ranked:
    return Ranked(Concept("head", word), None, "", 100.0, REGION, 0.0)


def _supergroup_names(ranked: list[Ranked]) -> Iterator[str]:
    heads = [r for r in ranked if r.concept.slot == "head"] + [_generic(w) for w in GENERIC_HEADS]
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


def subgroup_words(profile: ClusterProfile, parent_name: str | None) -> tuple[list[Ranked], list[Ranked]]:
    """(shared, own): the supergroup name's words the subgroup's regional scores back, and the
    words its scores against the supergroup back that its regional scores do not deny.

    An own word must point the same way against the region as against the supergroup (more
    social renting than its supergroup is not "Social Renters" if it is still below the
    region's level); one that contradicts a word of the supergroup's name needs a regional
    score above 120 or below 80 of its own (the subgroup truly differs from its supergroup), and
    none may contradict a word its regional scores back.
    Without regional scores nothing can be shared and own words are checked within only.
    """
    parent_words = {c.word for c in concepts_in(parent_name or "")}
    regional = profile.region_scores
    regional_words = ranked_concepts(profile, regional, REGION)
    shared = [
        Ranked(r.concept, r.domain, r.variable, r.score, REGION, r.strength, shared=True)
        for r in regional_words
        if r.concept.word in parent_words
    ]
    own = []
    for r in ranked_concepts(profile, profile.index_scores, SUPERGROUP):
        if r.concept.word in parent_words:
            continue
        there = regional.get(r.variable)
        if there is not None and (there >= 100.0) != (r.score > HIGH):
            continue
        if any(contradicts(r.concept.word, s.concept.word) for s in regional_words):
            continue
        if any(contradicts(r.concept.word, w) for w in parent_words) and not (
            there is not None and backs(there) and (there > HIGH) == (r.score > HIGH)
        ):
            continue
        own.append(r)
    return shared, own


def _subgroup_names(profile: ClusterProfile, parent_name: str | None) -> Iterator[str]:
    shared, own = subgroup_words(profile, parent_name)
    words = shared + own
    heads = [r for r in words if r.concept.slot == "head"] + [_generic(w) for w in GENERIC_HEADS]
    pool = sorted((r for r in words if r.concept.slot != "head"), key=lambda r: -r.strength)
    pool = pool[:_MAX_ALTERNATIVE_MODIFIERS]
    names: list[tuple[tuple, str]] = []
    for head in heads:
        for size in (2, 1, 0):
            for mods in combinations(pool, size):
                if not _fits(head.concept, mods):
                    continue
                used = (head, *mods) if head.variable else mods
                has_own = any(not r.shared for r in used)
                has_shared = any(r.shared for r in used)
                key = (
                    bool(own) and not has_own,
                    bool(shared) and not has_shared,
                    not head.variable,
                    -sum(_words(r.concept) for r in (head, *mods)),
                    -sum(r.strength for r in used),
                )
                names.append((key, _assemble(head.concept, mods)))
    names.sort(key=lambda kn: kn[0])
    yield from dict.fromkeys(name for _, name in names)


def candidate_names(profile: ClusterProfile, parent_name: str | None = None) -> Iterator[str]:
    """Names for the profile, best first; the caller takes the first one not yet used in the region."""
    if profile.parent is not None:  # a group or subgroup: named against its parent
        yield from _subgroup_names(profile, parent_name)
        shared, _ = subgroup_words(profile, parent_name)
        heads = [r.concept.word for r in shared if r.concept.slot == "head"]
    else:
        yield from _supergroup_names(ranked_concepts(profile))
        heads = []
    for head in [*heads, *GENERIC_HEADS]:
        for word in NEUTRAL_WORDS:
            yield f"{word} {head}"


def unique_name(profile: ClusterProfile, taken: set[str], parent_name: str | None = None) -> str:
    """The best candidate name not in `taken` (compared case-insensitively)."""
    used = {t.casefold() for t in taken}
    for name in candidate_names(profile, parent_name):
        if name.casefold() not in used:
            return name
    raise RuntimeError(f"cluster {profile.code}: every candidate name is already used in this region")
