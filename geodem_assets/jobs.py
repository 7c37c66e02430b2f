"""Jobs of the geodemographics domain."""

import dagster as dg

from partitions.definitions import region_partitions
from partitions.regions import get_region
from partitions.run_resources import k8s_run_tags, region_resources


def region_run_tags(slug: str) -> dict[str, str]:
    """Run tags of a region partition: the run pod's CPU and memory on Kubernetes, from the region's size."""
    return k8s_run_tags(region_resources(get_region(slug)))


geodem_region_job = dg.define_asset_job(
    "geodem_region_job",
    selection=dg.AssetSelection.groups("geodemographics") - dg.AssetSelection.assets("census_release"),
    description="Classify one region partition: OAs, matrix, clusters, profiles, names and exports.",
    # No default run config; the tags size each run's pod (runs launched for a partition of this
    # job, its backfills and the sensor's requests carry them).
    config=dg.PartitionedConfig(
        partitions_def=region_partitions,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=region_run_tags,
    ),
)
census_release_job = dg.define_asset_job(
    "census_release_job",
    selection=dg.AssetSelection.assets("census_release"),
    description="Ingest the census release into the warehouse.",
)

jobs = [geodem_region_job, census_release_job]
