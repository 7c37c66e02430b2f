"""The single Dagster Definitions of geodem-platform."""

import warnings

import dagster as dg

from geodem_assets import defs as geodem
from homeloc_assets import defs as homeloc
from resources.console import progress_console
from resources.defaults import resources_from_env

with warnings.catch_warnings():
    # Code references are a beta API in 1.13: the UI loads this module often and each load would
    # print one warning per asset.
    warnings.simplefilter("ignore", dg.BetaWarning)
    assets = dg.with_source_code_references([*geodem.assets, *homeloc.assets])

defs = dg.Definitions(
    assets=assets,
    asset_checks=[*geodem.checks, *homeloc.checks],
    jobs=[*geodem.jobs, *homeloc.jobs],
    sensors=[*geodem.sensors, *homeloc.sensors],
    resources=resources_from_env(),
    loggers={"console": progress_console},
    # One process per run: parallelism comes from partitions (runs in the queue), and a run
    # need not pay the import of the whole stack once per step.
    executor=dg.in_process_executor,
)
