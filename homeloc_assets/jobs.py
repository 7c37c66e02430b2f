"""Jobs of the home-location domain."""

import dagster as dg

homeloc_range_job = dg.define_asset_job(
    "homeloc_range_job",
    selection=dg.AssetSelection.assets(
        "user_locations", "user_country_userdays", "user_home_country", "user_classification"
    ),
    description="Home countries of one user-guid range.",
)
homeloc_summary_job = dg.define_asset_job(
    "homeloc_summary_job",
    selection=dg.AssetSelection.assets("locals_tourists_summary"),
    description="Totals over every user range.",
)

jobs = [homeloc_range_job, homeloc_summary_job]
