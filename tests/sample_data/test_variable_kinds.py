"""The generated variables follow their documented kinds: percentages in 0-100 near the
England & Wales figures, a positive density, and v42 drawn like the real Standardised Illness Ratio."""

from __future__ import annotations

import numpy as np
import pytest

from geodem_assets.variables import DENSITY, PERCENTAGE, RATIO, codes_of_kind
from sample_data.census import NATIONAL_MEAN, PERCENTAGES, SAMPLED, type_model


def test_every_percentage_variable_has_a_national_figure_and_nothing_else_does():
    assert set(NATIONAL_MEAN) == set(PERCENTAGES) == set(codes_of_kind(PERCENTAGE))
    assert len(PERCENTAGES) == 56


@pytest.mark.parametrize("code", codes_of_kind(PERCENTAGE))
def test_percentage_marginals_match_england_and_wales(uk_small, code):
    v = uk_small.variables[code]
    assert v.between(0, 100).all()
    ew = v[v.index.str[0].isin(["E", "W"])]
    # Calibrated on the England & Wales mix of types; within 12 % of the national figure.
    assert abs(ew.mean() / NATIONAL_MEAN[code] - 1) < 0.12, (code, ew.mean(), NATIONAL_MEAN[code])


def test_density_is_positive_and_spans_orders_of_magnitude(uk_small):
    (code,) = codes_of_kind(DENSITY)
    v = uk_small.variables[code]
    assert (v > 0).all() and np.isfinite(v).all()
    assert v.max() / v.min() > 1000


def test_sir_is_a_right_skewed_ratio_centred_on_100(uk_small):
    (code,) = codes_of_kind(RATIO)
    sir = uk_small.variables[code]
    assert np.isfinite(sir).all() and (sir >= 0).all()
    assert 90 <= sir.median() <= 110
    assert 0.4 < (sir > 100).mean() < 0.6  # about half the OAs above the national level
    assert sir.mean() > sir.median() and sir.skew() > 0.5  # a long right tail
    assert (sir > 300).sum() >= 1  # a few OAs far above the age-expected level
    assert (sir > 300).mean() < 0.01
    assert (sir == 0).sum() >= 1  # and some with no disabled resident at all
    assert (sir > 100).any() and sir.max() > 200


def test_sir_follows_the_planted_types(uk_small):
    """The OAC centres' relative structure survives: the type highest on v42 sits above the lowest."""
    model = type_model()
    t = dict(zip(model.codes, model.centres[:, SAMPLED.index("v42")]))
    sir = uk_small.variables["v42"]
    sub = uk_small.truth.set_index("OA")["planted_subgroup"]
    means = sir.groupby(sub).mean()
    common = means[sub.value_counts().reindex(means.index) >= 30]
    high, low = max(common.index, key=t.get), min(common.index, key=t.get)
    assert means[high] > 1.3 * means[low]
