import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from geodem_assets import embedding
from geodem_assets.embedding import cosine_knn, umap_embedding


def test_cosine_knn_equals_brute_force_search():
    X = np.random.default_rng(3).random((700, 12))
    idx, dist = cosine_knn(X, 15)
    ref_dist, ref_idx = (
        NearestNeighbors(n_neighbors=15, metric="cosine", algorithm="brute").fit(X).kneighbors(X)
    )
    assert (idx[:, 0] == np.arange(700)).all() and (dist[:, 0] == 0).all()
    assert np.allclose(dist, ref_dist, atol=1e-6)
    assert np.array_equal(np.sort(idx[:, 1:], axis=1), np.sort(ref_idx[:, 1:], axis=1))
    assert (np.diff(dist, axis=1) >= 0).all()


def test_cosine_knn_follows_umap_for_zero_rows_and_works_in_blocks(monkeypatch):
    monkeypatch.setattr(embedding, "_BLOCK_ELEMENTS", 50)  # many small blocks
    X = np.random.default_rng(4).random((40, 5))
    X[[3, 17]] = 0.0
    idx, dist = cosine_knn(X, 4)
    assert idx[3, :2].tolist() == [3, 17] and dist[3, 1] == 0.0
    assert (dist[3, 2:] == 1.0).all()
    assert 3 not in idx[0] and 17 not in idx[0]
    assert np.array_equal(idx, cosine_knn(X[:, :], 4)[0])


def test_cosine_knn_rejects_more_neighbours_than_rows():
    with pytest.raises(ValueError, match="k=5 neighbours asked of 4 rows"):
        cosine_knn(np.ones((4, 2)), 5)


def test_embedding_with_exact_neighbours_is_deterministic_and_keeps_clusters_apart(monkeypatch):
    rng = np.random.default_rng(0)
    centres = rng.random((3, 8)) * 4
    X = np.concatenate([c + rng.normal(scale=0.05, size=(150, 8)) for c in centres])
    calls = []
    monkeypatch.setattr(embedding, "cosine_knn", lambda *a: calls.append(a) or cosine_knn(*a))
    # Forced through UMAP's neighbour-graph path (taken from 4,096 rows), which uses our neighbours.
    a = umap_embedding(X, n_epochs=100, force_approximation_algorithm=True)
    b = umap_embedding(X, n_epochs=100, force_approximation_algorithm=True)
    assert len(calls) == 2
    assert a.shape == (450, 2) and np.array_equal(a, b)
    means = np.array([a[i * 150 : (i + 1) * 150].mean(axis=0) for i in range(3)])
    spread = max(a[i * 150 : (i + 1) * 150].std(axis=0).max() for i in range(3))
    gaps = [np.linalg.norm(means[i] - means[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 3 * spread
