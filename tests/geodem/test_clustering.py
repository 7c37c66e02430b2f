import numpy as np
import pytest

from geodem_assets import clustering


def blobs(seed=0, k=4, n=80, p=6, spread=0.03):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, size=(k, p))
    X = np.concatenate([c + rng.normal(scale=spread, size=(n, p)) for c in centres])
    truth = np.repeat(np.arange(k), n)
    return X, truth


def test_kmeans_is_deterministic_for_a_seed():
    X, _ = blobs()
    a = clustering.kmeans(X, 4, n_init=5, seed=11)
    b = clustering.kmeans(X, 4, n_init=5, seed=11)
    assert np.array_equal(a.labels, b.labels) and a.inertia == b.inertia


def test_canonical_letters_do_not_depend_on_seed():
    X, _ = blobs()
    codes = []
    for seed in (1, 2, 3):
        fit = clustering.kmeans(X, 4, n_init=5, seed=seed)
        fit = clustering.relabel(fit, clustering.canonical_order(fit))
        codes.append(clustering.supergroup_codes(fit.labels))
    assert all(np.array_equal(codes[0], c) for c in codes[1:])


def test_match_previous_keeps_each_letter_on_its_nearest_centroid():
    previous = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    shuffled = previous[[2, 0, 1]] + 0.01
    order = clustering.match_previous(shuffled, previous)
    assert np.allclose(shuffled[order], previous + 0.01)


def test_relabel_moves_labels_and_centres_together():
    fit = clustering.KMeansFit(
        labels=np.array([0, 1, 2, 2]), centers=np.array([[0.0], [1.0], [2.0]]), inertia=1.0
    )
    out = clustering.relabel(fit, np.array([2, 0, 1]))
    assert out.labels.tolist() == [1, 2, 0, 0]
    assert out.centers[:, 0].tolist() == [2.0, 0.0, 1.0]


def test_clustergram_suggests_the_planted_k():
    X, _ = blobs(k=4, spread=0.02)
    cg = clustering.clustergram_fits(X, range(1, 10), n_init=5, seed=3)
    assert cg.suggested_k == 4
    assert sorted(cg.fits) == list(range(1, 10))
    assert all(cg.fits[k].inertia >= cg.fits[k + 1].inertia - 1e-9 for k in range(1, 9))


def test_subgroups_refuse_more_clusters_than_rows():
    X = np.random.default_rng(0).uniform(size=(10, 3))
    sup = np.array(["A"] * 3 + ["B"] * 7)
    with pytest.raises(ValueError, match="supergroup A has 3 OAs"):
        clustering.subgroup_fits(X, sup, {"A": 4, "B": 2}, n_init=2)


@pytest.mark.parametrize("method", clustering.METHODS)
def test_both_methods_recover_planted_clusters(method):
    from sklearn.metrics import adjusted_rand_score

    X, truth = blobs(k=5, spread=0.05)
    fit = clustering.kmeans(X, 5, n_init=10, seed=507, method=method)
    assert adjusted_rand_score(truth, fit.labels) == pytest.approx(1.0)
    assert fit.inertia == pytest.approx(((X - fit.centers[fit.labels]) ** 2).sum(), rel=1e-9)


def test_fast_method_is_no_worse_than_the_reference_call_on_overlapping_clusters():
    X, _ = blobs(k=8, n=150, p=10, spread=0.25, seed=4)
    fast = clustering.kmeans(X, 8, seed=507)
    reference = clustering.kmeans(X, 8, n_init=50, seed=507, method="reference")
    assert fast.inertia <= reference.inertia * (1 + 1e-4)


def test_clustergram_methods_agree_on_well_separated_data():
    X, _ = blobs(k=3, spread=0.02)
    fast = clustering.clustergram_fits(X, range(1, 6), seed=1)
    reference = clustering.clustergram_fits(X, range(1, 6), n_init=5, seed=1, method="reference")
    assert fast.suggested_k == reference.suggested_k == 3
    for k in range(1, 6):
        assert fast.fits[k].inertia <= reference.fits[k].inertia * (1 + 1e-4)


def test_unknown_method_is_named():
    X, _ = blobs()
    with pytest.raises(ValueError, match="unknown k-means method 'lloyd'"):
        clustering.kmeans(X, 3, method="lloyd")
