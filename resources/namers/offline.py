"""The offline namer: deterministic names and pen portraits from index scores, no network."""

from __future__ import annotations

from resources.namers.base import ClusterName, ClusterProfile, NamingReport, naming_order
from resources.namers.name_builder import unique_name
from resources.namers.portrait import pen_portrait

OFFLINE_VERSION = "offline-1"


class OfflineNamer:
    """Names built from a vocabulary of census variables, strongest contrasts first."""

    def name_profile(
        self, profile: ClusterProfile, region_name: str, taken: set[str], parent_name: str | None = None
    ) -> ClusterName:
        """Name one cluster, avoiding the names already `taken` in the region."""
        name = unique_name(profile, taken, parent_name)
        return ClusterName(
            code=profile.code,
            name=name,
            description=pen_portrait(profile, name, region_name, parent_name),
            source="offline",
            model=None,
            prompt_version=OFFLINE_VERSION,
        )

    def name_clusters(self, profiles: list[ClusterProfile], region_name: str) -> NamingReport:
        """Names for all of a region's clusters, supergroups first, unique within the region."""
        report = NamingReport()
        taken: set[str] = set()
        names_by_code: dict[str, str] = {}
        for profile in naming_order(profiles):
            named = self.name_profile(profile, region_name, taken, names_by_code.get(profile.parent or ""))
            taken.add(named.name)
            names_by_code[profile.code] = named.name
            report.names.append(named)
        return report

    def __repr__(self) -> str:
        return "OfflineNamer()"
