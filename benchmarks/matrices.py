"""Synthetic clustering matrices with the cluster structure of the 2021 OAC.

Rows are output areas, columns the 58 unified census variables, values in [0, 1] (float64).
When ``sample_data.census`` is available the matrix is its generated census passed through
the pipeline's own transform; otherwise (and for quick runs) rows are drawn around the 52
published OAC subgroup centres (a blend of two subgroups plus noise, so clusters overlap as
real OAs do).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import sample_data
from geodem_assets.transform import arcsinh_minmax

LIVERPOOL_ROWS = 5_258
UK_ROWS = 239_023
CENTROIDS = Path(sample_data.__file__).parent / "reference" / "oac2021_centroids.csv"
# The census file distributed for the workshop has no v40, v41.
ABSENT_VARIABLES = ("v40", "v41")


def subgroup_centres() -> np.ndarray:
    """The 52 OAC subgroup centres over the 58 census variables, shape (52, 58)."""
    table = pd.read_csv(CENTROIDS)
    if "level" not in table.columns:
        raise ValueError(f"{CENTROIDS.name}: no 'level' column")
    rows = table[table["level"] == "subgroup"]
    cols = [c for c in table.columns if c.startswith("v") and c not in ABSENT_VARIABLES]
    if rows.empty or len(cols) != 58:
        raise ValueError(
            f"{CENTROIDS.name}: expected subgroup rows over 58 variables, got {rows.shape[0]} x {len(cols)}"
        )
    return rows[cols].to_numpy(dtype=np.float64)


def centroid_matrix(n: int, *, seed: int = 0, noise: float = 0.07, blend: float = 0.35) -> np.ndarray:
    """n rows around the OAC subgroup centres, min-max scaled per column; shape (n, 58).

    Each row is (1 - t) * centre_a + t * centre_b + N(0, noise^2) with t ~ Beta(1, 1/blend - 1)
    capped at 0.5, subgroups drawn with uneven (Dirichlet) frequencies.
    """
    rng = np.random.default_rng(seed)
    centres = subgroup_centres()
    weights = rng.dirichlet(np.full(centres.shape[0], 1.5))
    a = rng.choice(centres.shape[0], size=n, p=weights)
    b = rng.choice(centres.shape[0], size=n, p=weights)
    t = np.minimum(rng.beta(1.0, 1.0 / blend - 1.0, size=n), 0.5)[:, None]
    x = (1.0 - t) * centres[a] + t * centres[b] + rng.normal(0.0, noise, size=(n, centres.shape[1]))
    x = np.clip(x, 0.0, None)
    lo, span = x.min(axis=0), np.ptp(x, axis=0)
    return (x - lo) / np.where(span > 0, span, 1.0)


def census_matrix(region: str | None, *, seed: int = 0) -> np.ndarray | None:
    """The transformed matrix of the generated sample census: one region (a regions.csv slug such
    as 'liverpool-city-region'), or the whole UK if None. None when no generator is installed.

    Uses the generator's in-memory census table, the content of its uk_census_data.parquet.
    """
    try:
        from sample_data.census import build_sample_census
    except ImportError:
        return None
    sample = (
        build_sample_census(uk=True, seed=seed)
        if region is None
        else build_sample_census([region], seed=seed)
    )
    raw = sample.variables
    # Constant columns are screened out by the pipeline before the transform.
    raw = raw.loc[:, raw.max() > raw.min()]
    return np.ascontiguousarray(arcsinh_minmax(raw).to_numpy(dtype=np.float64))


def benchmark_matrix(size: str, *, seed: int = 0, quick: bool = False) -> tuple[np.ndarray, str]:
    """The matrix for a benchmark size ('liverpool', 'uk' or 'tiny') and a line saying how it was made."""
    if size == "tiny":
        return centroid_matrix(600, seed=seed), "600 rows around the OAC subgroup centres (synthetic)"
    if size not in ("liverpool", "uk"):
        raise ValueError(f"unknown benchmark size {size!r}; use liverpool, uk or tiny")
    if not quick:
        matrix = census_matrix("liverpool-city-region" if size == "liverpool" else None, seed=seed)
        if matrix is not None:
            where = "Liverpool City Region" if size == "liverpool" else "all UK LADs"
            return (
                matrix,
                f"synthetic sample census of {where} (sample_data.census, seed {seed}), arcsinh + min-max",
            )
    n = LIVERPOOL_ROWS if size == "liverpool" else UK_ROWS
    if quick:
        n = min(n, 3_000)
    return centroid_matrix(n, seed=seed), f"{n:,} rows around the 52 OAC subgroup centres (synthetic)"
