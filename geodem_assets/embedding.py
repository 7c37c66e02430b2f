"""2-D UMAP embedding of the classification matrix, with the reference workflow's parameters.

A Dagster run is a new process, and two things made UMAP slow there, both outside the layout
itself (`make bench-region`: `cluster_embedding` of the Liverpool-size region took 13.0 s warm
before, 7.8 s after, on two 2-core machines of different CPUs):

- **Neighbours.** Below 4,096 rows UMAP measures every pair of rows through a numba metric
  called from Python once per pair; above, pynndescent's NN-descent is compiled in every new
  process. For the cosine metric the neighbours are found exactly here instead (BLAS, in
  blocks) and handed to UMAP as ``precomputed_knn``, up to EXACT_KNN_MAX_ROWS rows: the same
  neighbours as the all-pairs search, which NN-descent only approximates.
- **Compilation.** Some of umap-learn's numba kernels (the layout epoch, the membership
  strengths, the kNN smoothing) are not declared ``cache=True``, so numba compiles them in every
  process. ``cache_umap_kernels`` turns numba's on-disk cache on for them before the first call,
  as ``cache=True`` would have; the cache is keyed by the library's source files, so an upgrade
  recompiles.
"""

from __future__ import annotations

import warnings

import numpy as np

UMAP_DEFAULTS = dict(
    n_neighbors=30, min_dist=0.0, metric="cosine", init="random", n_epochs=500, random_state=508
)
EXACT_KNN_MAX_ROWS = 40_000
_BLOCK_ELEMENTS = 16_000_000  # one block of the distance matrix: 64 MB of float32
UMAP_SMALL_ROWS = 4096  # below this UMAP computes every pairwise distance itself
# UMAP's fuzzy graph needs each row's own entry plus at least one other neighbour, with
# n_neighbors >= 2 clipped to n - 1: 3 rows at least (at 2, umap-learn fails inside its graph
# construction with a zero-size reduction; 1 row has no neighbour at all).
UMAP_MIN_ROWS = 3


class TooFewRowsForEmbedding(ValueError):
    """Fewer rows than UMAP_MIN_ROWS given to umap_embedding."""


def cosine_knn(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row of X (n, p) by cosine distance, itself first.

    Returns indices (n, k) int64 and distances (n, k) float32, each row in increasing distance
    (ties by index). As in UMAP's cosine metric, a zero row is at distance 0 from other zero
    rows and 1 from every other row.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k={k} neighbours asked of {n} rows")
    norms = np.linalg.norm(X, axis=1)
    zero = norms == 0
    Z = (X / np.where(zero, 1.0, norms)[:, None]).astype(np.float32)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    step = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, n, step):
        rows = np.arange(start, min(start + step, n))
        d = 1.0 - Z[rows] @ Z.T
        np.maximum(d, 0.0, out=d)
        if zero.any():
            d[zero[rows]] = 1.0
            d[:, zero] = 1.0
            d[np.ix_(zero[rows], zero)] = 0.0
        d[np.arange(rows.size), rows] = -1.0  # each row is its own first neighbour
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (rows.size, 1))
        pd_ = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, pd_), axis=1)
        indices[rows] = np.take_along_axis(part, order, axis=1)
        distances[rows] = np.take_along_axis(pd_, order, axis=1)
    distances[:, 0] = 0.0
    return indices, distances


def neighbour_search(n_rows: int, metric: str = "cosine", forced: bool = False) -> str:
    """How umap_embedding finds the neighbours of n_rows rows: 'exact' (cosine, up to
    EXACT_KNN_MAX_ROWS rows), else UMAP's own: 'all pairs (UMAP)' below UMAP_SMALL_ROWS rows
    unless ``forced`` (UMAP's force_approximation_algorithm), 'NN-descent' otherwise."""
    if metric == "cosine" and n_rows <= EXACT_KNN_MAX_ROWS:
        return "exact"
    if n_rows < UMAP_SMALL_ROWS and not forced:
        return "all pairs (UMAP)"
    return "NN-descent"


_UMAP_KERNEL_MODULES = ("umap.layouts", "umap.umap_", "umap.utils", "umap.distances", "umap.sparse")


def cache_umap_kernels() -> list[str]:
    """Turn numba's on-disk cache on for umap-learn's jitted functions that lack it; their names.

    Only functions not compiled yet in this process are changed (a function compiled before
    keeps its in-memory code); calling this twice changes nothing the second time. Where numba
    finds no writable cache folder (NUMBA_CACHE_DIR, the package's __pycache__, the user's
    cache) nothing more is changed and the kernels compile in each process, as before. Relies on
    numba's ``Dispatcher.enable_caching``, which ``numba.njit(cache=True)`` itself calls.
    """
    import importlib

    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    changed = []
    for name in _UMAP_KERNEL_MODULES:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            cache = getattr(obj, "_cache", None)  # set by numba's Dispatcher.__init__
            if isinstance(obj, Dispatcher) and isinstance(cache, NullCache) and not obj.signatures:
                try:
                    obj.enable_caching()
                except RuntimeError:  # numba found no writable cache folder: compile per process
                    return changed
                changed.append(f"{name}.{attr}")
    return changed


def umap_embedding(X: np.ndarray, **params) -> np.ndarray:
    """UMAP of X (n, p) into (n, 2); deterministic for a given random_state.

    TooFewRowsForEmbedding (a ValueError) when n < UMAP_MIN_ROWS (3; see its comment).
    """
    if X.ndim != 2 or X.shape[0] < UMAP_MIN_ROWS:
        raise TooFewRowsForEmbedding(
            f"UMAP embedding needs at least {UMAP_MIN_ROWS} rows (each row's fuzzy neighbourhood "
            f"needs itself and at least one other row, with n_neighbors >= 2), got shape {X.shape}"
        )
    import umap  # deferred: importing umap compiles numba code

    cache_umap_kernels()
    options = {**UMAP_DEFAULTS, **params}
    options["n_neighbors"] = min(options["n_neighbors"], max(X.shape[0] - 1, 2))
    X32 = np.asarray(X, dtype=np.float32)
    method = neighbour_search(
        X32.shape[0], options["metric"], bool(options.get("force_approximation_algorithm"))
    )
    if method == "exact" and "precomputed_knn" not in options:
        options["precomputed_knn"] = cosine_knn(X32, min(options["n_neighbors"], X32.shape[0]))
    with warnings.catch_warnings():
        # Both expected, neither actionable: a fixed random_state is what makes the embedding
        # reproducible (UMAP then runs single-threaded and says so), and the precomputed
        # neighbours carry no search index because nothing here calls transform() later.
        warnings.filterwarnings("ignore", r"n_jobs value .* overridden", UserWarning)
        warnings.filterwarnings("ignore", r"precomputed_knn\[2\]", UserWarning)
        xy = umap.UMAP(n_components=2, **options).fit_transform(X32)
    return np.asarray(xy, dtype=np.float64)
