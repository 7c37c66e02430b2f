"""What a cluster namer takes and returns: profiles in, names and pen portraits out."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol

LEVELS = ("supergroup", "group", "subgroup")  # coarsest first; groups only at depth 3
_CODE = re.compile(r"^([A-Z])(?:(\d+)([a-z])?)?$")


def parent_of(code: str) -> str | None:
    """A cluster code's parent (A1a -> A1, A1 -> A, A -> None), by the classification's code
    convention (geodem_assets.tiers); None also for a string that is not such a code."""
    found = _CODE.match(code)
    if not found or found.group(2) is None:
        return None
    return found.group(1) + (found.group(2) if found.group(3) else "")


@dataclass(frozen=True)
class ClusterProfile:
    """One cluster's index scores (100 = reference average) keyed by census variable name.

    For a group or subgroup the reference population is its parent (`parent_level`: the
    supergroup, or at depth 3 the group of a subgroup), so 100 means "as in the parent"; for a
    supergroup it is the whole region.
    """

    code: str
    level: str
    parent: str | None
    index_scores: dict[str, float]
    domains: dict[str, str]
    n_oas: int
    pct_oas: float
    population: int
    pct_population: float
    # What each variable's value is, by variable name: kind ("percentage", "density" or
    # "ratio") and unit (e.g. "% of households"). A variable without an entry is taken for a
    # percentage of residents; a density or a ratio is never spoken of as a share of residents.
    kinds: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    # A subgroup's index scores relative to the whole region (basis "raw"), beside its scores
    # relative to its supergroup in `index_scores`; empty for a supergroup (its scores already
    # are regional) and when unknown. The offline namer checks every word against them.
    region_scores: dict[str, float] = field(default_factory=dict)
    # The parent's level: "supergroup" (the default for a group or subgroup), or "group" for
    # the subgroup of a depth-3 classification.
    parent_level: str = ""

    def is_share(self, variable: str) -> bool:
        """False for a variable whose kind is a density or a ratio."""
        return self.kinds.get(variable, "percentage") == "percentage"

    def __post_init__(self) -> None:
        if not self.code or not self.code.strip():
            raise ValueError("cluster profile has an empty code")
        if self.level not in LEVELS:
            raise ValueError(f"cluster {self.code}: level must be one of {LEVELS}, got {self.level!r}")
        if self.level != "supergroup" and not self.parent_level:
            object.__setattr__(self, "parent_level", "supergroup")
        if self.level != "supergroup" and not self.parent:
            raise ValueError(f"{self.level} {self.code} has no parent {self.parent_level}")
        if self.level == "supergroup" and (self.parent is not None or self.parent_level):
            raise ValueError(f"supergroup {self.code} cannot have a parent (got {self.parent!r})")
        allowed = {"group": ("supergroup",), "subgroup": ("supergroup", "group")}.get(self.level, ())
        if self.level != "supergroup" and self.parent_level not in allowed:
            raise ValueError(
                f"{self.level} {self.code}: a parent {self.parent_level!r} is not one of {allowed}"
            )
        for variable, score in [*self.index_scores.items(), *self.region_scores.items()]:
            if not isinstance(score, (int, float)) or not math.isfinite(score):
                raise ValueError(
                    f"cluster {self.code}: index score of {variable!r} is not a finite number: {score!r}"
                )


@dataclass(frozen=True)
class ClusterName:
    """A cluster's name (at most 3 words) and pen portrait, and who wrote them."""

    code: str
    name: str
    description: str
    source: str  # "openai" | "offline" | "override"
    model: str | None
    prompt_version: str
    fallback_reason: str | None = None


@dataclass
class NamingReport:
    """The names of one region's clusters and what it cost to get them.

    `api_calls` counts HTTP requests sent (retries included); `fallbacks` holds one
    "<code>: <reason>" line per cluster whose model answer was replaced by the offline name.
    """

    names: list[ClusterName] = field(default_factory=list)
    api_calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    fallbacks: list[str] = field(default_factory=list)


class ClusterNamer(Protocol):
    def name_clusters(self, profiles: list[ClusterProfile], region_name: str) -> NamingReport: ...


def naming_order(profiles: list[ClusterProfile]) -> list[ClusterProfile]:
    """Supergroups, then groups, then subgroups, each by code, so a cluster can refer to its parent's name."""
    seen: set[str] = set()
    for profile in profiles:
        if profile.code in seen:
            raise ValueError(f"cluster code {profile.code!r} appears more than once")
        seen.add(profile.code)
    return sorted(profiles, key=lambda p: (LEVELS.index(p.level), p.code))
