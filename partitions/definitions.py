"""The Dagster partitions definitions built from the region file."""

import dagster as dg

from partitions.regions import load_regions

region_partitions = dg.StaticPartitionsDefinition(list(load_regions()))
