"""Region definitions (partitions/regions.yaml) and the region partitions built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

REGIONS_FILE = Path(__file__).with_name("regions.yaml")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class UnknownRegionError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Region:
    slug: str
    name: str
    lads: tuple[str, ...] | None  # None = every LAD in the release
    k: int | None = None
    subgroups: tuple[int, ...] | None = None  # per supergroup (depth 2) or per group (depth 3)
    depth: int | None = None  # tiers: 2 (supergroup, subgroup) or 3 (+ group); None = 2
    groups: tuple[int, ...] | None = None  # groups per supergroup, depth 3 only
    drop_variables: tuple[str, ...] = field(default_factory=tuple)
    umap_epochs: int | None = None  # None = the reference's 500


def parse_regions(text: str, source: str = "regions.yaml") -> dict[str, Region]:
    """Parse and validate the YAML text of a regions file; errors name the file and entry."""
    doc = yaml.safe_load(text) or {}
    out: dict[str, Region] = {}
    for i, entry in enumerate(doc.get("regions") or []):
        where = f"{source}: regions[{i}]"
        slug = entry.get("slug")
        if not slug or not _SLUG.match(str(slug)):
            raise ValueError(f"{where}: slug {slug!r} must be lowercase letters, digits and hyphens")
        if slug in out:
            raise ValueError(f"{where}: duplicate slug {slug!r}")
        lads = entry.get("lads")
        if lads != "all" and (not isinstance(lads, list) or not lads):
            raise ValueError(f"{where} ({slug}): lads must be a non-empty list of LAD22CD codes or 'all'")
        k = entry.get("k")
        if k is not None and (not isinstance(k, int) or not 1 <= k <= 26):
            raise ValueError(f"{where} ({slug}): k must be an integer from 1 to 26, got {k!r}")
        depth = entry.get("depth")
        if depth is not None and depth not in (2, 3):
            raise ValueError(f"{where} ({slug}): depth must be 2 or 3, got {depth!r}")
        groups = _counts(entry, "groups", where, slug)
        subgroups = _counts(entry, "subgroups", where, slug)
        if groups is not None and depth != 3:
            raise ValueError(f"{where} ({slug}): groups are a depth-3 tier; set depth: 3 or drop groups")
        if depth == 3:
            if groups is not None and k is not None and len(groups) != k:
                raise ValueError(f"{where} ({slug}): {len(groups)} group counts for k={k}")
            if subgroups is not None and groups is None:
                raise ValueError(
                    f"{where} ({slug}): at depth 3 subgroups are counted per group; give groups too"
                )
            if subgroups is not None and groups is not None and len(subgroups) != sum(groups):
                raise ValueError(
                    f"{where} ({slug}): {len(subgroups)} subgroup counts for the {sum(groups)} groups"
                )
        elif subgroups is not None and k is not None and len(subgroups) != k:
            raise ValueError(f"{where} ({slug}): {len(subgroups)} subgroup counts for k={k}")
        epochs = entry.get("umap_epochs")
        if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1):
            raise ValueError(f"{where} ({slug}): umap_epochs must be a positive integer, got {epochs!r}")
        out[slug] = Region(
            slug=slug,
            name=str(entry.get("name") or slug),
            lads=None if lads == "all" else tuple(str(c) for c in lads),
            k=k,
            subgroups=subgroups,
            depth=depth,
            groups=groups,
            drop_variables=tuple(entry.get("drop_variables") or ()),
            umap_epochs=epochs,
        )
    if not out:
        raise ValueError(f"{source}: no regions defined")
    return out


def _counts(entry: dict, key: str, where: str, slug: str) -> tuple[int, ...] | None:
    values = entry.get(key)
    if values is None:
        return None
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ValueError(f"{where} ({slug}): {key} must be a list of positive integers, got {values!r}")
    return tuple(values)


@cache
def load_regions(path: Path = REGIONS_FILE) -> dict[str, Region]:
    return parse_regions(Path(path).read_text(), source=str(Path(path).name))


def get_region(slug: str) -> Region:
    regions = load_regions()
    if slug not in regions:
        raise UnknownRegionError(
            f"unknown region {slug!r}; known regions: {', '.join(regions)} (see partitions/regions.yaml)"
        )
    return regions[slug]
