"""The single Dagster Definitions of geodem-platform."""

import dagster as dg

from geodem_assets import defs as geodem
from homeloc_assets import defs as homeloc
from resources.defaults import resources_from_env

defs = dg.Definitions(
    assets=[*geodem.assets, *homeloc.assets],
    asset_checks=[*geodem.checks, *homeloc.checks],
    jobs=[*geodem.jobs, *homeloc.jobs],
    sensors=[*geodem.sensors, *homeloc.sensors],
    resources=resources_from_env(),
)
