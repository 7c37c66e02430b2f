"""HyperLogLog cardinality exactly as postgresql-hll's multiset_card computes it, bit for bit.

For m = 2**log2m registers with values r_j:
  sum = Σ_j 1 / 2**r_j                 (a sequential double sum over j = 0 … m-1)
  E   = alpha_m * m * m / sum          (alpha_m: 0.673, 0.697, 0.709 for m = 16, 32, 64,
                                        else 0.7213 / (1 + 1.079 / m); m ≤ 8 is an error)
  V   = number of zero registers
  if V > 0 and E < 5m/2:  m * log(m / V)                 (small-range correction)
  elif E ≤ 2**L / 30:      E
  else:                    -2**L * log(1 - E / 2**L)       (large-range correction)
with L = (2**regwidth - 2) + log2m. The C code computes 2**L and 2**r with 64-bit shifts,
which x86-64 takes modulo 64: for regwidth ≥ 6, 2**L wraps to a small number and large sets
get NaN. That is what PostgreSQL returns, so it is reproduced here.

Logarithms go through `math.log` (the C library's log, as in the server), never np.log,
whose SIMD versions may differ in the last bit.
"""

from __future__ import annotations

import math

import numpy as np

from resources.hll.errors import HLLError


def _wrapped_int64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


# 1.0 / (1L << r) as compiled: the shift count is taken modulo 64 and 1 << 63 is negative.
_TERMS = np.array([1.0 / float(_wrapped_int64(1 << (r & 63))) for r in range(256)], dtype=np.float64)


def alpha_m_squared(nregs: int) -> float:
    """gamma_register_count_squared: alpha_m * m * m, evaluated in the C order."""
    if nregs <= 8:
        raise HLLError(
            f"number of registers too small for a cardinality estimate: {nregs} (log2m must be ≥ 4)"
        )
    if nregs == 16:
        return 0.673 * nregs * nregs
    if nregs == 32:
        return 0.697 * nregs * nregs
    if nregs == 64:
        return 0.709 * nregs * nregs
    return (0.7213 / (1.0 + 1.079 / nregs)) * nregs * nregs


def c_log(x: float) -> float:
    """The C library's log(x), including its results for 0, negatives and NaN."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -math.inf
    return math.nan


def _c_log_array(x: np.ndarray) -> np.ndarray:
    uniq, inverse = np.unique(x, return_inverse=True)
    return np.array([c_log(float(v)) for v in uniq], dtype=np.float64)[inverse]


def register_sum(registers: np.ndarray) -> float:
    """Σ 1/2**r over a register array (uint8, shape (m,)), summed in index order like the C loop."""
    terms = _TERMS[np.asarray(registers, dtype=np.uint8)]
    return float(np.add.accumulate(terms)[-1]) if terms.size else 0.0


def estimate(sums: np.ndarray, zero_counts: np.ndarray, log2m: int, regwidth: int) -> np.ndarray:
    """Cardinalities from register sums and zero-register counts; float64, shape of sums."""
    sums = np.asarray(sums, dtype=np.float64)
    zeros = np.asarray(zero_counts, dtype=np.int64)
    nregs = 1 << log2m
    m = float(nregs)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = alpha_m_squared(nregs) / sums
    two_to_l = 1 << (((1 << regwidth) - 2 + log2m) & 63)
    cutoff = float(two_to_l) / 30.0

    out = est.copy()
    small = (zeros != 0) & (est < 5.0 * m / 2.0)
    if small.any():
        out[small] = m * _c_log_array(m / zeros[small].astype(np.float64))
    large = ~small & ~(est <= cutoff)
    if large.any():
        scale = float(_wrapped_int64(-_wrapped_int64(two_to_l)))
        with np.errstate(invalid="ignore", over="ignore"):
            out[large] = scale * _c_log_array(1.0 - est[large] / float(two_to_l))
    return out


def cardinality_of_registers(registers: np.ndarray, log2m: int, regwidth: int) -> float:
    """Cardinality of one register array (uint8, shape (2**log2m,))."""
    regs = np.asarray(registers, dtype=np.uint8)
    zeros = int(regs.size - np.count_nonzero(regs))
    return float(estimate(np.array([register_sum(regs)]), np.array([zeros]), log2m, regwidth)[0])


def grouped_cardinalities(
    group: np.ndarray, index: np.ndarray, value: np.ndarray, n_groups: int, log2m: int, regwidth: int
) -> np.ndarray:
    """Cardinality of each group's registers, given its non-zero registers as unique
    (group, index, value) triples; float64, shape (n_groups,).

    When every value is ≤ 52 - log2m, each 1/2**r is a multiple of 2**-(52 - log2m) and every
    partial sum is below 2**(log2m + 1), so the double sum is exact in any order; groups with
    larger values are summed densely in register order like the C loop.
    """
    nregs = 1 << log2m
    group = np.asarray(group, dtype=np.int64)
    value = np.asarray(value, dtype=np.uint8)
    filled = np.bincount(group, minlength=n_groups)
    zero_counts = nregs - filled
    sums = zero_counts.astype(np.float64)
    step = 1 << 20  # bounds the float64 weights temporary
    for lo in range(0, group.size, step):
        sums += np.bincount(group[lo : lo + step], weights=_TERMS[value[lo : lo + step]], minlength=n_groups)

    exact_limit = 52 - log2m
    big = value > exact_limit
    if big.any():
        order = np.argsort(group, kind="stable")
        g_sorted = group[order]
        for g in np.unique(group[big]):
            lo, hi = np.searchsorted(g_sorted, [g, g + 1])
            rows = order[lo:hi]
            dense = np.zeros(nregs, dtype=np.uint8)
            dense[np.asarray(index)[rows]] = value[rows]
            sums[g] = register_sum(dense)
    return estimate(sums, zero_counts, log2m, regwidth)
