"""Starting centres: greedy k-means++ seeds, and neighbours of a partition for the local search
(merge-and-split swaps, trimmed centres, relocated centres, one more cluster by a split)."""

from __future__ import annotations

import itertools

import numpy as np

from geodem_assets.kmeans.kernels import pick_weighted
from geodem_assets.kmeans.lloyd import exact_assignment


def plusplus(P: np.ndarray, first: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Greedy k-means++ seeds: row indices (S, k) into P (m, p).

    first (S,) the first seed of each start; u (S, k, trials) uniform draws in [0, 1) that pick
    candidates in proportion to the squared distance to the nearest seed so far; each step keeps
    the candidate that lowers the total squared distance most.
    """
    S, k, trials = u.shape
    pnorm = np.einsum("ij,ij->i", P, P)

    def sqdist(idx: np.ndarray) -> np.ndarray:
        return np.maximum(pnorm[idx, None] - 2.0 * (P[idx] @ P.T) + pnorm[None, :], 0.0)

    idx = np.empty((S, k), dtype=np.int64)
    idx[:, 0] = first
    closest = sqdist(first)
    every = np.arange(S)
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1, dtype=np.float64)
        cand = pick_weighted(cum, u[:, j, :] * cum[:, -1:])
        d = np.minimum(sqdist(cand.ravel()).reshape(S, trials, -1), closest[:, None, :])
        best = d.sum(axis=2, dtype=np.float64).argmin(axis=1)
        idx[:, j] = cand[every, best]
        closest = d[every, best]
    return idx


def split_in_two(rows: np.ndarray) -> np.ndarray | None:
    """Two centres (2, p) for rows cut by the hyperplane through their mean across the main axis."""
    if rows.shape[0] < 2:
        return None
    centred = rows - rows.mean(axis=0)
    axis = np.linalg.eigh(centred.T @ centred)[1][:, -1]
    side = centred @ axis > 0
    if side.all() or not side.any():
        return None
    return np.stack([rows[side].mean(axis=0), rows[~side].mean(axis=0)])


def swaps(Y: np.ndarray, C: np.ndarray, labels: np.ndarray, n_merge: int, n_split: int) -> np.ndarray:
    """Neighbours of a partition: merge two close clusters, split a large one; (S, k, p).

    Pairs are the n_merge with the smallest Ward merge cost; split candidates the n_split
    clusters (other than the pair) with the largest sum of squares. Y (m, p) rows, labels (m,).
    """
    k = C.shape[0]
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sse = np.array([((Y[labels == j] - C[j]) ** 2).sum() for j in range(k)])
    ward = {
        (a, b): counts[a] * counts[b] / max(counts[a] + counts[b], 1.0) * ((C[a] - C[b]) ** 2).sum()
        for a, b in itertools.combinations(range(k), 2)
    }
    pairs = sorted(ward, key=lambda pair: ward[pair])[:n_merge]
    halves = {}
    out = []
    for a, b in pairs:
        if counts[a] + counts[b] == 0:
            continue
        merged = (counts[a] * C[a] + counts[b] * C[b]) / (counts[a] + counts[b])
        others = [j for j in np.argsort(-sse, kind="stable") if j not in (a, b)][:n_split]
        for c in others or [None]:
            if c is None:
                # k = 2: re-split the merged cluster along its main axis.
                halves_c = split_in_two(Y[(labels == a) | (labels == b)])
            else:
                if c not in halves:
                    halves[c] = split_in_two(Y[labels == c])
                halves_c = halves[c]
            if halves_c is None:
                continue
            keep = [j for j in range(k) if j not in (a, b, c)]
            centres = [C[keep], halves_c] if c is None else [C[keep], merged[None], halves_c]
            out.append(np.vstack(centres))
    return np.array(out).reshape(-1, k, C.shape[1])


def trims(Y: np.ndarray, C: np.ndarray, labels: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Neighbours that pull one centre to the mean of its nearer half of rows; (S, k, p).

    Frees rows a compact cluster has captured from its neighbours' edges.
    """
    out = []
    for j in range(C.shape[0]):
        mine = labels == j
        if mine.sum() < 4:
            continue
        near = mine & (dist <= np.median(dist[mine]))
        moved = C.copy()
        moved[j] = Y[near].mean(axis=0)
        out.append(moved)
    return np.array(out).reshape(-1, *C.shape)


def relocations(
    Y: np.ndarray, C: np.ndarray, dist: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Neighbours that move a random centre to a row drawn in proportion to its squared error."""
    if count < 1 or dist.sum() <= 0:
        return np.empty((0, *C.shape))
    out = np.repeat(C[None], count, axis=0)
    which = rng.integers(C.shape[0], size=count)
    rows = rng.choice(Y.shape[0], size=count, p=dist / dist.sum())
    out[np.arange(count), which] = Y[rows]
    return out


def grown(Y: np.ndarray, C: np.ndarray, count: int) -> np.ndarray:
    """Starts with one more cluster: each of the `count` widest clusters of C split in two; (S, k+1, p)."""
    labels, _ = exact_assignment(Y, C)
    sse = np.array([((Y[labels == j] - C[j]) ** 2).sum() for j in range(C.shape[0])])
    out = []
    for j in np.argsort(-sse, kind="stable")[:count]:
        halves = split_in_two(Y[labels == j])
        if halves is not None:
            out.append(np.vstack([np.delete(C, j, axis=0), halves]))
    return np.array(out).reshape(-1, C.shape[0] + 1, C.shape[1])
