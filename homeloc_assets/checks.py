"""Asset checks of the home-location pipeline."""

import dagster as dg

from homeloc_assets import storage
from homeloc_assets.assets import KEY, user_country_userdays, user_locations
from resources.output_store import OutputStore
from resources.warehouse import Warehouse

MAX_QUARANTINE_RATE = 0.05


@dg.asset_check(
    asset=user_locations,
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


checks = [quarantine_rate_below_threshold, userday_totals_consistent]
