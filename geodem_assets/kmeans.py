"""Multi-start k-means: many cheap starts on a sample, the best few refined on every row."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Elements per batched distance block (rows x starts x k); bounds memory at ~32 MB per array.
_BLOCK = 4_000_000


class KMeansResult(NamedTuple):
    labels: np.ndarray    # (n,) int64, 0..k-1
    centers: np.ndarray   # (k, p) float64
    inertia: float        # sum of squared distances of rows to their centres


def _check(X: np.ndarray, k: int) -> np.ndarray:
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D matrix (rows x variables), got {X.ndim} dimensions")
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X has a missing or infinite value at row {row}, column {col}")
    if not 1 <= k <= X.shape[0]:
        raise ValueError(f"k={k} must be between 1 and the {X.shape[0]} rows to cluster")
    return X


def _plusplus(Y: np.ndarray, ynorm: np.ndarray, k: int, starts: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeds for many starts at once; (starts, k, p)."""
    m = Y.shape[0]
    idx = np.empty((starts, k), dtype=np.int64)
    idx[:, 0] = rng.integers(m, size=starts)
    closest = np.maximum(ynorm[None, :] - 2.0 * Y[idx[:, 0]] @ Y.T + ynorm[idx[:, 0], None], 0.0)
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1)
        u = rng.random(starts) * cum[:, -1]
        pick = np.array([np.searchsorted(cum[s], u[s], side="right") for s in range(starts)])
        idx[:, j] = np.minimum(pick, m - 1)
        d = np.maximum(ynorm[None, :] - 2.0 * Y[idx[:, j]] @ Y.T + ynorm[idx[:, j], None], 0.0)
        np.minimum(closest, d, out=closest)
    return Y[idx]


def _assign(Y: np.ndarray, ynorm: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre per row for each start: labels (m, S) and squared distances (m, S)."""
    S, k, p = C.shape
    flat = C.reshape(S * k, p)
    d = Y @ flat.T
    d *= -2.0
    d += np.einsum("ij,ij->i", flat, flat)[None, :]
    d = d.reshape(Y.shape[0], S, k)
    labels = d.argmin(axis=2)
    dist = np.take_along_axis(d, labels[:, :, None], axis=2)[:, :, 0] + ynorm[:, None]
    return labels, np.maximum(dist, 0.0)


def _update(Y: np.ndarray, labels: np.ndarray, dist: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Means of each start's clusters; an empty cluster takes that start's farthest row."""
    m, S = labels.shape
    k = C.shape[1]
    onehot = (labels[:, :, None] == np.arange(k)).reshape(m, S * k).astype(np.float64)
    counts = onehot.sum(axis=0)
    sums = onehot.T @ Y
    new = sums / np.maximum(counts, 1.0)[:, None]
    new = new.reshape(S, k, -1)
    empty = np.argwhere(counts.reshape(S, k) == 0)
    for s, j in empty:
        far = int(dist[:, s].argmax())
        new[s, j] = Y[far]
        dist[far, s] = 0.0
    return new


def _lloyd_batch(Y, ynorm, C, max_iter):
    """Lloyd iterations for a batch of starts until each start's labels stop changing."""
    S = C.shape[0]
    labels, dist = _assign(Y, ynorm, C)
    active = np.arange(S)
    for _ in range(max_iter):
        C[active] = _update(Y, labels[:, active], dist[:, active], C[active])
        new_labels, new_dist = _assign(Y, ynorm, C[active])
        moved = (new_labels != labels[:, active]).any(axis=0)
        labels[:, active] = new_labels
        dist[:, active] = new_dist
        active = active[moved]
        if active.size == 0:
            break
    return C, dist.sum(axis=0)


def _lloyd_full(X: np.ndarray, xnorm: np.ndarray, C: np.ndarray, max_iter: int) -> np.ndarray:
    """Lloyd on every row from centres C (k, p) until the labels stop changing; final centres."""
    labels, dist = _assign(X, xnorm, C[None])
    for _ in range(max_iter):
        C = _update(X, labels, dist, C[None])[0]
        new_labels, dist = _assign(X, xnorm, C[None])
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return C


def exact_assignment(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest centre of each row and the exact inertia (differences, not expanded norms).

    X (n, p), C (k, p); labels (n,) int64.
    """
    xnorm = np.einsum("ij,ij->i", X, X)
    labels, _ = _assign(X, xnorm, C[None])
    labels = labels[:, 0].astype(np.int64)
    inertia = 0.0
    for j in range(C.shape[0]):
        diff = X[labels == j] - C[j]
        inertia += float(np.einsum("ij,ij->", diff, diff))
    return labels, inertia


def _distinct_best(C: np.ndarray, inertia: np.ndarray, keep: int, rtol: float = 1e-9) -> list[int]:
    """Indices of the lowest-inertia starts, skipping repeats of an already kept solution."""
    chosen: list[int] = []
    for s in np.argsort(inertia, kind="stable"):
        key = np.sort(C[s].round(6), axis=0)
        if any(abs(inertia[s] - inertia[t]) <= rtol * inertia[t]
               and np.array_equal(key, np.sort(C[t].round(6), axis=0)) for t in chosen):
            continue
        chosen.append(int(s))
        if len(chosen) == keep:
            break
    return chosen


def fast_kmeans(X: np.ndarray, k: int, *, n_init: int = 200, seed: int = 507, sample_size: int = 4096,
                n_refine: int = 4, max_iter: int = 300) -> KMeansResult:
    """Best of n_init k-means++ starts run on a sample, the n_refine best refined on all rows.

    X (n, p) float; returns labels (n,) int64, centers (k, p), exact inertia on all rows.
    Deterministic for a seed.
    """
    X = _check(X, k)
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    if k == 1:
        C = X.mean(axis=0, keepdims=True)
        labels, inertia = exact_assignment(X, C)
        return KMeansResult(labels, C, inertia)
    Y = X[np.sort(rng.choice(n, size=sample_size, replace=False))] if n > sample_size else X
    ynorm = np.einsum("ij,ij->i", Y, Y)
    C = _plusplus(Y, ynorm, k, n_init, rng)
    batch = max(1, _BLOCK // (Y.shape[0] * k))
    inertia = np.empty(n_init)
    for b in range(0, n_init, batch):
        C[b:b + batch], inertia[b:b + batch] = _lloyd_batch(Y, ynorm, C[b:b + batch].copy(), max_iter)
    xnorm = np.einsum("ij,ij->i", X, X)
    best: KMeansResult | None = None
    for s in _distinct_best(C, inertia, n_refine):
        centres = _lloyd_full(X, xnorm, C[s].copy(), max_iter) if Y is not X else C[s]
        labels, value = exact_assignment(X, centres)
        if best is None or value < best.inertia:
            best = KMeansResult(labels, centres, value)
    return best
