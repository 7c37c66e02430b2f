"""Fast multi-start k-means: k-means++ starts, a local search out of poor local optima, and a
final polish of the best partitions on every row (Lloyd, then Hartigan single-row moves).

The search runs in float32 on a sample of rows (all rows up to 20,000), many starts per BLAS
call and shared between threads; the polish and the reported inertia are float64 on all rows.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba
import numpy as np
from threadpoolctl import threadpool_limits

# Elements of one batched distance block (starts x k x rows): about 16 MB of float32.
_BLOCK = 4_000_000


class KMeansResult(NamedTuple):
    labels: np.ndarray    # (n,) int64, 0..k-1
    centers: np.ndarray   # (k, p) float64
    inertia: float        # sum of squared distances of the rows to their centres


@numba.njit(nogil=True, cache=True)
def _assign(Y, G, cnorm, ynorm, labels, dist, sums, counts, changed):
    """Nearest centre of each row for each start, from G = centres @ Y.T; cluster sums kept current.

    Y (m, p); G (S*k, m); cnorm (S*k,); labels (S, m) int64, -1 before the first call;
    dist (S, m) squared distances; sums (S, k, p) and counts (S, k) of the rows in each cluster,
    updated only for rows that change cluster; changed (S,) the number of rows that moved.
    """
    S, k = counts.shape
    m, p = Y.shape
    for s in range(S):
        moved = 0
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
def _pick(cum, targets):
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


def _plusplus(P: np.ndarray, first: np.ndarray, u: np.ndarray) -> np.ndarray:
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
        cand = _pick(cum, u[:, j, :] * cum[:, -1:])
        d = np.minimum(sqdist(cand.ravel()).reshape(S, trials, -1), closest[:, None, :])
        best = d.sum(axis=2, dtype=np.float64).argmin(axis=1)
        idx[:, j] = cand[every, best]
        closest = d[every, best]
    return idx


@numba.njit(nogil=True, cache=True)
def _hartigan(X, rows, labels, C, counts, max_pass):
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
        moving = self.changed > self.settle
        value = self.dist.sum(axis=1)
        rejected = value > self.bound
        filled = self.counts > 0
        means = np.where(filled[:, :, None], self.sums / np.where(filled, self.counts, 1.0)[:, :, None], self.C)
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
        for name in ("C", "labels", "dist", "sums", "counts", "changed", "ids", "means", "bound", "plain", "done"):
            setattr(self, name, getattr(self, name)[keep])
        return out


def _descend_all(Y, ynorm, C, max_iter: int, relax: float, settle: int) -> tuple[np.ndarray, np.ndarray]:
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


def _descend(Y, ynorm, C, *, max_iter: int, relax: float, workers: int = 1,
             settle: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd from every start in C (S, k, p) until at most `settle` rows change cluster in a step.

    Returns the final centres (S, k, p) and their sums of squares on Y (S,), in start order.
    Fixed chunks of starts are shared out between `workers` threads, so that every BLAS call, and
    the result, is the same whatever the number of threads.
    """
    parts = _chunks(C.shape[0])
    results = _map(lambda part: _descend_all(Y, ynorm, C[part], max_iter, relax, settle), parts, workers)
    return np.concatenate([c for c, _ in results]), np.concatenate([v for _, v in results])


def _chunks(count: int, size: int = 6) -> list[np.ndarray]:
    """Consecutive index blocks of at most `size` covering range(count)."""
    return [np.arange(b, min(b + size, count)) for b in range(0, count, size)]


def _map(fn, items: list, workers: int) -> list:
    """fn over items, in threads when there are several (the kernels release the GIL)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


@numba.njit(nogil=True, cache=True)
def _cluster_sums(X, labels, k):
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
def _squared_error(X, C, labels):
    """Sum over rows of the squared distance to their centre, from differences (no expanded norms)."""
    total = 0.0
    for i in range(X.shape[0]):
        j = labels[i]
        for q in range(X.shape[1]):
            e = X[i, q] - C[j, q]
            total += e * e
    return total


def exact_assignment(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest centre of each row and the exact inertia, from differences rather than expanded norms.

    X (n, p), C (k, p); returns labels (n,) int64 and the sum of squared distances.
    """
    cnorm = np.einsum("ij,ij->i", C, C)
    labels = np.empty(X.shape[0], dtype=np.int64)
    for b in range(0, X.shape[0], 65_536):
        labels[b:b + 65_536] = (cnorm[None, :] - 2.0 * (X[b:b + 65_536] @ C.T)).argmin(axis=1)
    return labels, float(_squared_error(X, C, labels))


def _means(X: np.ndarray, labels: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Mean row of each cluster (k, p); an empty cluster keeps its fallback centre."""
    sums, counts = _cluster_sums(X, labels, fallback.shape[0])
    filled = counts > 0
    out = fallback.copy()
    out[filled] = sums[filled] / counts[filled, None]
    return out


def _hartigan_candidates(X: np.ndarray, C: np.ndarray, labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rows that a Hartigan move could take to another cluster, a superset; indices (r,).

    A row in cluster a moves to b only if d_b^2 < d_a^2 * n_a / (n_a - 1) * (n_b + 1) / n_b, so
    rows whose second-nearest centre is farther than that bound, with the smallest counts, stay.
    """
    smallest = max(counts.min(), 2.0)
    factor = (smallest / (smallest - 1.0)) * ((smallest + 1.0) / smallest) * (1.0 + 1e-9)
    out = []
    cnorm = np.einsum("ij,ij->i", C, C)
    for b in range(0, X.shape[0], 65_536):
        block = X[b:b + 65_536]
        d = np.maximum(cnorm[None, :] - 2.0 * (block @ C.T) + np.einsum("ij,ij->i", block, block)[:, None], 0.0)
        own = d[np.arange(block.shape[0]), labels[b:b + 65_536]]
        d[np.arange(block.shape[0]), labels[b:b + 65_536]] = np.inf
        # Absolute slack covers the rounding of the expanded distances.
        out.append(b + np.flatnonzero(d.min(axis=1) <= own * factor + 1e-9))
    return np.concatenate(out)


def _polish(X: np.ndarray, xnorm: np.ndarray, C: np.ndarray, max_iter: int, relax: float = 1.0,
            X32=None) -> KMeansResult:
    """Lloyd on all rows in float64, then Hartigan moves and Lloyd again until neither moves a row.

    X32 (a float32 copy of X and its squared norms) marks a large matrix searched on a sample:
    Lloyd then covers most of the way in float32 at half the cost, and both stages stop once at
    most 1 row in 10,000 changes cluster in a step (the remaining gains are below 1e-6 relative,
    as are a Hartigan move's on clusters that large). The final assignment makes labels, centres
    and inertia agree in every case.
    """
    settle = 0
    if X32 is not None:
        settle = X.shape[0] // 10_000
        C = _descend(X32[0], X32[1], C[None], max_iter=max_iter, relax=relax, settle=settle)[0][0]
    for _ in range(max_iter):
        centres, _ = _descend(X, xnorm, C[None], max_iter=max_iter, relax=relax, settle=settle)
        labels, _ = exact_assignment(X, centres[0])
        # Incremental sums drift in the last bits: restart from the exact means of the partition.
        C = _means(X, labels, centres[0])
        counts = np.bincount(labels, minlength=C.shape[0]).astype(np.float64)
        if X32 is not None or (counts == 0).any():
            break
        rows = _hartigan_candidates(X, C, labels, counts)
        if _hartigan(X, rows, labels, C.copy(), counts, max_iter) == 0:
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
        self.sampled = n > sample_size
        self.sample = X[np.sort(rng.choice(n, size=sample_size, replace=False))] if self.sampled else X
        self.Y = self.sample.astype(np.float32)
        self.ynorm = np.einsum("ij,ij->i", self.Y, self.Y)
        self._full32 = None

    def full32(self):
        """All rows in float32 and their squared norms, when the search ran on a sample only."""
        if self.sampled and self._full32 is None:
            X32 = self.X.astype(np.float32)
            self._full32 = (X32, np.einsum("ij,ij->i", X32, X32))
        return self._full32

    def seeds(self, k: int, starts: int, rng: np.random.Generator, workers: int, pool_size: int = 4096) -> np.ndarray:
        """k-means++ starts (starts, k, p) drawn from at most pool_size sample rows."""
        m = self.sample.shape[0]
        pool = self.sample[np.sort(rng.choice(m, size=pool_size, replace=False))] if m > pool_size else self.sample
        trials = 2 + int(np.log(k))
        first, u = rng.integers(pool.shape[0], size=starts), rng.random((starts, k, trials))
        parts = _chunks(starts)
        pool32 = pool.astype(np.float32)
        return pool[np.concatenate(_map(lambda part: _plusplus(pool32, first[part], u[part]), parts, workers))]


class _Options(NamedTuple):
    n_init: int = 18          # k-means++ starts
    swap_rounds: int = 3      # local-search rounds at most
    n_merge: int = 2          # closest cluster pairs tried for merging in a round
    n_split: int = 2          # widest clusters tried for splitting in a round
    n_relocate: int = 6       # random centre relocations tried in a round
    n_refine: int = 3         # distinct partitions polished on every row
    relax: float = 1.5        # over-relaxation of Lloyd's centre step, in [1, 2)
    min_gain: float = 1e-5    # relative gain below which the local search stops
    max_iter: int = 300       # Lloyd iterations per descent at most
    workers: int = 1          # threads


def _available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _options(threads: int | None = None, **given) -> _Options:
    unknown = set(given) - set(_Options._fields) | ({"workers"} & set(given))
    if unknown:
        raise TypeError(f"unknown k-means option(s): {', '.join(sorted(unknown))}")
    workers = threads if threads is not None else _available_cores()
    opt = _Options(**given, workers=workers)
    for name in ("n_init", "n_refine", "max_iter", "workers"):
        if getattr(opt, name) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(opt, name)}")
    for name in ("swap_rounds", "n_merge", "n_split", "n_relocate"):
        if getattr(opt, name) < 0:
            raise ValueError(f"{name} must not be negative, got {getattr(opt, name)}")
    if not 1.0 <= opt.relax < 2.0:
        raise ValueError(f"relax must be in [1, 2), got {opt.relax}")
    return opt


def _trims(Y: np.ndarray, C: np.ndarray, labels: np.ndarray, dist: np.ndarray) -> np.ndarray:
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


def _relocations(Y: np.ndarray, C: np.ndarray, dist: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Neighbours that move a random centre to a row drawn in proportion to its squared error."""
    if count < 1 or dist.sum() <= 0:
        return np.empty((0, *C.shape))
    out = np.repeat(C[None], count, axis=0)
    which = rng.integers(C.shape[0], size=count)
    rows = rng.choice(Y.shape[0], size=count, p=dist / dist.sum())
    out[np.arange(count), which] = Y[rows]
    return out


def _search(rows: _Rows, starts: np.ndarray, opt: _Options, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd from the starts, then local search from the best partition while it improves.

    Each round descends from neighbours of the best partition so far (merge-and-split swaps,
    trimmed centres, relocated centres) and keeps the best result. starts (S, k, p).
    Returns every local optimum reached: centres (S', k, p), sums of squares on the sample (S',).
    """
    C, v = _descend(rows.Y, rows.ynorm, starts, max_iter=opt.max_iter, relax=opt.relax, workers=opt.workers)
    found_C, found_v = [C], [v]
    best = int(v.argmin())
    current, value = C[best], v[best]
    for _ in range(opt.swap_rounds):
        labels, _ = exact_assignment(rows.sample, current)
        dist = ((rows.sample - current[labels]) ** 2).sum(axis=1)
        candidates = np.concatenate([
            _swaps(rows.sample, current, labels, opt.n_merge, opt.n_split),
            _trims(rows.sample, current, labels, dist),
            _relocations(rows.sample, current, dist, opt.n_relocate, rng),
        ])
        if candidates.shape[0] == 0:
            break
        C, v = _descend(rows.Y, rows.ynorm, candidates, max_iter=opt.max_iter, relax=opt.relax, workers=opt.workers)
        found_C.append(C)
        found_v.append(v)
        best = int(v.argmin())
        # Gains far below the precision anyone compares inertias at are not worth a round.
        if not v[best] < value * (1.0 - opt.min_gain):
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
    # Without a sample the search already ranked on every row; polishing fewer costs less.
    chosen = _distinct(C, v, opt.n_refine if rows.sampled else max(1, opt.n_refine - 1))
    full32 = rows.full32()
    fits = _map(lambda s: _polish(rows.X, rows.xnorm, C[s], opt.max_iter, opt.relax, full32), chosen, opt.workers)
    return min(fits, key=lambda f: f.inertia)


def _grown(Y: np.ndarray, C: np.ndarray, count: int) -> np.ndarray:
    """Starts with one more cluster: each of the `count` widest clusters of C split in two; (S, k+1, p)."""
    labels, _ = exact_assignment(Y, C)
    sse = np.array([((Y[labels == j] - C[j]) ** 2).sum() for j in range(C.shape[0])])
    out = []
    for j in np.argsort(-sse, kind="stable")[:count]:
        halves = _split(Y[labels == j])
        if halves is not None:
            out.append(np.vstack([np.delete(C, j, axis=0), halves]))
    return np.array(out).reshape(-1, C.shape[0] + 1, C.shape[1])


def fast_kmeans(X: np.ndarray, k: int, *, seed: int = 507, sample_size: int = 20_000, threads: int | None = None,
                **options) -> KMeansResult:
    """The lowest-inertia k-means partition found; deterministic for a seed.

    n_init k-means++ starts (default 18) run Lloyd, over-relaxed, on a sample of sample_size rows
    (all rows if fewer). Up to swap_rounds local-search rounds (default 3) then descend from
    neighbours of the best partition so far: each centre pulled to the mean of its nearer half
    of rows, n_relocate centres moved to rows drawn by squared error, and each of the n_merge
    closest cluster pairs merged while one of the n_split widest clusters is split; a round must
    gain at least min_gain (relative) to be followed by another. The n_refine best distinct
    partitions are polished on every row in float64 (Lloyd, then Hartigan moves, until no row
    moves). threads: default all available cores; the result does not depend on it.
    X (n, p); returns labels (n,) int64, centers (k, p) and the exact inertia (sum of squared
    distances of the rows to their centres, after a final assignment).
    """
    return fast_kmeans_range(X, [k], seed=seed, sample_size=sample_size, threads=threads, **options)[k]


def fast_kmeans_range(X: np.ndarray, ks, *, seed: int = 507, sample_size: int = 20_000, threads: int | None = None,
                      **options) -> dict[int, KMeansResult]:
    """fast_kmeans for every k in ks (e.g. range(1, 10) for a clustergram), sharing the sample.

    Each k also starts from the k-1 result with one of its widest clusters split. Arguments as
    fast_kmeans; returns {k: KMeansResult} in increasing k.
    """
    X = _check(X)
    ks = sorted({int(k) for k in ks})
    if not ks:
        raise ValueError("no k given")
    for k in ks:
        if not 1 <= k <= X.shape[0]:
            raise ValueError(f"k={k} must be between 1 and the {X.shape[0]} rows to cluster")
    opt = _options(threads, **options)
    rng = np.random.default_rng(seed)
    out: dict[int, KMeansResult] = {}
    # Parallel work is shared out by starts in threads; BLAS threads on top would fight them.
    with threadpool_limits(limits=1, user_api="blas"):
        rows = _Rows(X, sample_size, rng)
        for k in ks:
            if k == 1:
                out[k] = _finish(rows, X.mean(axis=0, keepdims=True)[None], np.zeros(1), opt)
                continue
            starts = rows.seeds(k, opt.n_init, rng, opt.workers)
            if k - 1 in out:
                starts = np.concatenate([starts, _grown(rows.sample, out[k - 1].centers, opt.n_split)])
            C, v = _search(rows, starts, opt, rng)
            out[k] = _finish(rows, C, v, opt)
    return out
