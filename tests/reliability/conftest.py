"""Shared pieces of the reliability tests: case counters printed in the pytest summary."""

from __future__ import annotations

from collections import Counter

import dagster as dg
import pytest

CASES: Counter = Counter()


@pytest.fixture
def cases() -> Counter:
    """Counter of cases tried, by name; totals are printed at the end of the session."""
    return CASES


@pytest.fixture
def instance(tmp_path):
    """A Dagster instance on tmp_path/dagster_home (SQLite event and run storage in files), so a
    search for leaked secrets can read everything the run stored."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    inst = dg.DagsterInstance.from_config(str(home))
    yield inst
    inst.dispose()


def pytest_terminal_summary(terminalreporter):
    if CASES:
        terminalreporter.write_line(
            "reliability cases: " + ", ".join(f"{k} = {v:,}" for k, v in sorted(CASES.items()))
        )
