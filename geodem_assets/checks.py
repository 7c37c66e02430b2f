"""Asset checks of the geodemographic pipeline: bad data must not flow on."""

import dagster as dg
import numpy as np
import pandas as pd

from geodem_assets.assets import census_release, region_matrix, region_output_areas, subgroups, supergroups
from geodem_assets.census import EXPECTED_VARIABLES, validate_variables
from geodem_assets.tables import REGION, present_levels, wide
from partitions.definitions import region_partitions
from partitions.regions import get_region
from resources.warehouse import Warehouse

MIN_SUPERGROUP_SHARE = 0.01  # a supergroup below 1 % of the region's OAs is a degenerate split,
# unless it holds this many OAs: about 140,000 residents, enough for a stable profile. The 1 %
# rule alone refused a national supergroup of 2,371 OAs (0.99 % of the UK's 239,023).
ENOUGH_SUPERGROUP_OAS = 500


def min_supergroup_oas(n_oas: int) -> int:
    """Fewest OAs a supergroup of a region of ``n_oas`` OAs may hold: 1 % of them, at most
    ENOUGH_SUPERGROUP_OAS, at least 2."""
    return max(min(int(MIN_SUPERGROUP_SHARE * n_oas), ENOUGH_SUPERGROUP_OAS), 2)


MIN_SUBGROUP_OAS = 3


@dg.asset_check(
    asset=census_release,
    blocking=True,
    description="The ingested census has the 58 variables, numeric and finite, each in its valid range (percentages 0-100, density and SIR ≥ 0), unique OAs.",
)
def census_schema_and_ranges(warehouse: Warehouse) -> dg.AssetCheckResult:
    variables = warehouse.read("census_variables").set_index("OA")
    problems = validate_variables(variables, "census_variables")
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"problems": dg.MetadataValue.json(problems), "variables": len(EXPECTED_VARIABLES)},
    )


@dg.asset_check(
    asset=region_output_areas,
    partitions_def=region_partitions,
    blocking=True,
    description="The region has enough OAs for its clustering: at least 10 per supergroup and subgroup asked for.",
)
def region_size_vs_k(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    region = get_region(context.partition_key)
    n = len(warehouse.read("region_output_areas", REGION, region.slug))
    needed = 10 * max(region.k or 9, sum(region.subgroups or ()))
    return dg.AssetCheckResult(
        passed=n >= needed,
        metadata={"oas": n, "needed": needed},
        description=None if n >= needed else f"region {region.slug} has {n} OAs; {needed} needed",
    )


@dg.asset_check(
    asset=region_matrix,
    partitions_def=region_partitions,
    blocking=True,
    description="The matrix has no missing or infinite values and lies in [0, 1].",
)
def matrix_finite_and_scaled(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse
) -> dg.AssetCheckResult:
    X = wide(warehouse.read("region_matrix", REGION, context.partition_key)).to_numpy(dtype=float)
    finite = bool(np.isfinite(X).all())
    in_range = bool(finite and X.min() >= 0 and X.max() <= 1)
    return dg.AssetCheckResult(
        passed=finite and in_range,
        metadata={"finite": finite, "in_unit_range": in_range, "shape": str(X.shape)},
    )


def cluster_sizes(labels: pd.Series, expected: list[str]) -> pd.Series:
    """OAs per cluster for every expected cluster code, 0 for a code no OA carries; codes that
    are not expected are counted too (they are as wrong as an empty cluster)."""
    counts = labels.value_counts()
    return counts.reindex(sorted(set(expected) | set(counts.index)), fill_value=0).astype(int)


def _size_problems(
    table: pd.DataFrame, column: str, minimum: int, expected: list[str]
) -> tuple[list[str], dict]:
    sizes = cluster_sizes(table[column], expected)
    small = {str(c): int(n) for c, n in sizes.items() if n < minimum}
    unexpected = sorted(set(sizes.index) - set(expected))
    problems = []
    if small:
        problems.append(f"{column}s below {minimum} OAs: {small}")
    if unexpected:
        problems.append(f"{column} labels that the fit did not produce: {unexpected}")
    return problems, {"clusters": len(expected), "smallest": int(sizes.min()), "too_small": small}


def _cluster_sizes_check(
    table: pd.DataFrame, column: str, minimum: int, expected: list[str]
) -> dg.AssetCheckResult:
    problems, found = _size_problems(table, column, minimum, expected)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "clusters": found["clusters"],
            "smallest": found["smallest"],
            "minimum": minimum,
            "too_small": dg.MetadataValue.json(found["too_small"]),
        },
        description="; ".join(problems) or None,
    )


@dg.asset_check(
    asset=supergroups,
    partitions_def=region_partitions,
    blocking=True,
    description=f"No empty or tiny supergroup (each of the k fitted ≥ 1 % of the region's OAs, or ≥ {ENOUGH_SUPERGROUP_OAS} OAs).",
)
def supergroups_not_tiny(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    table = warehouse.read("supergroups", REGION, context.partition_key)
    expected = warehouse.read("supergroup_centroids", REGION, context.partition_key)["supergroup"]
    return _cluster_sizes_check(table, "supergroup", min_supergroup_oas(len(table)), expected.tolist())


@dg.asset_check(
    asset=subgroups,
    partitions_def=region_partitions,
    blocking=True,
    description=f"No empty or tiny group or subgroup (each fitted ≥ {MIN_SUBGROUP_OAS} OAs).",
)
def subgroups_not_tiny(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    codes = warehouse.read("subgroup_codes", REGION, context.partition_key)
    table = warehouse.read("subgroups", REGION, context.partition_key)
    problems, metadata = [], {"minimum": MIN_SUBGROUP_OAS}
    for level in present_levels(codes):
        if level == "supergroup":
            continue
        found, sizes = _size_problems(table, level, MIN_SUBGROUP_OAS, codes[level].dropna().unique().tolist())
        problems += found
        prefix = "" if level == "subgroup" else f"{level}_"
        metadata.update(
            {
                f"{prefix}clusters": sizes["clusters"],
                f"{prefix}smallest": sizes["smallest"],
                f"{prefix}too_small": dg.MetadataValue.json(sizes["too_small"]),
            }
        )
    return dg.AssetCheckResult(
        passed=not problems, metadata=metadata, description="; ".join(problems) or None
    )


checks = [
    census_schema_and_ranges,
    region_size_vs_k,
    matrix_finite_and_scaled,
    supergroups_not_tiny,
    subgroups_not_tiny,
]
