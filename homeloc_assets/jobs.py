"""Jobs of the home-location domain."""

import os

import dagster as dg

from partitions.definitions import USER_RANGE_COUNT, user_range, user_range_partitions
from partitions.run_resources import USERS_REFERENCE, k8s_run_tags, user_range_resources


def range_run_tags(key: str) -> dict[str, str]:
    """Run tags of a user-range partition: the run pod's CPU and memory on Kubernetes.

    Memory follows the users in one range: GEODEM_EXPECTED_USERS (default 6,300,000) spread
    over GEODEM_USER_RANGES ranges. Raises KeyError for a key that is not a range.
    """
    user_range(key)
    expected = int(os.environ.get("GEODEM_EXPECTED_USERS", str(USERS_REFERENCE)))
    return k8s_run_tags(user_range_resources(USER_RANGE_COUNT, expected))


homeloc_range_job = dg.define_asset_job(
    "homeloc_range_job",
    selection=dg.AssetSelection.assets(
        "user_locations", "user_country_userdays", "user_home_country", "user_classification"
    ),
    description="Home countries of one user-guid range.",
    config=dg.PartitionedConfig(
        partitions_def=user_range_partitions,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=range_run_tags,
    ),
)
homeloc_summary_job = dg.define_asset_job(
    "homeloc_summary_job",
    selection=dg.AssetSelection.assets("locals_tourists_summary"),
    description="Totals over every user range.",
)

jobs = [homeloc_range_job, homeloc_summary_job]
