"""The variable table agrees with the release's lookup and the OAC 2021 variable list."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from geodem_assets.variables import (
    ALL_VARIABLES,
    BY_CODE,
    CODES,
    DENSITY,
    PERCENTAGE,
    RATIO,
    by_name,
    codes_of_kind,
    variable,
)

REFERENCE = Path(__file__).resolve().parents[2] / "sample_data" / "reference"


@pytest.fixture(scope="module")
def lookup() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "census_variable_lookup.csv")


@pytest.fixture(scope="module")
def oac() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "OAC_variables.csv").set_index("encoding")


def test_release_holds_58_of_the_60_variables():
    assert len(ALL_VARIABLES) == 60 and len(CODES) == 58
    assert tuple(f"v{i:02d}" for i in range(1, 61) if i not in (40, 41)) == CODES


def test_codes_names_and_domains_are_the_lookups(lookup):
    table = pd.DataFrame([(v.code, v.name, v.domain) for v in ALL_VARIABLES], columns=list(lookup.columns))
    pd.testing.assert_frame_equal(table, lookup)


def test_each_variable_comes_from_the_oac_variable_of_its_topic_summary(oac):
    assert sorted(v.oac for v in ALL_VARIABLES) == sorted(oac.index)
    for v in ALL_VARIABLES:
        assert oac.loc[v.oac, "TS_code"] == v.table, v


def test_only_population_density_and_the_illness_ratio_are_not_percentages(oac):
    # TS006 is population density, TS038 (disability) enters as the Standardised Illness Ratio.
    assert codes_of_kind(DENSITY) == ("v01",) and codes_of_kind(RATIO) == ("v42",)
    assert oac.loc[variable("v01").oac, "Name"] == "Usual residents per square kilometre"
    assert oac.loc[variable("v42").oac, "Name"] == "Standardised Illness Ratio"
    assert len(codes_of_kind(PERCENTAGE)) == 56
    for v in ALL_VARIABLES:
        if v.kind == PERCENTAGE:
            assert (v.low, v.high) == (0.0, 100.0) and v.unit.startswith("% of ") and v.is_share
        else:
            assert v.low == 0.0 and math.isinf(v.high) and not v.is_share


def test_lookup_by_code_and_name():
    assert variable("v42").name == "SIR" and by_name("  sir ") is BY_CODE["v42"]
    assert by_name("Flat  maisonette or apartment").code == "v36" and by_name("nothing") is None
    with pytest.raises(KeyError, match="v61"):
        variable("v61")
    with pytest.raises(ValueError, match="unknown kind"):
        codes_of_kind("share")
