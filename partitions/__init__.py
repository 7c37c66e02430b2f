"""Partitions: regions (geodemographics) and user-guid ranges (home location)."""
