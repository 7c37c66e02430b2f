"""Jobs of the geodemographics domain."""

import dagster as dg

geodem_region_job = dg.define_asset_job(
    "geodem_region_job",
    selection=dg.AssetSelection.groups("geodemographics") - dg.AssetSelection.assets("census_release"),
    description="Classify one region partition: OAs, matrix, clusters, profiles, names and exports.",
)
census_release_job = dg.define_asset_job(
    "census_release_job",
    selection=dg.AssetSelection.assets("census_release"),
    description="Ingest the census release into the warehouse.",
)

jobs = [geodem_region_job, census_release_job]
