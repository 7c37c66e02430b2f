"""Degenerate data (repeated rows, tiny matrices) fail with a named error or give no empty cluster."""

import numpy as np
import pandas as pd
import pytest

from geodem_assets import clustering, plots
from geodem_assets.checks import cluster_sizes, min_supergroup_oas
from geodem_assets.embedding import TooFewRowsForEmbedding, umap_embedding
from geodem_assets.kmeans import fast_kmeans, fast_kmeans_range, nonempty


def three_profiles(sizes=(7, 10, 5), p=6, seed=0):
    """Rows that repeat one of three distinct profiles, sizes[i] times each."""
    profiles = np.random.default_rng(seed).uniform(size=(3, p))
    return np.repeat(profiles, sizes, axis=0)


@pytest.mark.parametrize("method", clustering.METHODS)
def test_kmeans_refuses_more_clusters_than_distinct_rows(method):
    X = three_profiles()
    with pytest.raises(
        clustering.TooFewDistinctRows, match=r"k=5 asked.*22 rows hold only 3 distinct"
    ) as err:
        clustering.kmeans(X, 5, n_init=4, method=method)
    assert (err.value.k, err.value.distinct, err.value.rows) == (5, 3, 22)


@pytest.mark.parametrize("method", clustering.METHODS)
def test_kmeans_with_k_equal_to_distinct_rows_fills_every_cluster(method):
    X = three_profiles()
    fit = clustering.kmeans(X, 3, n_init=4, method=method)
    assert sorted(np.bincount(fit.labels, minlength=3).tolist()) == [5, 7, 10]
    assert fit.inertia == pytest.approx(0.0, abs=1e-20)


def test_fast_range_refuses_a_k_above_the_distinct_rows():
    with pytest.raises(clustering.TooFewDistinctRows, match="k=4"):
        fast_kmeans_range(three_profiles(), range(1, 5))


@pytest.mark.parametrize("seed", range(6))
def test_fast_kmeans_never_returns_an_empty_cluster_on_heavily_repeated_rows(seed):
    rng = np.random.default_rng(seed)
    # 8 distinct rows, one of them repeated 500 times, and k = 8: every cluster must hold a row.
    distinct = rng.uniform(size=(8, 4))
    X = np.concatenate([np.repeat(distinct[:1], 500, axis=0), distinct[1:], distinct[1:] + 1e-9])
    fit = fast_kmeans(X, 8, seed=seed, n_init=3)
    assert np.bincount(fit.labels, minlength=8).min() >= 1
    assert fit.inertia == pytest.approx(((X - fit.centers[fit.labels]) ** 2).sum(), rel=1e-9, abs=1e-18)


def test_nonempty_fills_an_empty_cluster_from_the_farthest_row():
    X = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    fit = nonempty(X, np.array([0, 0, 1, 1, 1]), np.zeros((3, 1)))
    assert np.bincount(fit.labels, minlength=3).tolist() == [2, 2, 1]
    assert fit.labels[4] == 2 and fit.inertia == pytest.approx(0.005 + 0.02)


def test_clustergram_skips_the_k_above_the_distinct_rows_and_says_so():
    X = three_profiles()
    for method, n_init in (("fast", None), ("reference", 3)):
        cg = clustering.clustergram_fits(X, range(1, 10), n_init=n_init, method=method)
        assert sorted(cg.fits) == [1, 2, 3] and cg.skipped == [4, 5, 6, 7, 8, 9]
        assert cg.distinct_rows == 3 and "only 3 distinct rows" in cg.note
        assert cg.suggested_k <= 3
        for k, fit in cg.fits.items():
            assert np.bincount(fit.labels, minlength=k).min() >= 1
    markdown = plots.clustergram_plot(X, {k: f.labels for k, f in cg.fits.items()})
    assert markdown.startswith("![clustergram](data:image/png;base64,")


def test_clustergram_plot_refuses_labels_with_an_empty_cluster():
    X = three_profiles()
    labels = {1: np.zeros(22, dtype=int), 5: np.repeat([0, 1, 2], (7, 10, 5))}
    with pytest.raises(ValueError, match="labels for k=5 fill 3 of its 5 clusters"):
        plots.clustergram_plot(X, labels)


def identical_supergroup():
    """A supergroup A of 300 identical OAs and a varied supergroup B."""
    rng = np.random.default_rng(1)
    X = np.concatenate([np.repeat(rng.uniform(size=(1, 5)), 300, axis=0), rng.uniform(size=(60, 5)) + 2])
    return X, np.array(["A"] * 300 + ["B"] * 60)


def test_subgroups_of_an_identical_supergroup_fail_naming_it():
    X, sup = identical_supergroup()
    with pytest.raises(clustering.TooFewDistinctRows) as err:
        clustering.subgroup_fits(X, sup, {"A": 2, "B": 2}, n_init=3)
    message = str(err.value)
    assert (
        "subgroups of supergroup A" in message and "k=2 asked" in message and "only 1 distinct row" in message
    )


def test_subgroups_of_an_identical_supergroup_lower_k_when_asked():
    X, sup = identical_supergroup()
    levels = clustering.subgroup_fits(X, sup, {"A": 2, "B": 2}, n_init=3, on_too_few_distinct="lower_k")
    assert levels["A"].fit.k == 1 and levels["A"].k_asked == 2
    assert levels["A"].note == "k lowered from 2 to 1: only 1 distinct rows"
    assert levels["B"].fit.k == 2 and levels["B"].note is None
    with pytest.raises(ValueError, match="on_too_few_distinct must be one of fail, lower_k"):
        clustering.subgroup_fits(X, sup, {"A": 2, "B": 2}, on_too_few_distinct="shrink")


def test_cluster_sizes_count_a_label_no_row_carries():
    labels = pd.Series(["A1"] * 300 + ["B1"] * 30 + ["B2"] * 30)
    sizes = cluster_sizes(labels, ["A1", "A2", "B1", "B2"])
    assert sizes.to_dict() == {"A1": 300, "A2": 0, "B1": 30, "B2": 30}


@pytest.mark.parametrize("rows", [0, 1, 2])
def test_umap_refuses_fewer_than_three_rows(rows):
    X = np.random.default_rng(0).uniform(size=(rows, 4))
    with pytest.raises(TooFewRowsForEmbedding, match=f"at least 3 rows.*got shape \\({rows}, 4\\)"):
        umap_embedding(X)


@pytest.mark.parametrize("n_oas, fewest", [(100, 2), (5_258, 52), (50_000, 500), (239_023, 500)])
def test_a_supergroup_is_tiny_below_one_percent_or_below_enough_oas_for_a_nation(n_oas, fewest):
    # A national supergroup of 2,371 OAs (0.99 % of the UK) is a real neighbourhood type, not a
    # degenerate split; a regional one of 40 OAs out of 5,258 is.
    assert min_supergroup_oas(n_oas) == fewest
