"""Census values are checked against their own kind: percentages 0-100, density and SIR any value >= 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodem_assets.census import validate_variables
from geodem_assets.variables import CODES, PERCENTAGE, codes_of_kind

SOURCE = "uk_census_data.parquet"


def _table(n: int = 4) -> pd.DataFrame:
    """A valid census table of n OAs (codes of all four nations)."""
    oas = ["E00000001", "W00000002", "S00088956", "N20000001"][:n]
    df = pd.DataFrame(10.0, index=pd.Index(oas, name="OA"), columns=list(CODES))
    df["v01"] = [25_000.0, 3.5, 120.0, 800.0][:n]
    df["v42"] = 100.0
    return df


def test_a_valid_table_of_all_four_nations_has_no_problem():
    assert validate_variables(_table(), SOURCE) == []


@pytest.mark.parametrize("sir", [0.0, 100.0, 450.0, 1234.56])
def test_sir_is_a_ratio_not_a_percentage(sir):
    df = _table()
    df.loc["S00088956", "v42"] = sir
    assert validate_variables(df, SOURCE) == []


@pytest.mark.parametrize(
    "code, value, words",
    [
        ("v42", -1.0, ["negative", "v42", "SIR", "ratio"]),
        ("v42", np.nan, ["missing values", "v42"]),
        ("v42", np.inf, ["infinite", "v42"]),
        ("v01", -0.5, ["negative", "v01", "density"]),
        ("v01", np.inf, ["infinite", "v01"]),
        ("v01", np.nan, ["missing values", "v01"]),
        ("v05", -2.0, ["negative", "v05", "percentage"]),
        ("v05", np.nan, ["missing values", "v05"]),
    ],
)
def test_bad_values_are_named_by_variable_and_oa(code, value, words):
    df = _table()
    df.loc["N20000001", code] = value
    (problem,) = validate_variables(df, SOURCE)
    for word in [SOURCE, "N20000001", *words]:
        assert word in problem, (word, problem)


@pytest.mark.parametrize("code", codes_of_kind(PERCENTAGE))
def test_a_percentage_above_100_names_file_variable_and_oa(code):
    df = _table()
    df.loc["W00000002", code] = 100.5
    (problem,) = validate_variables(df, SOURCE)
    assert SOURCE in problem and f"percentage variable {code} " in problem and "W00000002" in problem
    assert "above 100" in problem


def test_a_percentage_of_exactly_100_is_valid():
    df = _table()
    df.loc["E00000001", "v36"] = 100.0
    assert validate_variables(df, SOURCE) == []
