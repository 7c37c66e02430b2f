import numpy as np
import pandas as pd
import pytest

from geodem_assets import profiles


def test_sizes_and_shares():
    codes = pd.Series(["A", "A", "B"], index=["o1", "o2", "o3"])
    pop = pd.Series({"o1": 100, "o2": 300, "o3": 600})
    t = profiles.sizes(codes, pop)
    assert t.loc["A", "oas"] == 2 and t.loc["B", "population"] == 600
    assert t.loc["A", "pct_oas"] == pytest.approx(200 / 3)
    assert t.loc["A", "pct_population"] == pytest.approx(40.0)


def test_index_scores_are_cluster_mean_over_overall_mean():
    values = pd.DataFrame({"v": [1.0, 3.0, 8.0]}, index=["o1", "o2", "o3"])
    codes = pd.Series(["A", "A", "B"], index=values.index)
    s = profiles.index_scores(values, codes)
    assert s.loc["v", "A"] == pytest.approx(100 * 2 / 4)
    assert s.loc["v", "B"] == pytest.approx(200)


def test_index_score_of_all_zero_variable_is_nan_not_inf():
    values = pd.DataFrame({"v": [0.0, 0.0]}, index=["o1", "o2"])
    s = profiles.index_scores(values, pd.Series(["A", "B"], index=values.index))
    assert np.isnan(s.to_numpy()).all()


def test_subgroup_scores_are_relative_to_their_supergroup():
    values = pd.DataFrame({"v": [1.0, 3.0, 10.0, 30.0]}, index=list("abcd"))
    sup = pd.Series(["A", "A", "B", "B"], index=values.index)
    sub = pd.Series(["A1", "A2", "B1", "B2"], index=values.index)
    s = profiles.subgroup_scores_within(values, sup, sub)
    assert s.loc["v", "A1"] == pytest.approx(50) and s.loc["v", "B2"] == pytest.approx(150)


def test_a_ratio_keeps_its_index_score_and_is_labelled_a_ratio_not_a_share():
    # SIR values far above 100 are ordinary: the score is still 100 x cluster mean / mean.
    values = pd.DataFrame(
        {"v01": [9000.0, 11000.0, 40.0], "v38": [60.0, 40.0, 5.0], "v42": [150.0, 450.0, 0.0]},
        index=["o1", "o2", "o3"],
    )
    codes = pd.Series(["A", "A", "B"], index=values.index)
    scores = profiles.index_scores(values, codes)
    assert scores.loc["v42", "A"] == pytest.approx(100 * 300 / 200)
    assert scores.loc["v42", "B"] == pytest.approx(0.0)
    long = profiles.long_scores(scores).set_index(["variable", "cluster"])
    assert long.loc[("v42", "A"), "kind"] == "ratio" and long.loc[("v01", "B"), "kind"] == "density"
    assert long.loc[("v38", "A"), "kind"] == "percentage"
    labels = profiles.variable_labels(
        {"v42": "SIR", "v01": "Usual residents per square kilometre", "v38": "Social rented"}
    )
    assert labels == {
        "v42": "SIR (ratio ×100)",
        "v01": "Usual residents per square kilometre (per km²)",
        "v38": "Social rented (%)",
    }
