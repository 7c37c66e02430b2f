"""The classification matrix: arcsinh then min-max per column, with variable screening."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class MatrixResult:
    matrix: pd.DataFrame  # OAs x kept variables, values in [0, 1]
    dropped_configured: list[str]
    dropped_zero_variance: list[str]
    variances: pd.Series  # per kept variable, of the transformed values
    high_correlations: list[tuple[str, str, float]]  # pairs with |r| > threshold


def arcsinh_minmax(values: pd.DataFrame) -> pd.DataFrame:
    """arcsinh(x) then (x - min) / (max - min) per column; a zero range maps to 0."""
    t = np.arcsinh(values.to_numpy(dtype=np.float64))
    lo = t.min(axis=0)
    span = t.max(axis=0) - lo
    safe = np.where(span > 0, span, 1.0)
    scaled = np.where(span > 0, (t - lo) / safe, 0.0)
    return pd.DataFrame(scaled, index=values.index, columns=values.columns)


def correlated_pairs(matrix: pd.DataFrame, threshold: float = 0.95) -> list[tuple[str, str, float]]:
    """Variable pairs whose absolute Pearson correlation exceeds threshold, strongest first."""
    if matrix.shape[1] < 2:
        return []
    corr = np.corrcoef(matrix.to_numpy(), rowvar=False)
    cols = list(matrix.columns)
    i, j = np.triu_indices(len(cols), k=1)
    r = corr[i, j]
    keep = np.abs(r) > threshold
    pairs = [(cols[a], cols[b], float(v)) for a, b, v in zip(i[keep], j[keep], r[keep])]
    return sorted(pairs, key=lambda p: -abs(p[2]))


def build_matrix(raw: pd.DataFrame, drop: tuple[str, ...] = (), corr_threshold: float = 0.95) -> MatrixResult:
    """Screen and transform raw census values (OAs x variables) into the clustering matrix."""
    unknown = [v for v in drop if v not in raw.columns]
    if unknown:
        raise ValueError(f"drop_variables names variables not in the census: {', '.join(unknown)}")
    kept = raw.drop(columns=list(drop))
    # A constant column carries no information and would be all zeros after scaling.
    spread = kept.max() - kept.min()
    zero_var = sorted(spread.index[spread <= 0])
    kept = kept.drop(columns=zero_var)
    if kept.shape[1] == 0:
        raise ValueError("no variables left after dropping configured and zero-variance variables")
    matrix = arcsinh_minmax(kept)
    return MatrixResult(
        matrix=matrix,
        dropped_configured=list(drop),
        dropped_zero_variance=zero_var,
        variances=matrix.var(ddof=1),
        high_correlations=correlated_pairs(matrix, corr_threshold),
    )
