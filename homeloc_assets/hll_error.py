"""The standard error of a postgresql-hll cardinality, and how sure a home is to be ahead.

Standard error of one estimate n̂ with m = 2**log2m registers (resources/hll/estimator.py
switches on the same threshold):

- n̂ < 5m/2, the small-range correction (linear counting, n̂ = m ln(m/V), V empty registers):
  Var(n̂) = m (e^t - t - 1) with t = n/m (Whang, Vander-Zanden & Taylor 1990, "A linear-time
  probabilistic counting algorithm for database applications", ACM TODS 15(2), eq. 6). For
  n << m this is n / sqrt(2m): about 1.6 % at log2m = 11, set by the chance that two days
  share a register (n²/2m expected colliding pairs).
- otherwise the HyperLogLog estimate: 1.04 n / sqrt(m) (Flajolet, Fusy, Gandouet & Meunier
  2007), ≈ 2.3 % at log2m = 11.

The true n is unknown; the estimate is put in its place (the error of that is second order).

Difference of two estimates. The home's and the runner-up's user-days are two sketches of
the same user. When the sets of days are disjoint their errors come from disjoint sets of
register collisions and are treated as independent: σ_d² = se(h)² + se(r)². When a day was
spent in both countries, it sets the same register in both sketches, so collisions among
shared days move both estimates the same way: Cov > 0 and the true σ_d is smaller. Ignoring
the covariance overstates σ_d, which only pulls ``confidence`` towards 0.5 and widens the
tie band: conservative (tests/homeloc/test_confidence_calibration.py measures both cases).
The covariance is not estimated because the per-country cardinalities do not tell how many
days two countries share (that needs the cardinality of their union, per user and pair).

Confidence that the home is really ahead. True user-day counts are whole numbers, so "ahead"
means true home - true runner-up >= 1. With d = ĥ - r̂ ≈ N(D, σ_d²) and a flat prior on the
whole number D, P(D >= 1 | d) ≈ Φ((d - 1/2) / σ_d) (the 1/2 is the continuity correction
between the integers 0 and 1). ``confidence`` is that probability; it is calibrated under a
flat prior on D and conservative (too low) when days are shared, and it compares the home
with the runner-up only (a third country close behind makes the true chance lower).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

HLL_RSE_CONSTANT = 1.04  # Flajolet et al. 2007: RSE = 1.04 / sqrt(m)
CONTINUITY = 0.5


def cardinality_se(estimate: ArrayLike, log2m: int) -> np.ndarray:
    """Standard error (user-days, float64, shape of ``estimate``) of HLL cardinalities
    ``estimate`` (float, >= 0) with 2**log2m registers; 0 for an estimate of 0. ValueError
    for a negative or non-finite estimate or log2m outside 4..31."""
    if not 4 <= int(log2m) <= 31:
        raise ValueError(f"log2m must be between 4 and 31, got {log2m!r}")
    n = np.asarray(estimate, dtype=np.float64)
    if not np.isfinite(n).all() or (n < 0).any():
        raise ValueError("cardinality estimates must be finite and >= 0")
    m = float(1 << int(log2m))
    t = n / m
    # e^t - t - 1 through expm1, exact for the small t of a few user-days.
    linear = np.sqrt(m * np.maximum(np.expm1(t) - t, 0.0))
    return np.where(n < 2.5 * m, linear, HLL_RSE_CONSTANT * n / math.sqrt(m))


def difference_se(first: ArrayLike, second: ArrayLike, log2m: int) -> np.ndarray:
    """σ of ``first - second`` for two estimates taken as independent (see module docstring)."""
    return np.hypot(cardinality_se(first, log2m), cardinality_se(second, log2m))


def confidence_ahead(home: ArrayLike, runner_up: ArrayLike, log2m: int) -> np.ndarray:
    """P(true home user-days > true runner-up user-days) given the two estimates: Φ((d - ½)/σ_d),
    in [0, 1], float64. With σ_d = 0 (both estimates 0) it is 1 if d >= ½, else 0."""
    home = np.asarray(home, dtype=np.float64)
    runner_up = np.asarray(runner_up, dtype=np.float64)
    sd = difference_se(home, runner_up, log2m)
    gap = home - runner_up - CONTINUITY
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, gap / np.where(sd > 0, sd, 1.0), np.where(gap >= 0, np.inf, -np.inf))
    return ndtr(z)
