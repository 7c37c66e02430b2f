import numpy as np
import pandas as pd
import pytest

from geodem_assets.transform import arcsinh_minmax, build_matrix, correlated_pairs


def test_arcsinh_minmax_maps_each_column_to_unit_range():
    df = pd.DataFrame({"a": [0.0, 10.0, 100.0], "b": [5.0, 5.0, 5.0]})
    out = arcsinh_minmax(df)
    assert out["a"].tolist() == pytest.approx([0.0, np.arcsinh(10) / np.arcsinh(100), 1.0])
    assert out["b"].tolist() == [0.0, 0.0, 0.0]  # a zero range maps to 0


def test_build_matrix_drops_configured_and_zero_variance_variables():
    rng = np.random.default_rng(1)
    raw = pd.DataFrame(rng.uniform(0, 100, size=(50, 4)), columns=["v01", "v02", "v03", "v12"])
    raw["v12"] = 0.0  # as Bangladeshi counts in Northern Ireland
    result = build_matrix(raw, drop=("v03",))
    assert list(result.matrix.columns) == ["v01", "v02"]
    assert result.dropped_configured == ["v03"]
    assert result.dropped_zero_variance == ["v12"]
    assert set(result.variances.index) == {"v01", "v02"}


def test_build_matrix_rejects_unknown_drop_variable_by_name():
    raw = pd.DataFrame({"v01": [1.0, 2.0]})
    with pytest.raises(ValueError, match="v99"):
        build_matrix(raw, drop=("v99",))


def test_correlated_pairs_finds_near_duplicates_only():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    df = pd.DataFrame({"a": x, "b": x + rng.normal(scale=0.01, size=200), "c": rng.normal(size=200)})
    pairs = correlated_pairs(df, 0.95)
    assert [(p[0], p[1]) for p in pairs] == [("a", "b")]
