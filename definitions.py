"""The single Dagster Definitions of geodem-platform."""

import dagster as dg

from geodem_assets import defs as geodem
from resources.defaults import resources_from_env

geodem_job = dg.define_asset_job(
    "geodem_region_job",
    selection=dg.AssetSelection.groups("geodemographics") - dg.AssetSelection.assets("census_release"),
    description="Classify one region partition: OAs, matrix, clusters, profiles, names and exports.",
)

defs = dg.Definitions(
    assets=[*geodem.assets],
    asset_checks=[*geodem.checks],
    jobs=[geodem_job],
    resources=resources_from_env(),
)
