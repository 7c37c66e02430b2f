"""Fast multi-start k-means: k-means++ starts, a local search out of poor local optima, and a
final polish of the best partitions on every row (Lloyd, then Hartigan single-row moves).

The search runs in float32 on a sample of rows (all rows up to 20,000), many starts per BLAS
call and shared between threads; the polish and the reported inertia are float64 on all rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from geodem_assets.distinct import TooFewDistinctRows, check_distinct, count_distinct_rows
from geodem_assets.kmeans.lloyd import (
    KMeansResult,
    descend,
    exact_assignment,
    hartigan_refine,
    nonempty,
    parallel_map,
    polish,
    start_chunks,
)
from geodem_assets.kmeans.starts import grown, plusplus, relocations, swaps, trims

__all__ = [
    "KMeansResult",
    "TooFewDistinctRows",
    "count_distinct_rows",
    "exact_assignment",
    "fast_kmeans",
    "fast_kmeans_range",
    "nonempty",
]


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

    def seeds(
        self, k: int, starts: int, rng: np.random.Generator, workers: int, pool_size: int = 4096
    ) -> np.ndarray:
        """k-means++ starts (starts, k, p) drawn from at most pool_size sample rows."""
        m = self.sample.shape[0]
        pool = (
            self.sample[np.sort(rng.choice(m, size=pool_size, replace=False))]
            if m > pool_size
            else self.sample
        )
        trials = 2 + int(np.log(k))
        first, u = rng.integers(pool.shape[0], size=starts), rng.random((starts, k, trials))
        parts = start_chunks(starts)
        pool32 = pool.astype(np.float32)
        return pool[
            np.concatenate(parallel_map(lambda part: plusplus(pool32, first[part], u[part]), parts, workers))
        ]


class _Options(NamedTuple):
    n_init: int = 18  # k-means++ starts
    swap_rounds: int = 3  # local-search rounds at most
    n_merge: int = 2  # closest cluster pairs tried for merging in a round
    n_split: int = 2  # widest clusters tried for splitting in a round
    n_relocate: int = 6  # random centre relocations tried in a round
    n_refine: int = 3  # distinct partitions polished on every row
    relax: float = 1.5  # over-relaxation of Lloyd's centre step, in [1, 2)
    min_gain: float = 1e-5  # relative gain below which the local search stops
    max_iter: int = 300  # Lloyd iterations per descent at most
    workers: int = 1  # threads
    small_rows: int = 4096  # data this small get more starts and screen more optima exactly
    start_budget: int = 300_000  # rows x centres per Lloyd step small data spend on starts, at most
    screen_budget: int = 150_000  # rows x centres small data spend on Hartigan screening per k


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


def _starts(opt: _Options, m: int, k: int) -> int:
    """n_init, or up to 8 times more on small data, where a start costs little beside the fixed
    overheads of a call and the landscape has many near-equal optima."""
    if m > opt.small_rows:
        return opt.n_init
    return max(opt.n_init, min(8 * opt.n_init, opt.start_budget // (m * k)))


def _search(
    rows: _Rows, starts: np.ndarray, opt: _Options, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd from the starts, then local search from the best partition while it improves.

    Each round descends from neighbours of the best partition so far (merge-and-split swaps,
    trimmed centres, relocated centres) and keeps the best result. starts (S, k, p).
    Returns every local optimum reached: centres (S', k, p), sums of squares on the sample (S',).
    """
    C, v = descend(rows.Y, rows.ynorm, starts, max_iter=opt.max_iter, relax=opt.relax, workers=opt.workers)
    found_C, found_v = [C], [v]
    best = int(v.argmin())
    current, value = C[best], v[best]
    for _ in range(opt.swap_rounds):
        labels, _ = exact_assignment(rows.sample, current)
        dist = ((rows.sample - current[labels]) ** 2).sum(axis=1)
        candidates = np.concatenate(
            [
                swaps(rows.sample, current, labels, opt.n_merge, opt.n_split),
                trims(rows.sample, current, labels, dist),
                relocations(rows.sample, current, dist, opt.n_relocate, rng),
            ]
        )
        if candidates.shape[0] == 0:
            break
        C, v = descend(
            rows.Y, rows.ynorm, candidates, max_iter=opt.max_iter, relax=opt.relax, workers=opt.workers
        )
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
    keys: set[bytes] = set()
    for s in np.argsort(inertia, kind="stable"):
        key = np.round(C[s][np.lexsort(C[s].T[::-1])], 6).tobytes()
        if key in keys:
            continue
        chosen.append(int(s))
        keys.add(key)
        if len(chosen) == keep:
            break
    return chosen


def _finish(rows: _Rows, C: np.ndarray, v: np.ndarray, opt: _Options) -> KMeansResult:
    """Polish the best distinct partitions on every row; the one with the lowest exact inertia."""
    if C.shape[1] == 1:
        return polish(rows.X, rows.xnorm, rows.X.mean(axis=0, keepdims=True), opt.max_iter)
    # Without a sample the search already ranked on every row; polishing fewer costs less.
    keep = opt.n_refine if rows.sampled else max(1, opt.n_refine - 1)
    n = rows.X.shape[0]
    screen = opt.screen_budget // (n * C.shape[1]) if n <= opt.small_rows else 0
    chosen = _distinct(C, v, max(keep, screen))
    full32 = rows.full32()
    fits = parallel_map(
        lambda s: polish(rows.X, rows.xnorm, C[s], opt.max_iter, opt.relax, full32),
        chosen[:keep],
        opt.workers,
    )
    # Small data: Hartigan moves from more of the optima, whose order the float32 sums of
    # squares of Lloyd optima do not predict.
    screened = [hartigan_refine(rows.X, C[s], opt.max_iter) for s in chosen[keep:]]
    best = min(fits + screened, key=lambda f: f.inertia)
    if any(best is f for f in screened):
        best = polish(rows.X, rows.xnorm, best.centers, opt.max_iter)
    return best


def fast_kmeans(
    X: np.ndarray,
    k: int,
    *,
    seed: int = 507,
    sample_size: int = 20_000,
    threads: int | None = None,
    **options,
) -> KMeansResult:
    """The lowest-inertia k-means partition found; deterministic for a seed.

    n_init k-means++ starts (default 18) run Lloyd, over-relaxed, on a sample of sample_size rows
    (all rows if fewer). Up to swap_rounds local-search rounds (default 3) then descend from
    neighbours of the best partition so far: each centre pulled to the mean of its nearer half
    of rows, n_relocate centres moved to rows drawn by squared error, and each of the n_merge
    closest cluster pairs merged while one of the n_split widest clusters is split; a round must
    gain at least min_gain (relative) to be followed by another. The n_refine best distinct
    partitions are polished on every row in float64 (Lloyd, then Hartigan moves, until no row
    moves). Data of at most small_rows rows (default 4,096) get up to 8 x n_init starts (at most
    start_budget rows x centres per step) and Hartigan moves from up to screen_budget / (n k) of
    the best distinct optima, since there the float32 ranking of Lloyd optima does not predict
    which leads to the best Hartigan optimum (Telgarsky and Vattani 2010).
    threads: default all available cores; the result does not depend on it.
    X (n, p); returns labels (n,) int64, centers (k, p) and the exact inertia (sum of squared
    distances of the rows to their centres, after a final assignment). Every cluster has at least
    one row; TooFewDistinctRows (a ValueError) when X has fewer than k distinct rows.
    """
    return fast_kmeans_range(X, [k], seed=seed, sample_size=sample_size, threads=threads, **options)[k]


def fast_kmeans_range(
    X: np.ndarray,
    ks: Iterable[int],
    *,
    seed: int = 507,
    sample_size: int = 20_000,
    threads: int | None = None,
    **options,
) -> dict[int, KMeansResult]:
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
    check_distinct(X, ks[-1])
    rng = np.random.default_rng(seed)
    out: dict[int, KMeansResult] = {}
    # Parallel work is shared out by starts in threads; BLAS threads on top would fight them.
    with threadpool_limits(limits=1, user_api="blas"):
        rows = _Rows(X, sample_size, rng)
        for k in ks:
            if k == 1:
                out[k] = _finish(rows, X.mean(axis=0, keepdims=True)[None], np.zeros(1), opt)
                continue
            starts = rows.seeds(k, _starts(opt, rows.sample.shape[0], k), rng, opt.workers)
            if k - 1 in out:
                starts = np.concatenate([starts, grown(rows.sample, out[k - 1].centers, opt.n_split)])
            C, v = _search(rows, starts, opt, rng)
            out[k] = _finish(rows, C, v, opt)
    return out
