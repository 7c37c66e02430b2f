"""k-means supergroups and subgroups, clustergram fits, a suggested k and stable letters."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from geodem_assets import choose_k, tiers
from geodem_assets.choose_k import KSuggestion
from geodem_assets.distinct import TooFewDistinctRows as TooFewDistinctRows  # raised here, caught by assets
from geodem_assets.distinct import check_distinct, count_distinct_rows

if TYPE_CHECKING:
    from geodem_assets.kmeans import KMeansResult

LETTERS = string.ascii_uppercase


@dataclass
class KMeansFit:
    labels: np.ndarray  # (n,) int, 0..k-1
    centers: np.ndarray  # (k, p)
    inertia: float  # total within-cluster sum of squares

    @property
    def k(self) -> int:
        return self.centers.shape[0]


METHODS = ("fast", "reference")
# Starts per fit when none are configured: the fast search's k-means++ starts (it then searches
# locally from the best), or the reference workflow's random starts for its final fit.
DEFAULT_STARTS = {"fast": 18, "reference": 1000}


def _method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown k-means method {method!r}: use one of {', '.join(METHODS)}")
    return method


# What a clustering asset does when a level has fewer distinct rows than the k asked for.
ON_TOO_FEW_DISTINCT = ("fail", "lower_k")


def _sklearn_fit(X: np.ndarray, k: int, n_init: int, seed: int, init: str) -> KMeansFit:
    """scikit-learn's KMeans, as the reference workflow calls it; an empty cluster (scikit-learn
    can end with one on repeated rows) is filled from the farthest row, then Hartigan moves."""
    from sklearn.cluster import KMeans  # deferred: the UI loads this module often

    # scikit-learn has no type stubs; its n_init default "auto" makes pyright read the parameter as str.
    model = KMeans(
        n_clusters=k,
        init=init,
        n_init=n_init,  # pyright: ignore[reportArgumentType]
        random_state=seed,
        algorithm="lloyd",
    ).fit(X)
    labels = np.asarray(model.labels_, dtype=np.int64)
    if np.bincount(labels, minlength=k).min() == 0:
        from geodem_assets.kmeans import nonempty

        return _from_fast(nonempty(X, labels, model.cluster_centers_))
    return KMeansFit(labels=labels, centers=model.cluster_centers_, inertia=float(np.asarray(model.inertia_)))


def _from_fast(fit: KMeansResult) -> KMeansFit:
    return KMeansFit(labels=fit.labels, centers=fit.centers, inertia=fit.inertia)


def kmeans(
    X: np.ndarray, k: int, *, n_init: int | None = None, seed: int = 507, method: str = "fast"
) -> KMeansFit:
    """The lowest-inertia k-means partition of X (n, p) found; deterministic for a seed.

    method "fast": geodem_assets.kmeans.fast_kmeans (k-means++ starts, local search, polish on
    every row); "reference": the reference workflow's call, scikit-learn
    KMeans(init="random", n_init=n_init), kept to reproduce published figures exactly.
    Every cluster has at least one row; TooFewDistinctRows (a ValueError) when X has fewer than
    k distinct rows.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    if k > X.shape[0]:
        raise ValueError(f"k={k} is larger than the {X.shape[0]} rows to cluster")
    check_distinct(X, k)
    starts = n_init or DEFAULT_STARTS[_method(method)]
    if method == "fast":
        from geodem_assets.kmeans import fast_kmeans  # deferred: numba compiles on first import

        return _from_fast(fast_kmeans(X, k, seed=seed, n_init=starts))
    return _sklearn_fit(X, k, starts, seed, init="random")


def kmeans_range(
    X: np.ndarray, ks: list[int], *, n_init: int | None = None, seed: int = 507, method: str = "fast"
) -> dict[int, KMeansFit]:
    """kmeans for every k in ks; the fast method shares its sample and grows each k from k-1.

    TooFewDistinctRows when X has fewer distinct rows than the largest k."""
    if _method(method) == "reference":
        # The clustergram package's call: k-means++ starts (scikit-learn's default init), n_init per k.
        X = np.ascontiguousarray(X, dtype=np.float64)
        check_distinct(X, max(ks))
        return {k: _sklearn_fit(X, k, n_init or 100, seed, init="k-means++") for k in ks}
    from geodem_assets.kmeans import fast_kmeans_range

    fits = fast_kmeans_range(X, ks, seed=seed, n_init=n_init or DEFAULT_STARTS["fast"])
    return {k: _from_fast(f) for k, f in fits.items()}


def relabel(fit: KMeansFit, order: np.ndarray) -> KMeansFit:
    """Renumber clusters so that new label i is old cluster order[i]."""
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return KMeansFit(labels=inverse[fit.labels], centers=fit.centers[order], inertia=fit.inertia)


def canonical_order(fit: KMeansFit) -> np.ndarray:
    """Largest cluster first; ties broken by centroid, so letters do not depend on the seed."""
    sizes = np.bincount(fit.labels, minlength=fit.k)
    keys = [(-sizes[c], tuple(np.round(fit.centers[c], 9))) for c in range(fit.k)]
    return np.array(sorted(range(fit.k), key=lambda c: keys[c]))


def match_previous(centers: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Order of new clusters that keeps each previous letter on its nearest new centroid.

    centers (k, p) and previous (k0, p) over the same variables. New clusters without a
    previous partner (k > k0) follow in canonical order of their position.
    """
    from scipy.optimize import linear_sum_assignment

    cost = ((centers[:, None, :] - previous[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    by_prev = dict(zip(cols, rows))
    order = [by_prev[j] for j in range(previous.shape[0]) if j in by_prev]
    order += [i for i in range(centers.shape[0]) if i not in order]
    return np.array(order)


def supergroup_codes(labels: np.ndarray) -> np.ndarray:
    """0 -> 'A', 1 -> 'B', ..."""
    return np.array(list(LETTERS))[labels]


@dataclass
class ClustergramFits:
    fits: dict[int, KMeansFit]
    suggestion: KSuggestion  # every criterion, its k and the vote
    skipped: list[int] = field(default_factory=list)  # k asked but above the distinct rows
    distinct_rows: int | None = None  # counted up to the largest k asked

    @property
    def suggested_k(self) -> int:
        return self.suggestion.k

    @property
    def silhouette(self) -> dict[int, float]:
        return self.suggestion.criterion("silhouette").values

    @property
    def calinski_harabasz(self) -> dict[int, float]:
        return self.suggestion.criterion("calinski_harabasz").values

    @property
    def note(self) -> str | None:
        """Why some k are missing, for the asset page; None when every k was fitted."""
        if not self.skipped:
            return None
        return (
            f"k = {', '.join(map(str, self.skipped))} skipped: the matrix has only "
            f"{self.distinct_rows} distinct rows, so k-means with more clusters would leave some empty"
        )


def clustergram_fits(
    X: np.ndarray,
    ks: Iterable[int] = range(1, 10),
    *,
    n_init: int | None = None,
    seed: int = 507,
    method: str = "fast",
    score_sample: int = choose_k.SCORE_SAMPLE,
    gap_references: int = choose_k.GAP_REFERENCES,
) -> ClustergramFits:
    """k-means for each k and a suggested k from five criteria (geodem_assets.choose_k):
    the inertia's elbow, silhouette (on at most score_sample rows), Calinski-Harabasz,
    Davies-Bouldin and the gap statistic (gap_references uniform references), one vote each.

    A k above the number of distinct rows of X (n, p) cannot give k non-empty clusters: it is
    skipped and listed in `skipped` (with `note` saying why), rather than refused, so that the
    clustergram still shows the k that can be fitted. Raises ValueError when no k remains.
    """
    ks = [k for k in ks if k <= X.shape[0]]
    distinct = count_distinct_rows(X, at_most=max(ks)) if ks else 0
    skipped = [k for k in ks if k > distinct]
    ks = [k for k in ks if k <= distinct]
    if not ks:
        raise ValueError(f"clustergram: no k to fit on a matrix of {X.shape[0]} rows")
    fits = kmeans_range(X, ks, n_init=n_init, seed=seed, method=method)
    found = choose_k.criteria(
        np.asarray(X, dtype=np.float64),
        {k: f.labels for k, f in fits.items()},
        {k: f.inertia for k, f in fits.items()},
        seed=seed,
        score_sample=score_sample,
        gap_references=gap_references,
    )
    return ClustergramFits(
        fits=fits,
        suggestion=choose_k.vote(found, ks),
        skipped=skipped,
        distinct_rows=distinct,
    )


@dataclass
class LevelFit:
    """One level's k-means (supergroups, or the subgroups of one supergroup) and the k asked."""

    fit: KMeansFit
    k_asked: int
    distinct_rows: int | None = None  # set when k was lowered to it

    @property
    def note(self) -> str | None:
        if self.fit.k == self.k_asked:
            return None
        return f"k lowered from {self.k_asked} to {self.fit.k}: only {self.distinct_rows} distinct rows"


def fit_level(
    X: np.ndarray,
    k: int,
    level: str,
    *,
    on_too_few_distinct: str = "fail",
    n_init: int | None = None,
    seed: int = 507,
    method: str = "fast",
) -> LevelFit:
    """kmeans(X, k) for one level of the classification, named `level` in errors.

    When X (n, p) has fewer distinct rows than k: on_too_few_distinct "fail" raises
    TooFewDistinctRows naming the level, k and the distinct rows; "lower_k" fits k = the number
    of distinct rows instead (the LevelFit says so). Never returns an empty cluster.
    """
    if on_too_few_distinct not in ON_TOO_FEW_DISTINCT:
        raise ValueError(
            f"on_too_few_distinct must be one of {', '.join(ON_TOO_FEW_DISTINCT)}, got {on_too_few_distinct!r}"
        )
    found = count_distinct_rows(X, at_most=k)
    if found >= k:
        return LevelFit(kmeans(X, k, n_init=n_init, seed=seed, method=method), k)
    if on_too_few_distinct == "fail":
        raise TooFewDistinctRows(k, count_distinct_rows(X), X.shape[0], level)
    return LevelFit(kmeans(X, found, n_init=n_init, seed=seed, method=method), k, found)


def subgroup_fits(
    X: np.ndarray,
    supergroups: np.ndarray,
    counts: dict[str, int],
    *,
    n_init: int | None = None,
    seed: int = 507,
    method: str = "fast",
    on_too_few_distinct: str = "fail",
    child_level: str = "subgroup",
) -> dict[str, LevelFit]:
    """Per parent code, k-means of its rows with counts[code] clusters, canonically ordered.

    supergroups: the parent code of each row of X (a supergroup, or at depth 3 a group for the
    subgroups); child_level names the children in errors. ValueError when a parent has fewer
    OAs than its count; fewer distinct rows than its count: see fit_level (the level is named
    "<child_level>s of <parent level> <code>", e.g. "subgroups of supergroup A").
    """
    out = {}
    for code, k in counts.items():
        rows = X[supergroups == code]
        parent = "supergroup" if tiers.code_depth(code) == 1 else "group"
        if k > rows.shape[0]:
            raise ValueError(
                f"{parent} {code} has {rows.shape[0]} OAs, fewer than the {k} {child_level}s asked for"
            )
        level = fit_level(
            rows,
            k,
            f"{child_level}s of {parent} {code}",
            on_too_few_distinct=on_too_few_distinct,
            n_init=n_init,
            seed=seed,
            method=method,
        )
        level.fit = relabel(level.fit, canonical_order(level.fit))
        out[code] = level
    return out
