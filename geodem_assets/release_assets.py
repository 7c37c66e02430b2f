"""Comparing a region's classification with the one of the previous census release it was classified on."""

import dagster as dg
import pandas as pd

from common.metadata import DEFAULT_MAX_ROWS
from geodem_assets import plots, transitions
from geodem_assets.assets import GROUP, release_fingerprint, subgroups
from geodem_assets.tables import REGION, present_levels, wide
from partitions.definitions import region_partitions
from resources.metadata import table_metadata, written_table_metadata
from resources.output_store import OutputStore
from resources.warehouse import Warehouse

CHANGED_OAS_FILE = "changed_oas.parquet"
TRANSITIONS_FILE = "transitions.csv"


def _written(warehouse: Warehouse, table: pd.DataFrame) -> dict:
    return written_table_metadata(
        table, transitions.TRANSITION_COLUMNS, **warehouse.location_metadata("cluster_transitions")
    )


def _moves_table(table: pd.DataFrame) -> pd.DataFrame:
    """A level's transitions for the asset page: every pair when they fit, else the moves only."""
    if len(table) <= DEFAULT_MAX_ROWS:
        return table
    moves = table[table["from_cluster"] != table["to_cluster"]]
    return moves.sort_values("oas", ascending=False).head(DEFAULT_MAX_ROWS)


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[subgroups],
    description="What changed since the previous census release: transition tables (previous cluster -> this one) and the OAs that changed cluster.",
)
def release_changes(
    context: dg.AssetExecutionContext, warehouse: Warehouse, outputs: OutputStore
) -> dg.MaterializeResult:
    slug = context.partition_key
    fingerprint = release_fingerprint(warehouse)
    previous = (
        warehouse.read("previous_release_labels", REGION, slug)
        if warehouse.has_table("previous_release_labels")
        else pd.DataFrame()
    )
    current = wide(warehouse.read("subgroups", REGION, slug))
    if previous.empty:
        # Nothing to compare yet: leave no stale comparison of another release behind.
        for name in (CHANGED_OAS_FILE, TRANSITIONS_FILE):
            outputs.remove("geodem", slug, name)
        warehouse.replace_partition("cluster_transitions", REGION, slug, transitions.empty_transition_table())
        return dg.MaterializeResult(
            metadata={
                "previous_release": "none: this is the first census release the region was classified on",
                "census_fingerprint": fingerprint,
                **_written(warehouse, transitions.empty_transition_table()),
            }
        )
    before_fp = str(previous["census_fingerprint"].iloc[0])
    before = wide(previous.drop(columns="census_fingerprint"))
    # The levels both classifications have (a change of depth compares the shared ones).
    levels = [lvl for lvl in present_levels(before) if lvl in present_levels(current)]
    tables = {lvl: transitions.transition_table(before[lvl], current[lvl], lvl) for lvl in levels}
    table = pd.concat(tables.values(), ignore_index=True)
    warehouse.replace_partition("cluster_transitions", REGION, slug, table)
    changed = transitions.changed_oas(before, current, levels)
    with outputs.writing("geodem", slug) as folder:  # a local folder, or staged for an object store
        table.to_csv(folder / TRANSITIONS_FILE, index=False)
        changed.to_parquet(folder / CHANGED_OAS_FILE, index=False)
    compared = len(before.index.intersection(current.index))
    metadata = {
        "previous_release": before_fp,
        "census_fingerprint": fingerprint,
        "oas_compared": compared,
        "oas_new": int((changed["change"] == transitions.NEW_OA).sum()),
        "oas_gone": int((changed["change"] == transitions.GONE_OA).sum()),
    }
    for lvl in levels:
        moved = tables[lvl][tables[lvl]["from_cluster"] != tables[lvl]["to_cluster"]]["oas"].sum()
        metadata[f"oas_changed_{lvl}"] = int(moved)
        metadata[f"pct_changed_{lvl}"] = dg.MetadataValue.float(
            round(100.0 * float(moved) / max(compared, 1), 2)
        )
    for lvl in levels:
        metadata[f"{lvl}_transitions"] = table_metadata(
            _moves_table(tables[lvl]).round({"pct_of_from": 2, "pct_of_all": 2}),
            transitions.TRANSITION_COLUMNS,
        )
    for lvl in levels:
        metadata[f"{lvl}_heatmap"] = dg.MetadataValue.md(
            plots.transition_heatmap(
                transitions.transition_matrix(tables[lvl]), f"{lvl}s: previous release (rows) -> this release"
            )
        )
    metadata.update(
        {
            "changed_oas_file": dg.MetadataValue.path(outputs.location("geodem", slug, CHANGED_OAS_FILE)),
            "transitions_file": dg.MetadataValue.path(outputs.location("geodem", slug, TRANSITIONS_FILE)),
            **_written(warehouse, table),
            "changed_oas": len(changed),
        }
    )
    return dg.MaterializeResult(metadata=metadata)


assets = [release_changes]
