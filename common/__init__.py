"""Helpers both pipelines use: pictures and tables for asset pages (no Dagster, no pipeline imports)."""
