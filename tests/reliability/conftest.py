"""Shared pieces of the reliability tests: case counters printed in the pytest summary."""

from __future__ import annotations

from collections import Counter

import pytest

CASES: Counter = Counter()


@pytest.fixture
def cases() -> Counter:
    """Counter of cases tried, by name; totals are printed at the end of the session."""
    return CASES


def pytest_terminal_summary(terminalreporter):
    if CASES:
        terminalreporter.write_line("reliability cases: " + ", ".join(f"{k} = {v:,}" for k, v in sorted(CASES.items())))
