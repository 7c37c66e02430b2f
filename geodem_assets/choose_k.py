"""A suggested number of clusters from the criteria the field uses, each shown, one vote each.

Five criteria read the k-means fits of a clustergram (k = 1..max_k) and each names its k:

- elbow: the knee of the inertia curve, the point farthest below the chord from its first to
  its last point once both axes are scaled to [0, 1] ("Kneedle", Satopää, Albrecht, Irwin and
  Raghavan 2011; yellowbrick's KElbowVisualizer locates elbows the same way). The OAC teams
  read the clustergram and the within-cluster distances for this bend (Vickers and Rees 2007;
  Gale, Singleton, Bates and Longley 2016; Wyszomierski et al. 2024 for OAC 2021).
- silhouette: the k of the highest mean silhouette (Rousseeuw 1987): scikit-learn's
  silhouette_score, on the same sample of rows for large n, computed for every k in one pass
  (`silhouettes`).
- calinski_harabasz: the k of the highest Calinski-Harabasz score (1974), scikit-learn.
- davies_bouldin: the k of the lowest Davies-Bouldin index (1979), scikit-learn.
- gap: the gap statistic (Tibshirani, Walther and Hastie 2001) with uniform references over the
  box aligned with the principal components (their method b) and the one-standard-error rule:
  the smallest k with Gap(k) >= Gap(k+1) - s(k+1). It abstains when no k below the largest
  satisfies the rule (the gap is still rising at max_k).

silhouette, calinski_harabasz and davies_bouldin are geosnap's `find_k` metrics; geosnap
reports each one's best k without combining them. Here each criterion has one vote; the k
with the most votes is suggested, a tie goes to the elbow's k when it is among the tied
(the OAC's own reading of the clustergram), else to the smallest tied k. Nested structure
pulls the criteria apart: on planted supergroups made of groups made of subgroups,
Calinski-Harabasz and the gap often follow the finer clusters, and the suggestion rests on the
others (tests/geodem/test_choose_k.py). On overlapping types no criterion is reliable, and
the table of every criterion on the asset page is worth more than the vote.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

CRITERIA = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap")
RULES = {
    "elbow": "knee of the inertia curve (farthest below the chord, Kneedle)",
    "silhouette": "highest mean silhouette",
    "calinski_harabasz": "highest Calinski-Harabasz score",
    "davies_bouldin": "lowest Davies-Bouldin index",
    "gap": "smallest k with Gap(k) >= Gap(k+1) - s(k+1) (Tibshirani et al. 2001)",
}
SCORE_SAMPLE = 10_000  # rows the silhouette is computed on, at most
GAP_SAMPLE = 2_000  # rows the gap statistic clusters (and each reference holds), at most
GAP_REFERENCES = 10  # uniform reference data sets
GAP_STARTS = 3  # k-means++ starts per fit of the gap statistic


@dataclass(frozen=True)
class Criterion:
    """One criterion: its value per k, the k it names (None: it abstains, `note` says why)."""

    name: str
    values: dict[int, float]
    best_k: int | None
    note: str | None = None
    errors: dict[int, float] | None = None  # the gap's standard error s(k)

    @property
    def rule(self) -> str:
        return RULES[self.name]


@dataclass(frozen=True)
class KSuggestion:
    """The suggested k, every criterion, the votes (k -> criteria) and why k was chosen."""

    k: int
    criteria: tuple[Criterion, ...]
    votes: dict[int, tuple[str, ...]]
    reason: str

    def criterion(self, name: str) -> Criterion:
        return next(c for c in self.criteria if c.name == name)


def kneedle_elbow(ks: list[int], inertia: list[float]) -> tuple[int | None, dict[int, float]]:
    """The knee of a decreasing inertia curve and each k's distance below the chord.

    Both axes scaled to [0, 1]; distance(k) = (1 - w(k)) - x(k), with x = (k - k_first) /
    (k_last - k_first) and w = (W - W_min) / (W_max - W_min); the knee maximises it (Satopää et
    al. 2011, for a convex decreasing curve). None when fewer than 3 k or a flat curve.
    """
    if len(ks) < 3:
        return None, {}
    k = np.asarray(ks, dtype=np.float64)
    w = np.asarray(inertia, dtype=np.float64)
    if w.max() - w.min() <= 0:
        return None, {int(i): 0.0 for i in ks}
    x = (k - k[0]) / (k[-1] - k[0])
    y = (w - w.min()) / (w.max() - w.min())
    distance = (1.0 - y) - x
    return int(ks[int(distance.argmax())]), {int(i): float(d) for i, d in zip(ks, distance)}


def gap_statistic(
    X: np.ndarray,
    ks: list[int],
    *,
    references: int = GAP_REFERENCES,
    sample: int = GAP_SAMPLE,
    starts: int = GAP_STARTS,
    seed: int = 507,
) -> tuple[dict[int, float], dict[int, float], int | None]:
    """Gap(k) and s(k) for each k, and the k of the one-standard-error rule (None: not reached).

    X (n, p); at most `sample` rows (drawn with `seed`) are clustered, and each of `references`
    uniform data sets over the box of their principal components has as many rows.
    W_k is the k-means inertia (scikit-learn KMeans, `starts` k-means++ starts, one thread);
    Gap(k) = mean(log W*_k) - log W_k, s(k) = sd(log W*_k) * sqrt(1 + 1/references).
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] > sample:
        X = X[np.sort(rng.choice(X.shape[0], size=sample, replace=False))]
    ks = [k for k in ks if k <= X.shape[0]]
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    projected = (X - mean) @ vt.T
    low, high = projected.min(axis=0), projected.max(axis=0)
    floor = 1e-12 * max(float(((X - mean) ** 2).sum()), 1e-300)

    def log_w(Y: np.ndarray, k: int) -> float:
        model = KMeans(n_clusters=k, n_init=starts, random_state=seed)  # pyright: ignore[reportArgumentType]
        inertia = float(model.fit(Y).inertia_)  # pyright: ignore[reportArgumentType]
        return float(np.log(max(inertia, floor)))

    # Several fits per k on small data: BLAS threads would only fight each other.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # repeated rows: fewer distinct clusters than k
        observed = np.array([log_w(X, k) for k in ks])
        reference = np.array(
            [
                [log_w(rng.uniform(low, high, size=projected.shape) @ vt + mean, k) for k in ks]
                for _ in range(references)
            ]
        )
    gap = reference.mean(axis=0) - observed
    se = reference.std(axis=0) * np.sqrt(1.0 + 1.0 / references)
    best = next((ks[i] for i in range(len(ks) - 1) if gap[i] >= gap[i + 1] - se[i + 1]), None)
    return (
        {k: float(g) for k, g in zip(ks, gap)},
        {k: float(s) for k, s in zip(ks, se)},
        best,
    )


def silhouettes(
    X: np.ndarray, labels: dict[int, np.ndarray], *, sample_size: int | None = None, seed: int = 507
) -> dict[int, float]:
    """The mean silhouette (Rousseeuw 1987) of every labelling, from one pass over the distances.

    X (n, p) finite; labels k -> (n,) cluster labels (any sortable values, no NaN), each with
    at least 2 and at most n - 1 distinct values among the rows scored; ValueError naming the
    k (or X) otherwise. With `sample_size` the
    rows scored are scikit-learn's sample for that size and `seed`
    (`RandomState(seed).permutation(n)[:sample_size]`), so each value equals
    `sklearn.metrics.silhouette_score(X, labels[k], sample_size=sample_size, random_state=seed)`
    to rounding; a point alone in its cluster scores 0, as there.

    scikit-learn computes the pairwise distances once per labelling; here each block of rows'
    Euclidean distances (the same expansion, ||x||² - 2 x·y + ||y||², clipped at 0) is
    multiplied once by the one-hot matrix of every labelling at once, so a clustergram's k = 2..9
    costs about one silhouette. Memory: a block of about 64 MB plus (rows scored) × (sum of k).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ValueError(f"silhouettes: X must be a 2-D array of finite numbers (shape {X.shape})")
    for k, y in labels.items():
        if np.shape(y) != (X.shape[0],):
            raise ValueError(f"silhouette of k = {k}: labels of shape {np.shape(y)} for {X.shape[0]} rows")
        if np.asarray(y).dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"silhouette of k = {k}: labels hold NaN")
    if sample_size is not None and sample_size < 2:
        raise ValueError(f"silhouettes: sample_size must be at least 2, got {sample_size}")
    rows = np.arange(X.shape[0])
    if sample_size is not None:
        rows = np.random.RandomState(seed).permutation(X.shape[0])[:sample_size]
    Xs = X[rows]
    m = len(Xs)
    ks = list(labels)
    codes, sizes, offsets = [], [], [0]
    for k in ks:
        uniq, inverse = np.unique(np.asarray(labels[k])[rows], return_inverse=True)
        if not 2 <= len(uniq) <= m - 1:
            raise ValueError(
                f"silhouette of k = {k}: {len(uniq)} distinct labels among {m} rows (needs 2 to {m - 1})"
            )
        codes.append(inverse)
        sizes.append(np.bincount(inverse).astype(np.float64))
        offsets.append(offsets[-1] + len(uniq))
    onehot = np.zeros((m, offsets[-1]))
    for inverse, start in zip(codes, offsets):
        onehot[np.arange(m), start + inverse] = 1.0
    sums = np.empty_like(onehot)  # distance of each row to every cluster of every labelling, summed
    norms = np.einsum("ij,ij->i", Xs, Xs)
    block = max(1, 8_000_000 // max(m, 1))
    for start in range(0, m, block):
        stop = min(start + block, m)
        d = Xs[start:stop] @ Xs.T
        d *= -2.0
        d += norms[start:stop, None]
        d += norms[None, :]
        np.maximum(d, 0.0, out=d)
        d[np.arange(stop - start), np.arange(start, stop)] = 0.0
        np.sqrt(d, out=d)
        sums[start:stop] = d @ onehot
    out = {}
    every = np.arange(m)
    for k, inverse, size, start, stop in zip(ks, codes, sizes, offsets, offsets[1:]):
        total = sums[:, start:stop]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = total[every, inverse] / (size[inverse] - 1.0)
            mean_to = total / size
            mean_to[every, inverse] = np.inf
            b = mean_to.min(axis=1)
            s = np.nan_to_num((b - a) / np.maximum(a, b))
        out[k] = float(s.mean())
    return out


def _best(values: dict[int, float], highest: bool) -> int | None:
    finite = {k: v for k, v in values.items() if np.isfinite(v)}
    if not finite:
        return None
    pick = max if highest else min
    return pick(finite, key=lambda k: (finite[k], -k) if highest else (finite[k], k))


def criteria(
    X: np.ndarray,
    labels: dict[int, np.ndarray],
    inertia: dict[int, float],
    *,
    seed: int = 507,
    score_sample: int = SCORE_SAMPLE,
    gap_references: int = GAP_REFERENCES,
    gap_sample: int = GAP_SAMPLE,
) -> tuple[Criterion, ...]:
    """The five criteria over the fitted k: X (n, p), labels k -> (n,) ints, inertia k -> W_k.

    silhouette, Calinski-Harabasz and Davies-Bouldin need 2 <= k < n and at least two labels
    used; a k without them has no value. Silhouette on `score_sample` rows at most.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    ks = sorted(labels)
    n = X.shape[0]
    ch, db = {}, {}
    for k in ks:
        used = len(np.unique(labels[k]))
        if k < 2 or used < 2 or used >= n:
            continue
        ch[k] = float(calinski_harabasz_score(X, labels[k]))
        db[k] = float(davies_bouldin_score(X, labels[k]))
    sample = score_sample if n > score_sample else None
    sil = silhouettes(X, {k: labels[k] for k in ch}, sample_size=sample, seed=seed) if ch else {}
    elbow_k, elbow_d = kneedle_elbow(ks, [inertia[k] for k in ks])
    out = [
        Criterion("elbow", elbow_d, elbow_k, None if elbow_k else "needs at least 3 k and a falling inertia"),
        Criterion("silhouette", sil, _best(sil, True), None if sil else "no k of 2 or more"),
        Criterion("calinski_harabasz", ch, _best(ch, True), None if ch else "no k of 2 or more"),
        Criterion("davies_bouldin", db, _best(db, False), None if db else "no k of 2 or more"),
    ]
    if len(ks) >= 2:
        gap, se, gap_k = gap_statistic(X, ks, references=gap_references, sample=gap_sample, seed=seed)
        note = None if gap_k else f"the gap is still rising at k = {ks[-1]}: no k below it passes the rule"
        out.append(Criterion("gap", gap, gap_k, note, errors=se))
    else:
        out.append(Criterion("gap", {}, None, "needs at least 2 k"))
    return tuple(out)


def vote(found: tuple[Criterion, ...], ks: list[int], minimum: int = 2) -> KSuggestion:
    """The k most criteria name (see the module docstring for ties), at least `minimum` when
    ks reaches it. found: from `criteria`; ks: the k fitted (the suggestion is one of them)."""
    votes: dict[int, list[str]] = {}
    for c in found:
        if c.best_k is not None:
            votes.setdefault(c.best_k, []).append(c.name)
    floor = min(minimum, ks[-1])
    if not votes:
        k = max(floor, ks[0])
        return KSuggestion(k, found, {}, f"no criterion could name a k; the smallest k allowed, {k}")
    counts = Counter({k: len(v) for k, v in votes.items()})
    top = max(counts.values())
    tied = sorted(k for k, n in counts.items() if n == top)
    elbow = next((c.best_k for c in found if c.name == "elbow"), None)
    k = elbow if len(tied) > 1 and elbow in tied else tied[0]
    voters = ", ".join(votes[k])
    cast = sum(counts.values())
    if len(tied) == 1:
        reason = f"k = {k}: named by {voters} ({top} of the {cast} criteria that named a k)"
    else:
        others = "; ".join(f"k = {t}: {', '.join(votes[t])}" for t in tied if t != k)
        why = "the elbow's k among them" if k == elbow else "the smallest of them"
        reason = f"k = {k}: named by {voters}, tied with {others}; the tie goes to {why}"
    if k < floor:
        reason += f"; raised to {floor}, the fewest clusters a level is split into"
        k = floor
    frozen = {kk: tuple(v) for kk, v in sorted(votes.items())}
    return KSuggestion(k, found, frozen, reason)


SCORE_COLUMNS = {
    "k": "number of clusters",
    "inertia": "k-means inertia: within-cluster sum of squares (matrix units)",
    "elbow_distance": "distance below the chord of the scaled inertia curve (the elbow maximises it)",
    "silhouette": "mean silhouette (higher is better)",
    "calinski_harabasz": "Calinski-Harabasz score (higher is better)",
    "davies_bouldin": "Davies-Bouldin index (lower is better)",
    "gap": "gap statistic Gap(k)",
    "gap_se": "standard error s(k) of the gap",
}
CRITERIA_COLUMNS = {
    "criterion": "how a k is read from the clustergram",
    "k": "the k it names (empty: it abstains)",
    "rule": "what it maximises or minimises",
    "voted_with_suggestion": "true when it named the suggested k",
    "note": "why it abstains",
}


def scores_table(inertia: dict[int, float], suggestion: KSuggestion) -> pd.DataFrame:
    """One row per fitted k: the columns of SCORE_COLUMNS (NaN where a criterion has no value)."""
    ks = sorted(inertia)
    gap = suggestion.criterion("gap")
    out = pd.DataFrame({"k": ks, "inertia": [inertia[k] for k in ks]})
    for column, name in (
        ("elbow_distance", "elbow"),
        ("silhouette", "silhouette"),
        ("calinski_harabasz", "calinski_harabasz"),
        ("davies_bouldin", "davies_bouldin"),
        ("gap", "gap"),
    ):
        values = suggestion.criterion(name).values
        out[column] = [values.get(k, np.nan) for k in ks]
    out["gap_se"] = [(gap.errors or {}).get(k, np.nan) for k in ks]
    return out


def criteria_table(suggestion: KSuggestion) -> pd.DataFrame:
    """One row per criterion: the columns of CRITERIA_COLUMNS."""
    return pd.DataFrame(
        {
            "criterion": [c.name for c in suggestion.criteria],
            "k": pd.array([c.best_k for c in suggestion.criteria], dtype="Int64"),
            "rule": [c.rule for c in suggestion.criteria],
            "voted_with_suggestion": [c.best_k == suggestion.k for c in suggestion.criteria],
            "note": [c.note or "" for c in suggestion.criteria],
        }
    )
