"""What the home-location domain contributes to the Definitions."""

from homeloc_assets.assets import assets
from homeloc_assets.checks import checks
from homeloc_assets.jobs import jobs
from homeloc_assets.sensors import sensors

__all__ = ["assets", "checks", "jobs", "sensors"]
