"""Fixtures for the namer tests: Liverpool City Region index scores, a local Responses API server."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import sample_data
from resources.namers import ClusterProfile, OpenAINamer
from resources.namers.backoff import Backoff
from tests.namers.responses_server import ResponsesServer

HERE = Path(__file__).parent
SECRET_KEY = "sk-test-3f9c2a7e-do-not-leak"
REGION = "Liverpool City Region"


def _domains() -> dict[str, str]:
    lookup = Path(sample_data.__file__).parent / "reference" / "census_variable_lookup.csv"
    with lookup.open(newline="", encoding="utf-8") as handle:
        return {row["Variable_Name"]: row["Domain"] for row in csv.DictReader(handle)}


def liverpool_scores() -> dict[str, dict[str, float]]:
    """Cluster code -> variable name -> index score (the published Liverpool k = 5 solution)."""
    with (HERE / "liverpool_index_scores.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {code: {row["Variable_Name"]: float(row[code]) for row in rows} for code in "ABCDE"}


def make_profile(
    code: str,
    scores: dict[str, float],
    parent: str | None = None,
    level: str | None = None,
    parent_level: str = "",
) -> ClusterProfile:
    return ClusterProfile(
        code=code,
        level=level or ("subgroup" if parent else "supergroup"),
        parent=parent,
        parent_level=parent_level,
        index_scores=scores,
        domains=_domains(),
        n_oas=100,
        pct_oas=10.0,
        population=30_000,
        pct_population=10.0,
    )


@pytest.fixture
def liverpool_profiles() -> list[ClusterProfile]:
    return [make_profile(code, scores) for code, scores in liverpool_scores().items()]


@pytest.fixture
def server():
    with ResponsesServer() as running:
        yield running


@pytest.fixture
def make_namer(server):
    """OpenAINamer against the local server, with millisecond backoff so retries are fast."""

    def build(**overrides) -> OpenAINamer:
        options = dict(
            api_key=SECRET_KEY,
            base_url=server.base_url,
            timeout=5.0,
            max_retries=2,
            backoff=Backoff(base=0.001, cap=0.005),
        )
        options.update(overrides)
        return OpenAINamer(**options)

    return build
