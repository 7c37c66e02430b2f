"""Lloyd descents of many starts at once, and the float64 polish of a partition on every row."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np

from geodem_assets.kmeans.kernels import assign_rows, cluster_sums, hartigan_moves, squared_error

# Elements of one batched distance block (starts x k x rows): about 16 MB of float32.
_BLOCK = 4_000_000


class KMeansResult(NamedTuple):
    labels: np.ndarray  # (n,) int64, 0..k-1
    centers: np.ndarray  # (k, p) float64
    inertia: float  # sum of squared distances of the rows to their centres


class _Batch:
    """Lloyd state of S starts on the rows Y (m, p); converged starts are retired.

    Each centre moves `relax` times as far as Lloyd's step towards its cluster mean; a step that
    ends above the sum of squares plain Lloyd guarantees is undone, so the descent stays monotone.
    """

    def __init__(self, Y: np.ndarray, ynorm: np.ndarray, C: np.ndarray, relax: float, settle: int = 0):
        S, k, p = C.shape
        self.Y, self.ynorm, self.C, self.relax, self.settle = Y, ynorm, C, relax, settle
        self.labels = np.full((S, Y.shape[0]), -1, dtype=np.int64)
        self.dist = np.zeros((S, Y.shape[0]))
        self.sums = np.zeros((S, k, p))
        self.counts = np.zeros((S, k))
        self.changed = np.ones(S, dtype=np.int64)
        self.ids = np.arange(S)
        self.means = C.copy()  # plain Lloyd centres, the fallback of a relaxed step
        self.bound = np.full(S, np.inf)  # sum of squares the plain centres would not exceed
        self.plain = np.ones(S, dtype=np.bool_)
        self.done = np.zeros(S, dtype=np.bool_)

    def step(self) -> None:
        """Assign the rows for every start, then move each centre towards its cluster's mean."""
        S, k, p = self.C.shape
        block = max(1, _BLOCK // (self.Y.shape[0] * k))
        for b in range(0, S, block):
            e = min(S, b + block)
            flat = self.C[b:e].reshape(-1, p)
            G = flat.astype(self.Y.dtype) @ self.Y.T
            cnorm = np.einsum("ij,ij->i", flat, flat).astype(G.dtype)
            assign_rows(
                self.Y,
                G,
                cnorm,
                self.ynorm,
                self.labels[b:e],
                self.dist[b:e],
                self.sums[b:e],
                self.counts[b:e],
                self.changed[b:e],
            )
        for s, j in np.argwhere(self.counts == 0):
            self._reseed(s, j)
        moving = self.changed > self.settle
        value = self.dist.sum(axis=1)
        rejected = value > self.bound
        filled = self.counts > 0
        means = np.where(
            filled[:, :, None], self.sums / np.where(filled, self.counts, 1.0)[:, :, None], self.C
        )
        shift = (self.counts * ((means - self.C) ** 2).sum(axis=2)).sum(axis=1)
        relaxed = moving & ~rejected & (self.relax != 1.0)
        new = self.C + np.where(moving, self.relax, 1.0)[:, None, None] * (means - self.C)
        new[rejected] = self.means[rejected]
        self.done = (self.changed <= self.settle) & self.plain & ~rejected
        self.bound = np.where(relaxed, value - shift, np.inf)
        self.plain = ~relaxed
        self.means, self.C = means, new

    def _reseed(self, s: int, j: int) -> None:
        """An empty cluster takes the row farthest from its centre, unless that row is alone."""
        far = int(self.dist[s].argmax())
        old = self.labels[s, far]
        if self.counts[s, old] <= 1.0:
            return
        self.sums[s, old] -= self.Y[far]
        self.counts[s, old] -= 1.0
        self.sums[s, j] += self.Y[far]
        self.counts[s, j] += 1.0
        self.labels[s, far] = j
        self.dist[s, far] = 0.0
        self.changed[s] += 1

    def retire(self, done: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Remove the starts flagged in done (S,); their ids, centres and sums of squares."""
        out = self.ids[done], self.means[done], self.dist[done].sum(axis=1)
        keep = ~done
        for name in (
            "C",
            "labels",
            "dist",
            "sums",
            "counts",
            "changed",
            "ids",
            "means",
            "bound",
            "plain",
            "done",
        ):
            setattr(self, name, getattr(self, name)[keep])
        return out


def _descend_all(
    Y: np.ndarray, ynorm: np.ndarray, C: np.ndarray, max_iter: int, relax: float, settle: int
) -> tuple[np.ndarray, np.ndarray]:
    batch = _Batch(Y, ynorm, np.array(C, dtype=np.float64), relax, settle)
    centres, inertia = np.empty_like(batch.C), np.empty(batch.C.shape[0])
    for it in range(max_iter):
        batch.step()
        done = batch.done if it < max_iter - 1 else np.ones(batch.ids.size, dtype=np.bool_)
        if done.any():
            ids, c, v = batch.retire(done)
            centres[ids], inertia[ids] = c, v
        if batch.ids.size == 0:
            break
    return centres, inertia


def descend(
    Y: np.ndarray,
    ynorm: np.ndarray,
    C: np.ndarray,
    *,
    max_iter: int,
    relax: float,
    workers: int = 1,
    settle: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd from every start in C (S, k, p) until at most `settle` rows change cluster in a step.

    Returns the final centres (S, k, p) and their sums of squares on Y (S,), in start order.
    Fixed chunks of starts are shared out between `workers` threads, so that every BLAS call, and
    the result, is the same whatever the number of threads.
    """
    parts = start_chunks(C.shape[0])
    results = parallel_map(
        lambda part: _descend_all(Y, ynorm, C[part], max_iter, relax, settle), parts, workers
    )
    return np.concatenate([c for c, _ in results]), np.concatenate([v for _, v in results])


def start_chunks(count: int, size: int = 6) -> list[np.ndarray]:
    """Consecutive index blocks of at most `size` covering range(count)."""
    return [np.arange(b, min(b + size, count)) for b in range(0, count, size)]


def parallel_map(fn: Callable[[Any], Any], items: list, workers: int) -> list:
    """fn over items, in threads when there are several (the kernels release the GIL)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def exact_assignment(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest centre of each row and the exact inertia, from differences rather than expanded norms.

    X (n, p), C (k, p); returns labels (n,) int64 and the sum of squared distances.
    """
    cnorm = np.einsum("ij,ij->i", C, C)
    labels = np.empty(X.shape[0], dtype=np.int64)
    for b in range(0, X.shape[0], 65_536):
        labels[b : b + 65_536] = (cnorm[None, :] - 2.0 * (X[b : b + 65_536] @ C.T)).argmin(axis=1)
    return labels, float(squared_error(X, C, labels))


def cluster_means(X: np.ndarray, labels: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Mean row of each cluster (k, p); an empty cluster keeps its fallback centre."""
    sums, counts = cluster_sums(X, labels, fallback.shape[0])
    filled = counts > 0
    out = fallback.copy()
    out[filled] = sums[filled] / counts[filled, None]
    return out


def hartigan_candidates(X: np.ndarray, C: np.ndarray, labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rows that a Hartigan move could take to another cluster, a superset; indices (r,).

    A row in cluster a moves to b only if d_b^2 < d_a^2 * n_a / (n_a - 1) * (n_b + 1) / n_b, so
    rows whose second-nearest centre is farther than that bound, with the smallest counts, stay.
    """
    smallest = max(counts.min(), 2.0)
    factor = (smallest / (smallest - 1.0)) * ((smallest + 1.0) / smallest) * (1.0 + 1e-9)
    out = []
    cnorm = np.einsum("ij,ij->i", C, C)
    for b in range(0, X.shape[0], 65_536):
        block = X[b : b + 65_536]
        d = np.maximum(
            cnorm[None, :] - 2.0 * (block @ C.T) + np.einsum("ij,ij->i", block, block)[:, None], 0.0
        )
        own = d[np.arange(block.shape[0]), labels[b : b + 65_536]]
        d[np.arange(block.shape[0]), labels[b : b + 65_536]] = np.inf
        # Absolute slack covers the rounding of the expanded distances.
        out.append(b + np.flatnonzero(d.min(axis=1) <= own * factor + 1e-9))
    return np.concatenate(out)


def fill_empty(X: np.ndarray, labels: np.ndarray, C: np.ndarray) -> int:
    """Give every empty cluster the row farthest from its own centre, taken from a cluster of
    at least 2 rows; labels (n,) and centres C (k, p) are updated in place (C to the means).

    Each move lowers the sum of squares (the row's error becomes 0). Returns the clusters filled;
    raises ValueError when no row can move, i.e. X has fewer distinct rows than clusters.
    """
    k = C.shape[0]
    filled = 0
    counts = np.bincount(labels, minlength=k)
    for j in np.flatnonzero(counts == 0):
        dist = ((X - C[labels]) ** 2).sum(axis=1)
        dist[counts[labels] < 2] = -1.0
        far = int(dist.argmax())
        if dist[far] <= 0.0:
            raise ValueError(f"cluster {j} is empty and no row lies away from its centre to fill it")
        old = labels[far]
        labels[far] = j
        counts[old] -= 1
        counts[j] += 1
        C[old] = X[labels == old].mean(axis=0)
        C[j] = X[far]
        filled += 1
    return filled


def nonempty(X: np.ndarray, labels: np.ndarray, C: np.ndarray, max_pass: int = 300) -> KMeansResult:
    """The partition (labels (n,), centres C (k, p)) with no empty cluster: empty clusters are
    filled by fill_empty, then Hartigan moves (which never empty a cluster) run to a stable
    partition. Unchanged (exact means, exact inertia) when no cluster is empty."""
    labels = np.array(labels, dtype=np.int64)
    C = cluster_means(X, labels, np.array(C, dtype=np.float64))
    if fill_empty(X, labels, C):
        counts = np.bincount(labels, minlength=C.shape[0]).astype(np.float64)
        hartigan_moves(X, np.arange(X.shape[0]), labels, C, counts, max_pass)
        C = cluster_means(X, labels, C)
    return KMeansResult(labels, C, float(squared_error(X, C, labels)))


def hartigan_refine(X: np.ndarray, C: np.ndarray, max_pass: int) -> KMeansResult:
    """The partition of X (n, p) by nearest centre of C (k, p), improved by Hartigan single-row moves
    over every row, in float64, until none lowers the sum of squares (Hartigan and Wong 1979).

    A Hartigan-stable partition is also Lloyd-stable (each row is nearest its own cluster's mean),
    and many Lloyd optima are not Hartigan-stable (Telgarsky and Vattani 2010), so this ranks
    Lloyd optima by the better optimum each leads to. Cheap when X is small: one pass is n*k*p.
    """
    labels, _ = exact_assignment(X, C)
    C = cluster_means(X, labels, C)
    fill_empty(X, labels, C)
    counts = np.bincount(labels, minlength=C.shape[0]).astype(np.float64)
    hartigan_moves(X, np.arange(X.shape[0]), labels, C, counts, max_pass)
    # Incremental means drift in the last bits: the exact means of the final partition.
    C = cluster_means(X, labels, C)
    return _final(X, labels, C, max_pass)


def _final(X: np.ndarray, labels: np.ndarray, C: np.ndarray, max_pass: int) -> KMeansResult:
    """The nearest-centre assignment to C, unless ties there would empty a cluster (rows equal to
    each other in two clusters): then the given partition, made non-empty."""
    nearest, inertia = exact_assignment(X, C)
    if np.bincount(nearest, minlength=C.shape[0]).min() > 0:
        return KMeansResult(nearest, C, inertia)
    return nonempty(X, labels, C, max_pass)


def polish(
    X: np.ndarray,
    xnorm: np.ndarray,
    C: np.ndarray,
    max_iter: int,
    relax: float = 1.0,
    X32: tuple[np.ndarray, np.ndarray] | None = None,
) -> KMeansResult:
    """Lloyd on all rows in float64, then Hartigan moves and Lloyd again until neither moves a row.

    X32 (a float32 copy of X and its squared norms) marks a large matrix searched on a sample:
    Lloyd then covers most of the way in float32 at half the cost, and both stages stop once at
    most 1 row in 10,000 changes cluster in a step (the remaining gains are below 1e-6 relative,
    as are a Hartigan move's on clusters that large). The final assignment makes labels, centres
    and inertia agree in every case. Raises ValueError if max_iter < 1.
    """
    if max_iter < 1:
        raise ValueError(f"polish needs max_iter >= 1, got {max_iter}")
    labels = np.empty(0, dtype=np.int64)  # set by the first pass
    settle = 0
    if X32 is not None:
        settle = X.shape[0] // 10_000
        C = descend(X32[0], X32[1], C[None], max_iter=max_iter, relax=relax, settle=settle)[0][0]
    for _ in range(max_iter):
        centres, _ = descend(X, xnorm, C[None], max_iter=max_iter, relax=relax, settle=settle)
        labels, _ = exact_assignment(X, centres[0])
        # Incremental sums drift in the last bits: restart from the exact means of the partition.
        C = cluster_means(X, labels, centres[0])
        # An empty cluster takes the row farthest from its centre, so that none is returned.
        fill_empty(X, labels, C)
        counts = np.bincount(labels, minlength=C.shape[0]).astype(np.float64)
        if X32 is not None:
            break
        rows = hartigan_candidates(X, C, labels, counts)
        if hartigan_moves(X, rows, labels, C.copy(), counts, max_iter) == 0:
            break
        C = cluster_means(X, labels, C)
    return _final(X, labels, C, max_iter)
