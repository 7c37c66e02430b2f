"""How well each Output Area fits its cluster: distance to its centre, the runner-up cluster and
a silhouette-style margin, at one level of the classification.

The margin is the simplified silhouette of Hruschka, Campello and de Castro (2004, "Evolutionary
algorithms for clustering gene-expression data", ICDM; Vendramin, Campello and Hruschka 2010
compare it with the full silhouette): with a = Euclidean distance of the OA to its own cluster's
centre and b = distance to the nearest centre of any other cluster of the level,

    s = (b - a) / max(a, b)

in [-1, 1]; 1 = at its own centre, 0 = halfway between two centres, below 0 = nearer another
cluster's centre than its own. It is the sign convention of scikit-learn's silhouette_samples
(geosnap's per-unit silhouettes), so higher is better; the "margin" (a - b) / max(a, b) is -s.
It replaces the mean distance to the members of a cluster by the distance to its centre, so
it costs n x k distances rather than n x n.

An OA "fits poorly" when its squared distance to its own centre is above the level's 95th
percentile, as the ONS published each OA's distance to its OAC 2011 cluster centre to show
where the classification describes an area badly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

POOR_FIT_QUANTILE = 0.95
FIT_COLUMNS = ("distance2", "second", "second_distance2", "silhouette", "poor_fit")
FIT_DESCRIPTIONS = {
    "distance2": "squared Euclidean distance of the OA to its cluster's centre (matrix units, 0-1 scaled variables)",
    "second": "the nearest other cluster of the level (the runner-up)",
    "second_distance2": "squared distance to the runner-up's centre",
    "silhouette": "simplified silhouette (b - a) / max(a, b), a and b the distances to the own and runner-up centres; higher fits better",
    "poor_fit": "squared distance to the own centre above the level's 95th percentile",
}

_CHUNK_ROWS = 65_536  # rows x clusters distances held at once: 65,536 x 52 float64 = 27 MB


def oa_fit(
    X: np.ndarray,
    codes: np.ndarray,
    centres: dict[str, np.ndarray],
    *,
    quantile: float = POOR_FIT_QUANTILE,
) -> pd.DataFrame:
    """Per row of X (n, p): its fit to the cluster `codes[i]` among the level's `centres`.

    centres: every cluster of the level, code -> centre (p,), in the units of X (a subgroup's
    centre is the mean of its members, whatever its supergroup, so the subgroups of a region
    form one flat partition here). Returns n rows in the order of X, columns FIT_COLUMNS:
    distance2 (float), second (code, None when the level has one cluster), second_distance2
    and silhouette (float, NaN then), poor_fit (bool: distance2 above the `quantile` of the
    level's distance2). Raises ValueError naming a code without a centre, a centre of the
    wrong length, or a quantile outside (0, 1).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    codes = np.asarray(codes).astype(str)
    if X.ndim != 2 or X.shape[0] != codes.shape[0]:
        raise ValueError(f"X has shape {X.shape} but {codes.shape[0]} codes were given")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    names = sorted(centres)
    missing = sorted(set(codes) - set(names))
    if missing:
        raise ValueError(f"clusters without a centre: {', '.join(missing)}")
    C = np.array([np.asarray(centres[c], dtype=np.float64) for c in names]).reshape(len(names), -1)
    if C.shape[1] != X.shape[1]:
        raise ValueError(f"centres have {C.shape[1]} variables, X has {X.shape[1]}")
    own = np.searchsorted(np.array(names), codes)
    distance2 = ((X - C[own]) ** 2).sum(axis=1)
    second = np.full(X.shape[0], -1, dtype=np.int64)
    second_d2 = np.full(X.shape[0], np.nan)
    if len(names) > 1:
        cnorm = np.einsum("ij,ij->i", C, C)
        for start in range(0, X.shape[0], _CHUNK_ROWS):
            block = X[start : start + _CHUNK_ROWS]
            d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * block @ C.T + cnorm[None, :]
            np.maximum(d2, 0.0, out=d2)
            rows = np.arange(block.shape[0])
            d2[rows, own[start : start + len(block)]] = np.inf
            nearest = d2.argmin(axis=1)
            second[start : start + len(block)] = nearest
            # The expansion above loses digits when x is near a centre; the runner-up's exact distance.
            second_d2[start : start + len(block)] = ((block - C[nearest]) ** 2).sum(axis=1)
    a, b = np.sqrt(distance2), np.sqrt(second_d2)
    top = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        silhouette = np.where(top > 0, (b - a) / top, 0.0)
    silhouette[np.isnan(b)] = np.nan
    threshold = poor_fit_threshold(distance2, quantile)
    return pd.DataFrame(
        {
            "distance2": distance2,
            "second": pd.Series(np.array(names, dtype=object)[second], dtype=object).where(second >= 0, None),
            "second_distance2": second_d2,
            "silhouette": silhouette,
            "poor_fit": distance2 > threshold,
        }
    )


def poor_fit_threshold(distance2: np.ndarray, quantile: float = POOR_FIT_QUANTILE) -> float:
    """The squared distance above which an OA of the level fits poorly (its `quantile`)."""
    return float(np.quantile(np.asarray(distance2, dtype=np.float64), quantile))


def worst_fitting(fit: pd.DataFrame, oas: ArrayLike, cluster_codes: ArrayLike, n: int = 10) -> pd.DataFrame:
    """The n OAs farthest from their centre: OA, cluster, distance2, second, silhouette."""
    table = fit.assign(OA=np.asarray(oas), cluster=np.asarray(cluster_codes))
    worst = table.sort_values("distance2", ascending=False, kind="stable").head(n)
    return worst[["OA", "cluster", "distance2", "second", "silhouette"]].reset_index(drop=True)
