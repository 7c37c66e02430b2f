"""One small set of inputs and its single-machine run (local disk, DuckDB), shared by the object-store tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from partitions.definitions import user_range_partitions
from resources.warehouse import Warehouse
from sample_data.census import write_sample_census
from sample_data.userdays import write_sample_userdays
from tests.pipelines.harness import make_defs, make_resources, run

REGIONS = ["liverpool-city-region", "greater-manchester"]
# Small runs: the comparisons are about where data lives, not about the clustering.
REGION_RUN = {
    "ops": {
        "cluster_diagnostics": {"config": {"n_init": 2, "max_k": 4}},
        "supergroups": {"config": {"k": 3, "n_init": 3}},
        "subgroups": {"config": {"subgroups": [2, 2, 2], "n_init": 3}},
        "cluster_embedding": {"config": {"n_epochs": 30}},
    }
}


@dataclass(frozen=True)
class Baseline:
    """The inputs, and what one machine made of them: its warehouse and output folder."""

    census: Path
    userdays: Path
    warehouse: Warehouse
    outputs: Path


def run_single_machine(defs, instance, regions: list[str]) -> None:
    """census_release, each region (REGION_RUN), every user range and the summary, in process."""
    assert run(defs, "census_release_job", instance).success
    for slug in regions:
        assert run(defs, "geodem_region_job", instance, slug, REGION_RUN).success, slug
    for key in user_range_partitions.get_partition_keys():
        assert run(defs, "homeloc_range_job", instance, key).success, key
    assert run(defs, "homeloc_summary_job", instance).success


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> Baseline:
    root = tmp_path_factory.mktemp("single_machine")
    census = root / "census"
    write_sample_census(census, regions=REGIONS, seed=1, scale=0.05)
    userdays = root / "userdays.csv"
    write_sample_userdays(userdays, 1200, seed=3, n_bad_rows=12)
    resources = make_resources(root / "run", census_dir=census, userdays=userdays)
    run_single_machine(make_defs(resources), dg.DagsterInstance.ephemeral(), REGIONS)
    return Baseline(census, userdays, resources["warehouse"], root / "run" / "out")
