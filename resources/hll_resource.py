"""Dagster resources for HLL user-day aggregation: embedded (NumPy) or PostgreSQL + `hll`."""

from __future__ import annotations

import os

import pandas as pd
from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from resources.hll_backends import EmbeddedHLLBackend, HLLBackend, PostgresHLLBackend

DATABASE_URL_ENV = "GEODEM_HLL_DATABASE_URL"


class HLLResource(ConfigurableResource):
    """Per (user, country) and per-user hll_cardinality(hll_union_agg(userday_hll)).

    Assets type their parameter as HLLResource; definitions pick the implementation.
    """

    def backend(self) -> HLLBackend:
        raise NotImplementedError(f"{type(self).__name__} must implement backend()")

    def aggregate(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(per_country, per_user) frames; see resources.hll_backends.HLLBackend.aggregate."""
        return self.backend().aggregate(rows)


class EmbeddedHLLResource(HLLResource):
    """In-process NumPy implementation, bit-identical to PostgreSQL's hll extension."""

    def backend(self) -> HLLBackend:
        return EmbeddedHLLBackend()


class PostgresHLLResource(HLLResource):
    """PostgreSQL with the `hll` extension: one COPY and one GROUP BY per call."""

    database_url: str = Field(description="libpq URL of a database with CREATE EXTENSION hll done")

    def backend(self) -> HLLBackend:
        return PostgresHLLBackend(self.database_url)


def hll_resource_from_env() -> HLLResource:
    """PostgresHLLResource reading $GEODEM_HLL_DATABASE_URL at run time if it is set, else embedded."""
    if os.environ.get(DATABASE_URL_ENV):
        return PostgresHLLResource(database_url=EnvVar(DATABASE_URL_ENV))
    return EmbeddedHLLResource()
