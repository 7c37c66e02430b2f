"""Build Definitions with test resources pointing at temporary folders, and run jobs on them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from geodem_assets import defs as geodem
from homeloc_assets import defs as homeloc
from resources.census_files import ReleaseFiles, locate_release
from resources.census_source import CensusSource
from resources.hll_resource import EmbeddedHLLResource, HLLResource
from resources.namers.resource import ClusterNamerResource
from resources.output_store import OutputStore
from resources.userday_source import UserdaySource
from resources.warehouse import Warehouse
from sample_data.census import write_sample_census

CENSUS_REGION = "liverpool-city-region"


def make_resources(
    tmp: Path,
    *,
    census_dir: Path | None = None,
    userdays: Path | None = None,
    hll: HLLResource | None = None,
    namer: ClusterNamerResource | None = None,
) -> dict:
    return {
        "census": CensusSource(
            path=str(census_dir or tmp / "census"), unpack_dir=str(tmp / "out" / "cache" / "census")
        ),
        "warehouse": Warehouse(path=str(tmp / "warehouse.duckdb")),
        "outputs": OutputStore(root=str(tmp / "out")),
        "namer": namer or ClusterNamerResource(cache_dir=str(tmp / "out" / "cache")),
        "userdays": UserdaySource(path=str(userdays or tmp / "userdays.csv")),
        "hll": hll or EmbeddedHLLResource(),
    }


def make_defs(resources: dict) -> dg.Definitions:
    return dg.Definitions(
        assets=[*geodem.assets, *homeloc.assets],
        asset_checks=[*geodem.checks, *homeloc.checks],
        jobs=[*geodem.jobs, *homeloc.jobs],
        sensors=[*geodem.sensors, *homeloc.sensors],
        resources=resources,
        executor=dg.in_process_executor,
    )


def run(
    defs: dg.Definitions,
    job: str,
    instance: dg.DagsterInstance,
    partition_key: str | None = None,
    run_config=None,
):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition_key, run_config=run_config or {}, raise_on_error=False
    )


# ---- a good census release, mutated, ingested again ----------------------------------------


def write_good_census(path: Path, seed: int) -> Path:
    """A small synthetic release of CENSUS_REGION (5 % of its OAs) at ``path``."""
    write_sample_census(path, regions=[CENSUS_REGION], seed=seed, scale=0.05)
    return path


@dataclass
class CensusRerun:
    """census_release run on a good release, then again after the release was mutated."""

    result: dg.ExecuteInProcessResult  # the second run
    before: pd.DataFrame  # census_release_info after the first run
    after: pd.DataFrame  # census_release_info after the second run
    files: ReleaseFiles  # the mutated copy's files
    resources: dict

    @property
    def message(self) -> str:
        """The failure message of the second run's failed step ('' when it succeeded)."""
        failures = self.result.get_step_failure_events()
        return failures[0].step_failure_data.error.message if failures else ""

    def assert_rejected(self, *words: str) -> None:
        """The second run failed, its message holds every word, and the first release is still in place."""
        assert not self.result.success, "census_release accepted the mutated release"
        for word in words:
            assert word in self.message, (word, self.message)
        pd.testing.assert_frame_equal(self.after, self.before)


def rerun_census_after(tmp: Path, good_census: Path, mutate: Callable[[ReleaseFiles], None]) -> CensusRerun:
    """Copy ``good_census`` to ``tmp/census``, ingest it, apply ``mutate`` to the copy and ingest again."""
    census = tmp / "census"
    shutil.copytree(good_census, census)
    resources = make_resources(tmp, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success, "the good release was not ingested"
    before = resources["warehouse"].read("census_release_info")
    files = locate_release(census)
    mutate(files)
    result = run(defs, "census_release_job", instance)
    return CensusRerun(result, before, resources["warehouse"].read("census_release_info"), files, resources)
