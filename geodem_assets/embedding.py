"""2-D UMAP embedding of the classification matrix, with the reference workflow's parameters."""

from __future__ import annotations

import numpy as np

UMAP_DEFAULTS = dict(n_neighbors=30, min_dist=0.0, metric="cosine", init="random", n_epochs=500, random_state=508)


def umap_embedding(X: np.ndarray, **params) -> np.ndarray:
    """UMAP of X (n, p) into (n, 2); deterministic for a given random_state."""
    import umap  # deferred: importing umap compiles numba code

    options = {**UMAP_DEFAULTS, **params}
    options["n_neighbors"] = min(options["n_neighbors"], max(X.shape[0] - 1, 2))
    return umap.UMAP(n_components=2, **options).fit_transform(np.asarray(X, dtype=np.float32)).astype(np.float64)
