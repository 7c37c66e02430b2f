"""Hand-written names and pen portraits that replace generated ones, from a YAML file per region.

A:
  name: Established Professional Residents
D1:
  name: Student Halls
  description: Purpose-built student accommodation near the universities ...
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import yaml

from resources.namers.base import ClusterName
from resources.namers.rules import validate_name

_FIELDS = ("name", "description")


class Overrides(dict):
    """code -> {"name"?, "description"?}, remembering the file it came from for error messages."""

    def __init__(self, entries: dict[str, dict[str, str]] | None = None, source: str = "<overrides>") -> None:
        super().__init__(entries or {})
        self.source = source


def load_overrides(path: str | os.PathLike) -> Overrides:
    """Read an overrides YAML file; a missing or empty file means no overrides."""
    path = Path(path)
    if not path.exists():
        return Overrides(source=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return Overrides(source=str(path))
    if not isinstance(data, dict):
        raise ValueError(
            f"{path}: expected a mapping of cluster codes to name/description, got {type(data).__name__}"
        )
    entries: dict[str, dict[str, str]] = {}
    for code, fields in data.items():
        code = str(code).strip()
        if not isinstance(fields, dict) or not fields:
            raise ValueError(f"{path}: cluster {code}: expected a mapping with 'name' and/or 'description'")
        unknown = sorted(set(map(str, fields)) - set(_FIELDS))
        if unknown:
            raise ValueError(
                f"{path}: cluster {code}: unknown field(s) {unknown}; allowed are {list(_FIELDS)}"
            )
        for key, value in fields.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{path}: cluster {code}: {key} must be non-empty text")
        entries[code] = {
            key: " ".join(value.split()) if key == "name" else value.strip() for key, value in fields.items()
        }
    return Overrides(entries, source=str(path))


def apply_overrides(names: list[ClusterName], overrides: dict[str, dict[str, str]]) -> list[ClusterName]:
    """The names with overrides applied (source "override"); unknown codes or broken rules raise ValueError."""
    source = getattr(overrides, "source", "<overrides>")
    known = {named.code for named in names}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"{source}: cluster code(s) {unknown} not in this classification (codes: {sorted(known)})"
        )
    result = [
        dataclasses.replace(named, source="override", **overrides[named.code])
        if named.code in overrides
        else named
        for named in names
    ]
    for index, named in enumerate(result):
        if named.code not in overrides:
            continue
        others = [other.name for j, other in enumerate(result) if j != index]
        problems = validate_name(named.name, named.description, others)
        if problems:
            raise ValueError(f"{source}: cluster {named.code}: " + "; ".join(problems))
    return result


def save_overrides(path: str | os.PathLike, entries: dict[str, dict[str, str]]) -> Overrides:
    """Merge `entries` (code -> {"name"?, "description"?}) into the overrides file and write it.

    A code already in the file has its entry replaced, so importing the same clusters again
    replaces rather than duplicates; other clusters' entries are kept. The file is written
    whole through a temporary file, so a reader never sees half of it. Returns the merged
    overrides; raises ValueError (naming the file) when the existing file is broken.
    """
    path = Path(path)
    merged = dict(load_overrides(path))
    for code, fields in entries.items():
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise ValueError(f"{path}: cluster {code}: unknown field(s) {unknown}")
        merged[code] = dict(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(
        yaml.safe_dump(dict(sorted(merged.items())), allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    os.replace(temporary, path)
    return Overrides(merged, source=str(path))
