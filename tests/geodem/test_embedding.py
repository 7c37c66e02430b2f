import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from geodem_assets import embedding
from geodem_assets.embedding import cosine_knn, umap_embedding

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("rows", [3, 800, 4095, 4096, 40_000])
def test_cosine_neighbours_are_exact_at_every_size_up_to_the_limit(rows):
    assert embedding.neighbour_search(rows) == "exact"
    assert embedding.neighbour_search(rows, forced=True) == "exact"


def test_other_metrics_keep_umaps_own_search():
    assert embedding.neighbour_search(800, "euclidean") == "all pairs (UMAP)"
    assert embedding.neighbour_search(800, "euclidean", forced=True) == "NN-descent"
    assert embedding.neighbour_search(40_001) == "NN-descent"


def test_a_small_region_takes_the_exact_neighbours(monkeypatch):
    calls = []
    monkeypatch.setattr(embedding, "cosine_knn", lambda *a: calls.append(a) or cosine_knn(*a))
    X = np.random.default_rng(1).random((60, 5))
    a = umap_embedding(X, n_epochs=20)
    assert len(calls) == 1 and calls[0][1] == 30
    assert np.array_equal(a, umap_embedding(X, n_epochs=20))


_CACHE_PROBE = """
import json, sys
import numpy as np
from geodem_assets.embedding import cache_umap_kernels, umap_embedding
umap_embedding(np.random.default_rng(0).random((40, 4)), n_epochs=5)
from umap import layouts, umap_
kernels = [layouts._nb_optimize_layout_euclidean_single_epoch, umap_.compute_membership_strengths, umap_.smooth_knn_dist]
print(json.dumps({"hits": [sum(k.stats.cache_hits.values()) for k in kernels],
                  "misses": [sum(k.stats.cache_misses.values()) for k in kernels],
                  "again": cache_umap_kernels()}))
"""


def test_umap_kernels_compiled_in_one_process_are_loaded_from_the_cache_by_the_next(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    runs = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", _CACHE_PROBE],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["misses"] == [1, 1, 1] and first["hits"] == [0, 0, 0]
    assert second["hits"] == [1, 1, 1] and second["misses"] == [0, 0, 0]
    assert first["again"] == second["again"] == []
