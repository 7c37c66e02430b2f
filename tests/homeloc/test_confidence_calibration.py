"""The home's confidence is calibrated: simulated users with known day counts, through the real HLL.

Each simulated user has a known number of distinct days in two countries. The days are
strings ``origin:user:date`` hashed by the real hash (resources/hll, MurmurHash3 as
``hll_hash_text``), set into registers and estimated by the real estimator (the embedded
backend's grouped cardinalities, checked against ``HLL.cardinality`` on a sample). The
true difference is drawn flat over ±4.5 standard errors, the prior under which the stated
confidence is a probability (homeloc_assets/hll_error.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from homeloc_assets.hll_error import cardinality_se, confidence_ahead, difference_se
from resources.hll import HLL, hash_texts
from resources.hll.estimator import grouped_cardinalities
from resources.hll.registers import register_updates

LOG2M, REGWIDTH = 11, 5
M = 1 << LOG2M


@pytest.fixture(scope="module")
def day_hashes() -> np.ndarray:
    """Hashes of 400,000 distinct user-day items, as the notebooks form them."""
    rng = np.random.default_rng(20240501)
    users = [f"{u:032x}" for u in rng.integers(0, 2**62, 800)]
    days = [f"2019-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in range(500)]
    return hash_texts([f"1:{u}:{d}" for u in users for d in days])


def estimates(sets: list[np.ndarray]) -> np.ndarray:
    """HLL cardinality of each set of hashes (log2m 11, regwidth 5), float64."""
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    group = np.repeat(np.arange(len(sets)), lengths)
    index, value = register_updates(np.concatenate(sets), LOG2M, REGWIDTH)
    key = group * M + index
    order = np.lexsort((value, key))
    key, value = key[order], value[order]
    last = np.r_[key[1:] != key[:-1], True] & (value > 0)  # the largest value of each register
    key, value = key[last], value[last]
    return grouped_cardinalities(key // M, key % M, value, len(sets), LOG2M, REGWIDTH)


class Draws:
    """Disjoint slices of the shuffled item pool: the days of one simulated sketch each."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator):
        self.pool, self.rng, self.pos = pool, rng, len(pool)

    def take(self, n: int) -> np.ndarray:
        if self.pos + n > len(self.pool):
            self.pool, self.pos = self.rng.permutation(self.pool), 0
        self.pos += n
        return self.pool[self.pos - n : self.pos]


def simulate(day_hashes, n_users: int, seed: int, shared: bool):
    """(confidence, right) per user: two countries with a known count of days each; ``shared``
    puts 20–80 % of the runner-up country's days also in the other country."""
    rng = np.random.default_rng(seed)
    draws = Draws(day_hashes, rng)
    a = rng.integers(20, 300, n_users)
    spread = np.ceil(4.5 * difference_se(a, a, LOG2M) + 2).astype(np.int64)
    b = np.maximum(a - (rng.random(n_users) * (2 * spread + 1)).astype(np.int64) + spread, 1)
    sets = []
    for na, nb in zip(a.tolist(), b.tolist()):
        days_a = draws.take(na)
        n_common = round(rng.uniform(0.2, 0.8) * min(na, nb)) if shared else 0
        sets += [days_a, np.concatenate([days_a[:n_common], draws.take(nb - n_common)])]
    est = estimates(sets)
    for i in range(0, 40, 2):  # the bulk estimate is the estimator's, bit for bit
        assert est[i] == HLL.from_hashes(sets[i], LOG2M, REGWIDTH, 0, 1).cardinality()
    est_a, est_b = est[0::2], est[1::2]
    a_home = est_a >= est_b  # equal estimates: either may be named; the home is then not ahead
    home, runner = np.where(a_home, est_a, est_b), np.where(a_home, est_b, est_a)
    right = np.where(a_home, a > b, b > a)
    return confidence_ahead(home, runner, LOG2M), right


BINS = [(0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.93), (0.93, 0.97), (0.97, 0.99)]


def test_confidence_is_calibrated_when_the_countries_share_no_day(day_hashes):
    confidence, right = simulate(day_hashes, 20_000, seed=1, shared=False)
    for lo, hi in BINS:
        inside = (confidence >= lo) & (confidence < hi)
        assert inside.sum() >= 500, (lo, hi, inside.sum())
        stated, observed = confidence[inside].mean(), right[inside].mean()
        assert abs(observed - stated) <= 0.025, (lo, hi, stated, observed, inside.sum())
    near_95 = (confidence >= 0.93) & (confidence < 0.97)
    assert abs(right[near_95].mean() - 0.95) <= 0.02, right[near_95].mean()
    # The tie rule at its default z = 1.645: classified homes are right at least 95 % of the time.
    assert right[confidence >= 0.95].mean() >= 0.95


def test_confidence_is_conservative_when_days_are_shared(day_hashes):
    # Shared days collide alike in both sketches: the errors are positively correlated and the
    # independent σ_d overstates the difference's error, so homes are right more often than stated.
    confidence, right = simulate(day_hashes, 8_000, seed=2, shared=True)
    for lo, hi in BINS:
        inside = (confidence >= lo) & (confidence < hi)
        if inside.sum() >= 200:
            assert right[inside].mean() >= confidence[inside].mean() - 0.03, (lo, hi)
    middle = (confidence >= 0.5) & (confidence < 0.9)
    assert right[middle].mean() > confidence[middle].mean()


@pytest.mark.parametrize("n", [50, 400, 2000, 9000])
def test_standard_error_matches_the_spread_of_estimates(day_hashes, n):
    # Linear counting below 5m/2 estimated user-days (Whang et al.), 1.04/√m above.
    reps = max(200, 400_000 // n // 2)
    draws = Draws(day_hashes, np.random.default_rng(n))
    est = estimates([draws.take(n) for _ in range(reps)])
    stated = float(cardinality_se(np.array([float(n)]), LOG2M)[0])
    observed = float(est.std(ddof=1))
    # The spread of a sample of `reps` standard deviations is about 1/√(2·reps) ≈ 5 %.
    assert observed == pytest.approx(stated, rel=0.15), (n, stated, observed)


def test_standard_error_regimes():
    se = cardinality_se(np.array([0.0, 10.0, 100.0, 5000.0, 6000.0]), LOG2M)
    assert se[0] == 0.0
    assert se[1] == pytest.approx(10 / np.sqrt(2 * M), rel=0.01)  # n / √(2m) for n << m
    assert se[4] == pytest.approx(1.04 * 6000 / np.sqrt(M))  # ≈ 2.3 %
    assert se[3] == pytest.approx(1.04 * 5000 / np.sqrt(M), rel=0.2)  # the regimes meet
    with pytest.raises(ValueError, match="finite and >= 0"):
        cardinality_se(np.array([-1.0]), LOG2M)
