"""The Dagster partitions: regions (from regions.yaml) and user-guid ranges (GEODEM_USER_RANGES, default 16)."""

import os
import warnings

import dagster as dg

from partitions.regions import load_regions
from partitions.user_ranges import user_ranges

# The checks carry these partitions too, so that each result belongs to its region or range in
# the UI. A partitioned check is a preview API in Dagster 1.13 that warns at every definition;
# the UI and each run import the definitions again, so the one expected warning is silenced here.
warnings.filterwarnings(
    "ignore", "Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

region_partitions = dg.StaticPartitionsDefinition(list(load_regions()))

USER_RANGE_COUNT = int(os.environ.get("GEODEM_USER_RANGES", "16"))
user_range_partitions = dg.StaticPartitionsDefinition([r.key for r in user_ranges(USER_RANGE_COUNT)])


def user_range(key: str):
    """The UserRange of a partition key."""
    for r in user_ranges(USER_RANGE_COUNT):
        if r.key == key:
            return r
    raise KeyError(f"unknown user range {key!r} for {USER_RANGE_COUNT} ranges (GEODEM_USER_RANGES)")
