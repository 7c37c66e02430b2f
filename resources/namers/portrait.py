"""Offline pen portraits: the characteristics scoring above 120 or below 80, in words, strongest first."""

from __future__ import annotations

from dataclasses import dataclass

from resources.namers.base import ClusterProfile
from resources.namers.name_builder import contrast
from resources.namers.rules import HIGH, LOW, MAX_DESCRIPTION_WORDS, word_count
from resources.namers.vocabulary import describe

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


def contrasts(profile: ClusterProfile) -> list[Contrast]:
    """Variables scoring above 120 or below 80, strongest contrast first."""
    found = [
        Contrast(variable, profile.domains.get(variable, "Other"), score, profile.is_share(variable))
        for variable, score in profile.index_scores.items()
        if score > HIGH or score < LOW
    ]
    return sorted(found, key=lambda c: (-contrast(c.score), c.variable))


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _compose(profile: ClusterProfile, name: str, chosen: list[Contrast], ref: str, ref_short: str) -> str:
    if not chosen:
        return (
            f"The {name} {profile.level} sits close to {ref} on every characteristic. "
            f"No feature stands out strongly in either direction, so its neighbourhoods are best "
            f"described as typical of the area around them."
        )
    lead, rest = chosen[:3], chosen[3:]
    strongest = _join([c.words() for c in lead])
    sentences = [f"The {name} {profile.level} is marked above all by {strongest}, compared with {ref}."]
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
    """Third-person pen portrait, at most 500 words, with no numbers from the index scores."""
    if profile.level == "supergroup":
        ref, ref_short = f"the {region_name} average", "the regional average"
    else:
        parent = f"the {parent_name} supergroup" if parent_name else f"supergroup {profile.parent}"
        ref, ref_short = f"the average for {parent}", "the supergroup average"
    chosen = contrasts(profile)
    # Weakest contrasts go first when the portrait would run over the word limit.
    while True:
        text = _compose(profile, name, chosen, ref, ref_short)
        if word_count(text) <= MAX_DESCRIPTION_WORDS or not chosen:
            return text
        chosen = chosen[:-1]
