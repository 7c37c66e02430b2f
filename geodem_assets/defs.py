"""What the geodemographics domain contributes to the Definitions."""

from geodem_assets.assets import assets
from geodem_assets.checks import checks
from geodem_assets.jobs import jobs
from geodem_assets.sensors import sensors

__all__ = ["assets", "checks", "jobs", "sensors"]
