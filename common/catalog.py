"""Attach owners, kinds and tags from a domain's catalog to its asset specs (no Dagster import here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def dress(
    owners: list[str], kinds: Mapping[str, set[str]], tags: Mapping[str, Mapping[str, str]]
) -> Callable:
    """A function for `dagster.map_asset_specs`: merges the catalog's entries into each spec.

    Raises KeyError naming the asset when the catalog has no entry for it, so a new asset
    cannot reach the UI undressed.
    """

    def apply(spec: Any) -> Any:
        name = spec.key.to_user_string()
        if name not in kinds or name not in tags:
            raise KeyError(f"asset {name!r} has no entry in its domain's catalog (kinds and tags)")
        return spec.merge_attributes(owners=owners, kinds=set(kinds[name]), tags=dict(tags[name]))

    return apply
