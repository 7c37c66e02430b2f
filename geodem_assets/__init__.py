"""Pipeline 1: geodemographic classification of a region's Output Areas."""
