"""A tiny generated userday file shared by the benchmark smoke tests."""

from __future__ import annotations

import pytest

from sample_data.userdays import write_sample_userdays


@pytest.fixture(scope="module")
def tiny_userdays(tmp_path_factory):
    """120 generated users (seed 3): small enough for the per-user reference loop."""
    return write_sample_userdays(tmp_path_factory.mktemp("bench") / "userdays.csv", 120, seed=3)
