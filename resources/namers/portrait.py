"""Offline pen portraits: the characteristics scoring above 120 or below 80, in words, strongest first."""

from __future__ import annotations

from dataclasses import dataclass

from resources.namers.base import ClusterProfile
from resources.namers.name_builder import backs, contrast
from resources.namers.rules import HIGH, LOW, MAX_DESCRIPTION_WORDS, word_count
from resources.namers.vocabulary import concept_for, concepts_in, describe

_REGIONAL_ITEMS = 4

_DOMAIN_OPENERS = {
    "Demographic": "In age and population",
    "Ethnicity and Origins": "In origins, ethnicity and faith",
    "Living Arrangements": "Among households",
    "Usual Residence": "In housing and tenure",
    "Employment": "At work",
    "Other": "In health, qualifications and car ownership",
}
_OTHER_OPENER = "Among other characteristics"


@dataclass(frozen=True)
class Contrast:
    variable: str
    domain: str
    score: float
    share: bool = True  # False for a density or a ratio: spoken of as a level

    @property
    def high(self) -> bool:
        return self.score > HIGH

    def words(self) -> str:
        """E.g. "far more full-time students", "a much lower population density"."""
        descriptor = describe(self.variable, self.domain, self.share)
        ratio = self.score / 100.0
        if self.high:
            degree = "far " if ratio >= 2.0 else "much " if ratio >= 1.5 else ""
        else:
            degree = "far " if ratio <= 0.5 else "much " if ratio <= 0.65 else ""
        if descriptor.kind == "level":
            return f"a {degree}{'higher' if self.high else 'lower'} {descriptor.phrase}"
        if self.high:
            return f"{'many ' if degree == 'much ' else degree}more {descriptor.phrase}"
        return f"{'many ' if degree == 'much ' else degree}fewer {descriptor.phrase}"


def contrasts(profile: ClusterProfile, scores: dict[str, float] | None = None) -> list[Contrast]:
    """Variables scoring above 120 or below 80 (default: the profile's own scores), strongest first."""
    scores = profile.index_scores if scores is None else scores
    found = [
        Contrast(variable, profile.domains.get(variable, "Other"), score, profile.is_share(variable))
        for variable, score in scores.items()
        if score > HIGH or score < LOW
    ]
    return sorted(found, key=lambda c: (-contrast(c.score), c.variable))


def name_evidence(profile: ClusterProfile, name: str, scores: dict[str, float]) -> dict[str, bool]:
    """Variable -> high? for every variable whose score in `scores` lends a word of `name`."""
    words = {c.word for c in concepts_in(name)}
    return {
        variable: score > HIGH
        for variable, score in scores.items()
        if backs(score)
        and (found := concept_for(variable, score, profile.domains.get(variable), scores)) is not None
        and found.word in words
    }


def _regional(profile: ClusterProfile, name: str, region_name: str) -> tuple[str, dict[str, bool]]:
    """A subgroup's sentence against the region, the evidence of its name's words first, and that evidence."""
    evidence = name_evidence(profile, name, profile.region_scores)
    found = contrasts(profile, profile.region_scores)
    chosen = (
        [c for c in found if c.variable in evidence] + [c for c in found if c.variable not in evidence]
    )[:_REGIONAL_ITEMS]
    if not chosen:
        return f"Against the {region_name} average, no characteristic stands out strongly.", evidence
    return f"Against the {region_name} average, it has {_join([c.words() for c in chosen])}.", evidence


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _compose(
    profile: ClusterProfile, name: str, chosen: list[Contrast], ref: str, ref_short: str, regional: str = ""
) -> str:
    if not chosen:
        return " ".join(
            filter(
                None,
                [
                    f"The {name} {profile.level} sits close to {ref} on every characteristic.",
                    regional,
                    "No feature stands out strongly in either direction, so its neighbourhoods are best "
                    "described as typical of the area around them.",
                ],
            )
        )
    lead, rest = chosen[:3], chosen[3:]
    strongest = _join([c.words() for c in lead])
    sentences = [f"The {name} {profile.level} is marked above all by {strongest}, compared with {ref}."]
    if regional:
        sentences.append(regional)
    domains: dict[str, list[Contrast]] = {}
    for item in rest:
        domains.setdefault(item.domain, []).append(item)
    for domain, items in domains.items():
        opener = _DOMAIN_OPENERS.get(domain, _OTHER_OPENER)
        highs = [c.words() for c in items if c.high]
        lows = [c.words() for c in items if not c.high]
        if highs:
            sentences.append(f"{opener}, its neighbourhoods have {_join(highs)} than {ref_short}.")
            if lows:
                sentences.append(f"By contrast, they have {_join(lows)} than {ref_short}.")
        else:
            sentences.append(f"{opener}, its neighbourhoods have {_join(lows)} than {ref_short}.")
    sentences.append(f"Its other characteristics do not stand out from {ref_short}.")
    return " ".join(sentences)


def pen_portrait(profile: ClusterProfile, name: str, region_name: str, parent_name: str | None = None) -> str:
    """Third-person pen portrait, at most 500 words, with no numbers from the index scores.

    A supergroup's portrait compares it with the region. A subgroup's compares it with its
    supergroup and, when its regional scores are known, says in one sentence how it stands
    against the region (the evidence of its name's words first); a contrast within the
    supergroup that runs against that evidence is left out, so the portrait never reads
    against the name.
    """
    regional = ""
    if profile.level == "supergroup":
        ref, ref_short = f"the {region_name} average", "the regional average"
        chosen = contrasts(profile)
    else:
        kind = profile.parent_level
        parent = f"the {parent_name} {kind}" if parent_name else f"{kind} {profile.parent}"
        ref, ref_short = f"the average for {parent}", f"the {kind} average"
        chosen = contrasts(profile)
        if profile.region_scores:
            regional, evidence = _regional(profile, name, region_name)
            chosen = [c for c in chosen if evidence.get(c.variable, c.high) == c.high]
    # Weakest contrasts go first when the portrait would run over the word limit.
    while True:
        text = _compose(profile, name, chosen, ref, ref_short, regional)
        if word_count(text) <= MAX_DESCRIPTION_WORDS or not chosen:
            return text
        chosen = chosen[:-1]
