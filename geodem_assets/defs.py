"""What the geodemographics domain contributes to the Definitions."""

import dagster as dg

from common.catalog import dress
from geodem_assets import catalog
from geodem_assets.assets import assets as _assets
from geodem_assets.checks import checks
from geodem_assets.jobs import jobs
from geodem_assets.release_assets import assets as _release_assets
from geodem_assets.sensors import sensors

assets = dg.map_asset_specs(dress(catalog.OWNERS, catalog.KINDS, catalog.TAGS), [*_assets, *_release_assets])

__all__ = ["assets", "checks", "jobs", "sensors"]
