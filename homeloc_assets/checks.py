"""Asset checks of the home-location pipeline."""

import dagster as dg

from homeloc_assets import storage
from homeloc_assets.assets import KEY, locals_tourists_summary, user_country_userdays, user_locations
from homeloc_assets.stale_ranges import find_stale
from partitions.definitions import user_range_partitions
from resources.output_store import OutputStore
from resources.warehouse import Warehouse

MAX_QUARANTINE_RATE = 0.05


@dg.asset_check(
    asset=user_locations,
    partitions_def=user_range_partitions,
    blocking=True,
    description=f"At most {MAX_QUARANTINE_RATE:.0%} of the range's lines quarantined, and lines = rows + quarantined.",
)
def quarantine_rate_below_threshold(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse
) -> dg.AssetCheckResult:
    stats = warehouse.read("user_locations_stats", KEY, context.partition_key).iloc[0]
    lines, rows, bad = int(stats["n_lines"]), int(stats["n_rows"]), int(stats["n_quarantined"])
    rate = bad / lines if lines else 0.0
    reconciled = lines == rows + bad
    return dg.AssetCheckResult(
        passed=rate <= MAX_QUARANTINE_RATE and reconciled,
        metadata={"lines": lines, "rows": rows, "quarantined": bad, "rate": rate, "reconciled": reconciled},
    )


@dg.asset_check(
    asset=user_country_userdays,
    partitions_def=user_range_partitions,
    blocking=True,
    description="Userday totals are consistent: each user's total (union) is at least the largest country value and at most the sum, within HLL error.",
)
def userday_totals_consistent(
    context: dg.AssetCheckExecutionContext, outputs: OutputStore
) -> dg.AssetCheckResult:
    key = context.partition_key
    per_country = storage.read(outputs, "user_country_userdays", key)
    per_user = storage.read(outputs, "user_total_userdays", key).set_index("user_guid")
    grouped = per_country.groupby("user_guid")["userdays"].agg(["max", "sum"])
    joined = per_user.join(grouped, how="inner")
    # A union's estimate can fall a little below a part's; allow the ~2.3 % standard error three times over.
    tolerance = 0.07
    low = joined["total_userdays"] < joined["max"] * (1 - tolerance)
    high = joined["total_userdays"] > joined["sum"] * (1 + tolerance)
    missing = set(per_country["user_guid"]) - set(per_user.index)
    bad = int(low.sum() + high.sum()) + len(missing)
    return dg.AssetCheckResult(
        passed=bad == 0,
        metadata={
            "users": len(per_user),
            "inconsistent": bad,
            "examples": dg.MetadataValue.json(list(joined.index[low | high][:5])),
        },
    )


@dg.asset_check(
    asset=locals_tourists_summary,
    description="No results of user ranges outside the current partitions definition (GEODEM_USER_RANGES changed); the summary leaves them out either way; `geodem homeloc prune-stale` removes them.",
)
def no_stale_user_ranges(warehouse: Warehouse, outputs: OutputStore) -> dg.AssetCheckResult:
    current = user_range_partitions.get_partition_keys()
    stale = find_stale(warehouse, outputs.location("homeloc"), current)
    return dg.AssetCheckResult(
        passed=not stale.keys,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "stale_ranges": dg.MetadataValue.json(stale.keys),
            "current_ranges": len(current),
            "where": dg.MetadataValue.json({**stale.in_tables, **stale.in_folders}),
        },
    )


checks = [quarantine_rate_below_threshold, userday_totals_consistent, no_stale_user_ranges]
