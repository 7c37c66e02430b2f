"""Build Definitions with test resources pointing at temporary folders, and run jobs on them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from geodem_assets import defs as geodem
from homeloc_assets import defs as homeloc
from resources.census_source import CensusSource
from resources.hll_resource import EmbeddedHLLResource, HLLResource
from resources.namers.resource import ClusterNamerResource
from resources.output_store import OutputStore
from resources.userday_source import UserdaySource
from resources.warehouse import Warehouse


def make_resources(tmp: Path, *, census_dir: Path | None = None, userdays: Path | None = None,
                   hll: HLLResource | None = None, namer: ClusterNamerResource | None = None) -> dict:
    return {
        "census": CensusSource(path=str(census_dir or tmp / "census"), unpack_dir=str(tmp / "out" / "cache" / "census")),
        "warehouse": Warehouse(path=str(tmp / "warehouse.duckdb")),
        "outputs": OutputStore(root=str(tmp / "out")),
        "namer": namer or ClusterNamerResource(cache_dir=str(tmp / "out" / "cache")),
        "userdays": UserdaySource(path=str(userdays or tmp / "userdays.csv")),
        "hll": hll or EmbeddedHLLResource(),
    }


def make_defs(resources: dict) -> dg.Definitions:
    return dg.Definitions(assets=[*geodem.assets, *homeloc.assets], asset_checks=[*geodem.checks, *homeloc.checks],
                          jobs=[*geodem.jobs, *homeloc.jobs], sensors=[*geodem.sensors, *homeloc.sensors], resources=resources,
                          executor=dg.in_process_executor)


def run(defs: dg.Definitions, job: str, instance: dg.DagsterInstance, partition_key: str | None = None, run_config=None):
    return defs.resolve_job_def(job).execute_in_process(instance=instance, partition_key=partition_key,
                                                    run_config=run_config or {}, raise_on_error=False)
