"""What the home-location domain contributes to the Definitions."""

import dagster as dg

from common.catalog import dress
from homeloc_assets import catalog
from homeloc_assets.assets import assets as _assets
from homeloc_assets.checks import checks
from homeloc_assets.jobs import jobs
from homeloc_assets.sensors import sensors

assets = dg.map_asset_specs(dress(catalog.OWNERS, catalog.KINDS, catalog.TAGS), _assets)

__all__ = ["assets", "checks", "jobs", "sensors"]
