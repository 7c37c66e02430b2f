"""Numba kernels of the k-means search: assignment with incremental cluster sums, weighted picks,
Hartigan single-row moves, cluster sums and the exact sum of squared errors."""

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def assign_rows(
    Y: np.ndarray,
    G: np.ndarray,
    cnorm: np.ndarray,
    ynorm: np.ndarray,
    labels: np.ndarray,
    dist: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
    changed: np.ndarray,
) -> None:
    """Nearest centre of each row for each start, from G = centres @ Y.T; cluster sums kept current.

    Y (m, p); G (S*k, m); cnorm (S*k,); labels (S, m) int64, -1 before the first call;
    dist (S, m) squared distances; sums (S, k, p) and counts (S, k) of the rows in each cluster,
    updated only for rows that change cluster; changed (S,) the number of rows that moved.
    """
    S, k = counts.shape
    m, p = Y.shape
    for s in range(S):
        moved = 0
        g = G[s * k : (s + 1) * k]
        c = cnorm[s * k : (s + 1) * k]
        for i in range(m):
            best = 0
            low = c[0] - 2.0 * g[0, i]
            for j in range(1, k):
                v = c[j] - 2.0 * g[j, i]
                if v < low:
                    low = v
                    best = j
            dist[s, i] = max(low + ynorm[i], 0.0)
            old = labels[s, i]
            if old != best:
                moved += 1
                labels[s, i] = best
                counts[s, best] += 1.0
                for q in range(p):
                    sums[s, best, q] += Y[i, q]
                if old >= 0:
                    counts[s, old] -= 1.0
                    for q in range(p):
                        sums[s, old, q] -= Y[i, q]
        changed[s] = moved


@numba.njit(nogil=True, cache=True)
def pick_weighted(cum: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each row s, the first column whose cumulative weight cum[s] exceeds each target[s, t]."""
    S, T = targets.shape
    m = cum.shape[1]
    out = np.empty((S, T), dtype=np.int64)
    for s in range(S):
        for t in range(T):
            lo, hi = 0, m - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if cum[s, mid] > targets[s, t]:
                    hi = mid
                else:
                    lo = mid + 1
            out[s, t] = lo
    return out


@numba.njit(nogil=True, cache=True)
def hartigan_moves(
    X: np.ndarray, rows: np.ndarray, labels: np.ndarray, C: np.ndarray, counts: np.ndarray, max_pass: int
) -> int:
    """Move single rows to another cluster while that lowers the total sum of squares.

    X (n, p); rows (r,) the row indices to consider; labels (n,), C (k, p) cluster means and
    counts (k,) float are updated in place. Returns the number of moves.
    """
    p = X.shape[1]
    k = C.shape[0]
    total = 0
    for _ in range(max_pass):
        moves = 0
        for i in rows:
            a = labels[i]
            if counts[a] <= 1.0:
                continue
            da = 0.0
            for q in range(p):
                e = X[i, q] - C[a, q]
                da += e * e
            bound = da * counts[a] / (counts[a] - 1.0)
            target = -1
            for b in range(k):
                if b == a:
                    continue
                w = counts[b] / (counts[b] + 1.0)
                db = 0.0
                for q in range(p):
                    e = X[i, q] - C[b, q]
                    db += e * e
                    if db * w >= bound:
                        break
                if db * w < bound:
                    bound = db * w
                    target = b
            if target >= 0:
                na, nb = counts[a], counts[target]
                for q in range(p):
                    C[a, q] = (C[a, q] * na - X[i, q]) / (na - 1.0)
                    C[target, q] = (C[target, q] * nb + X[i, q]) / (nb + 1.0)
                counts[a] -= 1.0
                counts[target] += 1.0
                labels[i] = target
                moves += 1
        total += moves
        if moves == 0:
            break
    return total


@numba.njit(nogil=True, cache=True)
def cluster_sums(X: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster row sums (k, p) and counts (k,), in row order."""
    sums = np.zeros((k, X.shape[1]))
    counts = np.zeros(k)
    for i in range(X.shape[0]):
        j = labels[i]
        counts[j] += 1.0
        for q in range(X.shape[1]):
            sums[j, q] += X[i, q]
    return sums, counts


@numba.njit(nogil=True, cache=True)
def squared_error(X: np.ndarray, C: np.ndarray, labels: np.ndarray) -> float:
    """Sum over rows of the squared distance to their centre, from differences (no expanded norms)."""
    total = 0.0
    for i in range(X.shape[0]):
        j = labels[i]
        for q in range(X.shape[1]):
            e = X[i, q] - C[j, q]
            total += e * e
    return total
