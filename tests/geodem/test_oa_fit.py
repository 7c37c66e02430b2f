"""Each OA's fit: distance to its centre, the runner-up cluster, the simplified silhouette, the poor-fit flag."""

import numpy as np
import pandas as pd
import pytest

from geodem_assets import clustering, oa_fit


def planted_with_outliers(seed=0, k=4, n=95, p=6, outliers=20):
    """k tight blobs of n rows, then `outliers` rows each pushed 0.4 from a blob centre in its own direction."""
    rng = np.random.default_rng(seed)
    centres = np.eye(k, p)  # unit apart-ish: sqrt(2) between any two
    X = np.concatenate([c + rng.normal(scale=0.02, size=(n, p)) for c in centres])
    direction = rng.normal(size=(outliers, p))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    far = centres[rng.integers(k, size=outliers)] + 0.4 * direction
    return np.concatenate([X, far]), np.arange(k * n, k * n + outliers)


def test_planted_outliers_are_exactly_the_poorly_fitting_oas():
    X, outliers = planted_with_outliers()
    assert len(outliers) == round(0.05 * len(X))  # 5 %: the flag marks what lies above the 95th percentile
    fit = clustering.kmeans(X, 4, n_init=5, seed=1)
    codes = clustering.supergroup_codes(fit.labels)
    table = oa_fit.oa_fit(X, codes, dict(zip("ABCD", fit.centers)))
    assert np.flatnonzero(table["poor_fit"].to_numpy()).tolist() == outliers.tolist()
    worst = oa_fit.worst_fitting(table, pd.RangeIndex(len(X)), codes, n=len(outliers))
    assert sorted(worst["OA"]) == outliers.tolist()


def test_values_match_a_direct_computation():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(300, 5))
    centres = {c: rng.uniform(size=5) for c in ("A", "B", "C")}
    codes = rng.choice(list(centres), size=300)  # not the nearest: the silhouette may be negative
    table = oa_fit.oa_fit(X, codes, centres)
    names = sorted(centres)
    d2 = np.array([[((x - centres[c]) ** 2).sum() for c in names] for x in X])
    own = np.array([names.index(c) for c in codes])
    assert np.allclose(table["distance2"], d2[np.arange(300), own], rtol=1e-12)
    others = d2.copy()
    others[np.arange(300), own] = np.inf
    assert table["second"].tolist() == [names[j] for j in others.argmin(axis=1)]
    assert np.allclose(table["second_distance2"], others.min(axis=1), rtol=1e-12)
    a, b = np.sqrt(d2[np.arange(300), own]), np.sqrt(others.min(axis=1))
    assert np.allclose(table["silhouette"], (b - a) / np.maximum(a, b))
    assert (table["silhouette"] < 0).any() and (table["silhouette"] > 0).any()
    assert table["poor_fit"].sum() == 15  # 5 % of 300, no ties


def test_silhouette_by_hand():
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    table = oa_fit.oa_fit(X, np.array(["A", "A", "B", "B"]), {"A": np.array([0.5]), "B": np.array([3.5])})
    # Row 1: a = 0.5 from A, b = 2.5 from B: (2.5 - 0.5) / 2.5 = 0.8.
    assert table["silhouette"].tolist() == pytest.approx([(3.5 - 0.5) / 3.5, 0.8, 0.8, (3.5 - 0.5) / 3.5])
    assert table["second"].tolist() == ["B", "B", "A", "A"]
    assert table["distance2"].tolist() == pytest.approx([0.25] * 4)


def test_a_level_of_one_cluster_has_no_runner_up():
    X = np.random.default_rng(0).uniform(size=(40, 3))
    table = oa_fit.oa_fit(X, np.array(["A"] * 40), {"A": X.mean(axis=0)})
    assert table["second"].isna().all() and table["silhouette"].isna().all()
    assert table["poor_fit"].sum() == 2


def test_a_code_without_a_centre_is_named():
    with pytest.raises(ValueError, match="clusters without a centre: C"):
        oa_fit.oa_fit(np.zeros((2, 1)), np.array(["A", "C"]), {"A": np.zeros(1), "B": np.ones(1)})
