import itertools

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from geodem_assets.kmeans import (
    KMeansResult,
    TooFewDistinctRows,
    exact_assignment,
    fast_kmeans,
    fast_kmeans_range,
)


def squared_error(X, labels, centers):
    diff = X - centers[labels]
    return float((diff * diff).sum())


@pytest.fixture(scope="module")
def overlapping():
    """Eight loose groups in 12 dimensions: many near-equal local optima."""
    X, _ = make_blobs(n_samples=900, centers=8, n_features=12, cluster_std=2.5, random_state=3)
    return (X - X.min(0)) / np.ptp(X, axis=0)


def test_same_seed_gives_the_same_partition_whatever_the_threads(overlapping):
    a = fast_kmeans(overlapping, 6, seed=11, threads=1)
    b = fast_kmeans(overlapping, 6, seed=11, threads=2)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.centers, b.centers)
    assert a.inertia == b.inertia


def test_result_is_a_converged_partition_with_its_exact_inertia(overlapping):
    fit = fast_kmeans(overlapping, 7, seed=5)
    assert isinstance(fit, KMeansResult)
    labels, centers, inertia = fit
    assert labels.dtype == np.int64 and labels.shape == (overlapping.shape[0],)
    assert centers.shape == (7, overlapping.shape[1])
    assert inertia == pytest.approx(squared_error(overlapping, labels, centers), rel=1e-12)
    # A final assignment step: every row is at its nearest centre ...
    d = ((overlapping[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    assert np.array_equal(labels, d.argmin(axis=1))
    # ... and every centre is the mean of its rows.
    for j in range(7):
        np.testing.assert_allclose(centers[j], overlapping[labels == j].mean(axis=0), rtol=0, atol=1e-12)


def test_separated_blobs_give_back_the_planted_partition():
    X, truth = make_blobs(
        n_samples=600, centers=5, n_features=6, cluster_std=0.3, center_box=(-20, 20), random_state=1
    )
    fit = fast_kmeans(X, 5, seed=2)
    pairs = set(zip(truth.tolist(), fit.labels.tolist()))
    assert len(pairs) == 5  # a one-to-one map between planted groups and found clusters


@pytest.mark.parametrize("case", range(4))
def test_never_worse_than_sklearn_best_of_ten(case):
    rng = np.random.default_rng(case)
    n, p, k = [(400, 5, 4), (700, 10, 6), (500, 20, 9), (1500, 8, 7)][case]
    if case % 2:
        X, _ = make_blobs(n_samples=n, centers=k + 2, n_features=p, cluster_std=3.0, random_state=case)
    else:
        X = rng.random((n, p))
    ours = fast_kmeans(X, k, seed=case)
    ref = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=case).fit(X)
    assert ours.inertia <= ref.inertia_ * (1 + 1e-6)


def test_a_sample_smaller_than_the_data_still_gives_all_rows_exactly(overlapping):
    fit = fast_kmeans(overlapping, 4, seed=1, sample_size=200)
    labels, inertia = exact_assignment(overlapping, fit.centers)
    assert np.array_equal(labels, fit.labels)
    assert fit.inertia == pytest.approx(inertia, rel=1e-12)
    full = fast_kmeans(overlapping, 4, seed=1)
    assert fit.inertia <= full.inertia * (1 + 1e-3)


def test_one_cluster_is_the_mean_and_n_clusters_are_the_rows():
    X = np.random.default_rng(0).random((30, 3))
    one = fast_kmeans(X, 1)
    np.testing.assert_allclose(one.centers[0], X.mean(axis=0))
    assert one.inertia == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())
    every = fast_kmeans(X, 30)
    assert every.inertia == pytest.approx(0.0, abs=1e-20)
    assert len(np.unique(every.labels)) == 30


def test_fewer_distinct_rows_than_k_is_refused_by_name():
    # Five clusters of three distinct rows would leave two empty (it once returned them silently).
    X = np.repeat(np.eye(3), 20, axis=0)
    with pytest.raises(TooFewDistinctRows, match="k=5 asked, but the 60 rows hold only 3 distinct rows"):
        fast_kmeans(X, 5, seed=0)
    fit = fast_kmeans(X, 3, seed=0)
    assert np.bincount(fit.labels).tolist() == [20, 20, 20]
    assert fit.inertia == pytest.approx(0.0, abs=1e-20)


def test_range_gives_every_k_and_inertia_never_rises_with_k(overlapping):
    fits = fast_kmeans_range(overlapping, range(1, 10), seed=4)
    assert list(fits) == list(range(1, 10))
    values = [fits[k].inertia for k in fits]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(values))
    for k, fit in fits.items():
        assert fit.centers.shape[0] == k
        assert fit.inertia == pytest.approx(squared_error(overlapping, fit.labels, fit.centers), rel=1e-12)


def test_bad_input_is_named():
    X = np.random.default_rng(0).random((10, 3))
    X[4, 2] = np.nan
    with pytest.raises(ValueError, match="row 4, column 2"):
        fast_kmeans(X, 2)
    with pytest.raises(ValueError, match="k=11"):
        fast_kmeans(np.zeros((10, 2)), 11)
    with pytest.raises(ValueError, match="2-D"):
        fast_kmeans(np.zeros(10), 2)
    with pytest.raises(TypeError, match="n_starts"):
        fast_kmeans(np.zeros((10, 2)), 2, n_starts=3)
    with pytest.raises(ValueError, match="relax"):
        fast_kmeans(np.zeros((10, 2)), 2, relax=2.0)
