"""Generated samples shared by the sample_data tests (built once per session, small scales)."""

from __future__ import annotations

import pytest

from sample_data.census import build_sample_census, write_sample_census


@pytest.fixture(scope="session")
def lcr_release(tmp_path_factory):
    """Liverpool City Region written to disk at 30 % of its OA count: (summary, folder)."""
    out = tmp_path_factory.mktemp("lcr")
    return write_sample_census(out, seed=5, scale=0.3), out


@pytest.fixture(scope="session")
def uk_small():
    """The whole UK at 3 % of the OA counts, in memory."""
    return build_sample_census(uk=True, seed=1, scale=0.03)


@pytest.fixture(scope="session")
def lcr_and_wales_full():
    """Liverpool City Region and Wales at full OA counts, in memory."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # regions.csv lists two retired Welsh codes
        return build_sample_census(regions=["liverpool-city-region", "wales"], seed=2)
