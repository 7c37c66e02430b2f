"""Fast multi-start k-means: a few k-means++ starts, merge-and-split swaps out of poor local
optima, and a final polish of the best partitions on every row (Lloyd, then Hartigan moves).

The search runs in float32 on a sample of rows, many starts per BLAS call; the polish and the
reported inertia are float64 on all rows.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numba
import numpy as np

# Elements of one batched distance block (starts x k x rows): about 16 MB of float32.
_BLOCK = 4_000_000


class KMeansResult(NamedTuple):
    labels: np.ndarray    # (n,) int64, 0..k-1
    centers: np.ndarray   # (k, p) float64
    inertia: float        # sum of squared distances of the rows to their centres


@numba.njit(parallel=True, cache=True)
def _assign(Y, G, cnorm, ynorm, labels, dist, sums, counts, changed):
    """Nearest centre of each row for each start, from G = centres @ Y.T; cluster sums kept current.

    Y (m, p); G (S*k, m); cnorm (S*k,); labels (S, m) int64, -1 before the first call;
    dist (S, m) squared distances; sums (S, k, p) and counts (S, k) of the rows in each cluster,
    updated only for rows that change cluster; changed (S,) set where any row moved.
    """
    S, k = counts.shape
    m, p = Y.shape
    for s in numba.prange(S):
        moved = False
        g = G[s * k:(s + 1) * k]
        c = cnorm[s * k:(s + 1) * k]
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
                moved = True
                labels[s, i] = best
                counts[s, best] += 1.0
                for q in range(p):
                    sums[s, best, q] += Y[i, q]
                if old >= 0:
                    counts[s, old] -= 1.0
                    for q in range(p):
                        sums[s, old, q] -= Y[i, q]
        changed[s] = moved


@numba.njit(parallel=True, fastmath=True, cache=True)
def _plusplus(Y, first, u):
    """Greedy k-means++ seeds: row indices (S, k) into Y (m, p).

    first (S,) the first seed of each start; u (S, k, trials) uniform draws in [0, 1) that pick
    candidates in proportion to the squared distance to the nearest seed so far; each step keeps
    the candidate that lowers the total squared distance most.
    """
    S, k, trials = u.shape
    m, p = Y.shape
    idx = np.empty((S, k), dtype=np.int64)
    for s in numba.prange(S):
        idx[s, 0] = first[s]
        closest = np.empty(m)
        for i in range(m):
            d = 0.0
            for q in range(p):
                e = Y[i, q] - Y[first[s], q]
                d += e * e
            closest[i] = d
        trial = np.empty(m)
        kept = np.empty(m)
        for j in range(1, k):
            total = closest.sum()
            best = np.inf
            idx[s, j] = first[s]
            for t in range(trials):
                target = u[s, j, t] * total
                c = m - 1
                run = 0.0
                for i in range(m):
                    run += closest[i]
                    if run > target:
                        c = i
                        break
                potential = 0.0
                for i in range(m):
                    d = 0.0
                    for q in range(p):
                        e = Y[i, q] - Y[c, q]
                        d += e * e
                    trial[i] = min(d, closest[i])
                    potential += trial[i]
                if potential < best:
                    best = potential
                    idx[s, j] = c
                    kept[:] = trial
            closest[:] = kept
    return idx


@numba.njit(cache=True)
def _hartigan(X, labels, C, counts, max_pass):
    """Move single rows to another cluster while that lowers the total sum of squares.

    X (n, p), labels (n,), C (k, p) cluster means, counts (k,) float; all updated in place.
    Returns the number of moves.
    """
    n, p = X.shape
    k = C.shape[0]
    total = 0
    for _ in range(max_pass):
        moves = 0
        for i in range(n):
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


class _Batch:
    """Lloyd state of S starts on the rows Y (m, p); converged starts are retired.

    Each centre moves `relax` times as far as Lloyd's step towards its cluster mean; a step that
    ends above the sum of squares plain Lloyd guarantees is undone, so the descent stays monotone.
    """

    def __init__(self, Y: np.ndarray, ynorm: np.ndarray, C: np.ndarray, relax: float):
        S, k, p = C.shape
        self.Y, self.ynorm, self.C, self.relax = Y, ynorm, C, relax
        self.labels = np.full((S, Y.shape[0]), -1, dtype=np.int64)
        self.dist = np.zeros((S, Y.shape[0]))
        self.sums = np.zeros((S, k, p))
        self.counts = np.zeros((S, k))
        self.changed = np.ones(S, dtype=np.bool_)
        self.ids = np.arange(S)
        self.means = C.copy()              # plain Lloyd centres, the fallback of a relaxed step
        self.bound = np.full(S, np.inf)    # sum of squares the plain centres would not exceed
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
            _assign(self.Y, G, cnorm, self.ynorm, self.labels[b:e], self.dist[b:e], self.sums[b:e],
                    self.counts[b:e], self.changed[b:e])
        for s, j in np.argwhere(self.counts == 0):
            self._reseed(s, j)
        value = self.dist.sum(axis=1)
        rejected = value > self.bound
        filled = self.counts > 0
        means = np.where(filled[:, :, None], self.sums / np.where(filled, self.counts, 1.0)[:, :, None], self.C)
        shift = (self.counts * ((means - self.C) ** 2).sum(axis=2)).sum(axis=1)
        relaxed = self.changed & ~rejected & (self.relax != 1.0)
        new = self.C + np.where(self.changed, self.relax, 1.0)[:, None, None] * (means - self.C)
        new[rejected] = self.means[rejected]
        self.done = ~self.changed & self.plain & ~rejected
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
        self.changed[s] = True

    def retire(self, done: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Remove the starts flagged in done (S,); their ids, centres and sums of squares."""
        out = self.ids[done], self.C[done], self.dist[done].sum(axis=1)
        keep = ~done
        for name in ("C", "labels", "dist", "sums", "counts", "changed", "ids", "means", "bound", "plain", "done"):
            setattr(self, name, getattr(self, name)[keep])
        return out


def _descend(Y, ynorm, C, *, max_iter: int, relax: float) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd from every start in C (S, k, p) until no row changes cluster.

    Returns the final centres (S, k, p) and their sums of squares on Y (S,), in start order.
    """
    batch = _Batch(Y, ynorm, np.array(C, dtype=np.float64), relax)
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


def exact_assignment(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest centre of each row and the exact inertia, from differences rather than expanded norms.

    X (n, p), C (k, p); returns labels (n,) int64 and the sum of squared distances.
    """
    d = np.einsum("ij,ij->i", C, C)[None, :] - 2.0 * (X @ C.T)
    labels = d.argmin(axis=1).astype(np.int64)
    inertia = 0.0
    for j in range(C.shape[0]):
        diff = X[labels == j] - C[j]
        inertia += float(np.einsum("ij,ij->", diff, diff))
    return labels, inertia


def _means(X: np.ndarray, labels: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Mean row of each cluster (k, p); an empty cluster keeps its fallback centre."""
    out = fallback.copy()
    for j in range(fallback.shape[0]):
        rows = X[labels == j]
        if rows.shape[0]:
            out[j] = rows.mean(axis=0)
    return out


def _polish(X: np.ndarray, xnorm: np.ndarray, C: np.ndarray, max_iter: int) -> KMeansResult:
    """Lloyd on all rows in float64, then Hartigan moves and Lloyd again until neither moves a row."""
    for _ in range(max_iter):
        centres, _ = _descend(X, xnorm, C[None], max_iter=max_iter, relax=1.0)
        labels, _ = exact_assignment(X, centres[0])
        # Incremental sums drift in the last bits: restart from the exact means of the partition.
        C = _means(X, labels, centres[0])
        counts = np.bincount(labels, minlength=C.shape[0]).astype(np.float64)
        if (counts == 0).any() or _hartigan(X, labels, C.copy(), counts, max_iter) == 0:
            break
        C = _means(X, labels, C)
    labels, inertia = exact_assignment(X, C)
    return KMeansResult(labels, C, inertia)


def _split(rows: np.ndarray) -> np.ndarray | None:
    """Two centres (2, p) for rows cut by the hyperplane through their mean across the main axis."""
    if rows.shape[0] < 2:
        return None
    centred = rows - rows.mean(axis=0)
    axis = np.linalg.eigh(centred.T @ centred)[1][:, -1]
    side = centred @ axis > 0
    if side.all() or not side.any():
        return None
    return np.stack([rows[side].mean(axis=0), rows[~side].mean(axis=0)])


def _swaps(Y: np.ndarray, C: np.ndarray, labels: np.ndarray, n_merge: int, n_split: int) -> np.ndarray:
    """Neighbours of a partition: merge two close clusters, split a large one; (S, k, p).

    Pairs are the n_merge with the smallest Ward merge cost; split candidates the n_split
    clusters (other than the pair) with the largest sum of squares. Y (m, p) rows, labels (m,).
    """
    k = C.shape[0]
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sse = np.array([((Y[labels == j] - C[j]) ** 2).sum() for j in range(k)])
    ward = {(a, b): counts[a] * counts[b] / max(counts[a] + counts[b], 1.0) * ((C[a] - C[b]) ** 2).sum()
            for a, b in itertools.combinations(range(k), 2)}
    pairs = sorted(ward, key=ward.get)[:n_merge]
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
                halves_c = _split(Y[(labels == a) | (labels == b)])
            else:
                if c not in halves:
                    halves[c] = _split(Y[labels == c])
                halves_c = halves[c]
            if halves_c is None:
                continue
            keep = [j for j in range(k) if j not in (a, b, c)]
            centres = [C[keep], halves_c] if c is None else [C[keep], merged[None], halves_c]
            out.append(np.vstack(centres))
    return np.array(out).reshape(-1, k, C.shape[1])


def _check(X: np.ndarray) -> np.ndarray:
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D matrix (rows x variables), got shape {X.shape}")
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"X has a missing or infinite value at row {row}, column {col}")
    return X


class _Rows:
    """The matrix, its squared row norms, and the float32 sample the search runs on."""

    def __init__(self, X: np.ndarray, sample_size: int, rng: np.random.Generator):
        self.X = X
        self.xnorm = np.einsum("ij,ij->i", X, X)
        n = X.shape[0]
        self.sample = X[np.sort(rng.choice(n, size=sample_size, replace=False))] if n > sample_size else X
        self.Y = self.sample.astype(np.float32)
        self.ynorm = np.einsum("ij,ij->i", self.Y, self.Y)

    def seeds(self, k: int, starts: int, rng: np.random.Generator, pool_size: int = 4096) -> np.ndarray:
        """k-means++ starts (starts, k, p) drawn from at most pool_size sample rows."""
        m = self.sample.shape[0]
        pool = self.sample[np.sort(rng.choice(m, size=pool_size, replace=False))] if m > pool_size else self.sample
        trials = 2 + int(np.log(k))
        idx = _plusplus(pool, rng.integers(pool.shape[0], size=starts), rng.random((starts, k, trials)))
        return pool[idx]


class _Options(NamedTuple):
    n_init: int
    swap_rounds: int
    n_merge: int
    n_split: int
    n_refine: int
    relax: float
    max_iter: int


def _search(rows: _Rows, starts: np.ndarray, opt: _Options) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd from the starts, then merge-and-split swaps from the best partition while they help.

    starts (S, k, p). Returns every local optimum reached, centres (S', k, p) and sums of squares
    on the sample (S',).
    """
    C, v = _descend(rows.Y, rows.ynorm, starts, max_iter=opt.max_iter, relax=opt.relax)
    found_C, found_v = [C], [v]
    best = int(v.argmin())
    current, value = C[best], v[best]
    for _ in range(opt.swap_rounds):
        labels, _ = exact_assignment(rows.sample, current)
        candidates = _swaps(rows.sample, current, labels, opt.n_merge, opt.n_split)
        if candidates.shape[0] == 0:
            break
        C, v = _descend(rows.Y, rows.ynorm, candidates, max_iter=opt.max_iter, relax=opt.relax)
        found_C.append(C)
        found_v.append(v)
        best = int(v.argmin())
        if not v[best] < value * (1.0 - 1e-9):
            break
        current, value = C[best], v[best]
    return np.concatenate(found_C), np.concatenate(found_v)


def _distinct(C: np.ndarray, inertia: np.ndarray, keep: int) -> list[int]:
    """Indices of the lowest-inertia solutions, skipping repeats of one already kept."""
    chosen: list[int] = []
    keys: list[np.ndarray] = []
    for s in np.argsort(inertia, kind="stable"):
        key = C[s][np.lexsort(C[s].T[::-1])]
        if any(np.allclose(key, other, rtol=0.0, atol=1e-7) for other in keys):
            continue
        chosen.append(int(s))
        keys.append(key)
        if len(chosen) == keep:
            break
    return chosen


def _finish(rows: _Rows, C: np.ndarray, v: np.ndarray, opt: _Options) -> KMeansResult:
    """Polish the best distinct partitions on every row; the one with the lowest exact inertia."""
    if C.shape[1] == 1:
        return _polish(rows.X, rows.xnorm, rows.X.mean(axis=0, keepdims=True), opt.max_iter)
    fits = [_polish(rows.X, rows.xnorm, C[s], opt.max_iter) for s in _distinct(C, v, opt.n_refine)]
    return min(fits, key=lambda f: f.inertia)


def _options(n_init, swap_rounds, n_merge, n_split, n_refine, relax, max_iter) -> _Options:
    if n_init < 1 or n_refine < 1 or max_iter < 1:
        raise ValueError(f"n_init, n_refine and max_iter must be at least 1, got {n_init}, {n_refine}, {max_iter}")
    if not 1.0 <= relax < 2.0:
        raise ValueError(f"relax must be in [1, 2), got {relax}")
    return _Options(n_init, swap_rounds, n_merge, n_split, n_refine, relax, max_iter)


def fast_kmeans(X: np.ndarray, k: int, *, n_init: int = 10, seed: int = 507, sample_size: int = 20_000,
                swap_rounds: int = 10, n_merge: int = 3, n_split: int = 3, n_refine: int = 3,
                relax: float = 1.5, max_iter: int = 300) -> KMeansResult:
    """The lowest-inertia k-means partition found; deterministic for a seed.

    n_init k-means++ starts run Lloyd on a sample of sample_size rows (all rows if fewer); up to
    swap_rounds rounds then merge the n_merge closest pairs of clusters while splitting one of
    the n_split widest clusters, keeping the best result while it improves; the n_refine best
    distinct partitions are polished on every row. X (n, p) float; returns labels (n,) int64,
    centers (k, p) and the exact inertia (sum of squared distances to the centres).
    """
    X = _check(X)
    if not 1 <= k <= X.shape[0]:
        raise ValueError(f"k={k} must be between 1 and the {X.shape[0]} rows to cluster")
    opt = _options(n_init, swap_rounds, n_merge, n_split, n_refine, relax, max_iter)
    rng = np.random.default_rng(seed)
    rows = _Rows(X, sample_size, rng)
    if k == 1:
        return _finish(rows, X.mean(axis=0, keepdims=True)[None], np.zeros(1), opt)
    C, v = _search(rows, rows.seeds(k, n_init, rng), opt)
    return _finish(rows, C, v, opt)
