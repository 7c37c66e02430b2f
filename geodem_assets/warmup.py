"""Compile the numba kernels of k-means and UMAP once into numba's on-disk cache.

Every Dagster run is a new process; without the cache, the first region run on a machine spends
about half its time compiling (see the cold and warm columns of benchmarks/RESULTS.md, "Whole
region"). `make install` runs this once: `python -m geodem_assets.warmup`.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def warm_up() -> float:
    """Run k-means and a short UMAP on a small random matrix shaped like a region's; seconds taken."""
    from geodem_assets.embedding import UMAP_SMALL_ROWS, umap_embedding
    from geodem_assets.kmeans import fast_kmeans_range

    started = time.perf_counter()
    X = np.random.default_rng(0).random((UMAP_SMALL_ROWS + 100, 12))
    fast_kmeans_range(X, range(1, 4), n_init=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap_embedding(X, n_epochs=5)
    return time.perf_counter() - started


def main() -> int:
    print(f"numba kernels of k-means and UMAP compiled and cached in {warm_up():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
