"""Results of user ranges that are no longer partitions: find them, report them, prune them.

Changing ``GEODEM_USER_RANGES`` (say 16 → 256) changes the partition keys (``"00-0f"`` →
``"00"``, ``"01"``, …); the results of the old ranges stay in the warehouse and under
``GEODEM_OUTPUT_DIR/homeloc/<table>/<key>.parquet`` until removed. Keys of different range
counts never coincide (partitions/user_ranges.py), so a key that is not in the current
partitions definition is *stale*: its users are also in some current range, and counting
both would count them twice. ``locals_tourists_summary`` therefore counts and exports only
current keys and names the stale ones; ``prune_stale`` (``geodem homeloc prune-stale``, or
``prune_stale_ranges: true`` in the summary's run config) deletes them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

from common.locations import join, list_files, remove

KEY_COLUMN = "user_range"
# Warehouse tables written per range (replace_partition) and per-range Parquet folders.
RANGE_TABLES = ("user_home_country", "user_classification", "userday_quarantine", "user_locations_stats")
RANGE_FOLDERS = (
    "user_locations",
    "user_country_userdays",
    "user_total_userdays",
    "user_home_country",
    "user_classification",
)


@dataclass
class StaleRanges:
    """Partition keys found in the warehouse or the per-range folders that are not current."""

    current: list[str]
    in_tables: dict[str, list[str]] = field(default_factory=dict)  # table -> stale keys
    in_folders: dict[str, list[str]] = field(default_factory=dict)  # folder -> stale keys

    @property
    def keys(self) -> list[str]:
        """Every stale key, sorted."""
        found = {k for keys in (*self.in_tables.values(), *self.in_folders.values()) for k in keys}
        return sorted(found)

    @property
    def range_count_changed(self) -> bool:
        return bool(self.keys)


class RangeTables(Protocol):
    """What the stale-range search needs of a warehouse (resources.warehouse.Warehouse)."""

    def has_table(self, table: str) -> bool: ...

    def distinct(self, table: str, column: str) -> list[str]: ...

    def delete_partitions(self, table: str, key_column: str, keys: list[str]) -> int: ...


def _folder_keys(folder: str | os.PathLike) -> list[str]:
    return [name[: -len(".parquet")] for name in list_files(folder, ".parquet")]


def find_stale(
    warehouse: RangeTables, homeloc_dir: str | os.PathLike, current_keys: list[str]
) -> StaleRanges:
    """The stale keys of every range table of ``warehouse`` (a resources.warehouse.Warehouse)
    and every per-range folder under ``homeloc_dir`` (GEODEM_OUTPUT_DIR/homeloc, a path or URL)."""
    current = set(current_keys)
    found = StaleRanges(current=list(current_keys))
    for table in RANGE_TABLES:
        stale = [k for k in warehouse.distinct(table, KEY_COLUMN) if k not in current]
        if stale:
            found.in_tables[table] = stale
    for name in RANGE_FOLDERS:
        stale = [k for k in _folder_keys(join(homeloc_dir, name)) if k not in current]
        if stale:
            found.in_folders[name] = stale
    return found


def prune_stale(
    warehouse: RangeTables, homeloc_dir: str | os.PathLike, current_keys: list[str]
) -> dict[str, int]:
    """Delete the rows and per-range files of every stale key; returns what went, per table or
    folder (rows for tables, files for folders). Current keys are never touched."""
    stale = find_stale(warehouse, homeloc_dir, current_keys)
    removed: dict[str, int] = {}
    for table, keys in stale.in_tables.items():
        removed[f"table {table}"] = warehouse.delete_partitions(table, KEY_COLUMN, keys)
    for name, keys in stale.in_folders.items():
        for key in keys:
            remove(join(homeloc_dir, name, f"{key}.parquet"))
        removed[f"folder {name}"] = len(keys)
    return removed
