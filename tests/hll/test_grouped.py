"""Column decoding and per-group unions agree with the one-value HLL code."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resources.hll import HLL, HLLParameterMismatch
from resources.hll.column import decode_column
from resources.hll.grouped import union_cardinalities
from tests.hll.vectors_io import float_bits

PARAM_SETS = [(11, 5, 0, 1), (11, 5, -1, 1), (11, 5, 16, 1), (6, 3, 4, 0), (14, 6, -1, 1), (4, 1, 2, 1)]


def random_groups(params, n_groups=150, seed=0):
    """Stored values (bytes) and their group ids: sizes cross EXPLICIT, SPARSE and FULL, with NULLs,
    EMPTY and a few UNDEFINED values."""
    rng = np.random.default_rng(seed)
    values, groups = [], []
    for g in range(n_groups):
        for _ in range(int(rng.integers(0, 6))):
            n = int(rng.choice([0, 1, 3, 10, 50, 400, 2000]))
            h = HLL.from_hashes(rng.integers(-(2**63), 2**63 - 1, size=n, dtype=np.int64), *params)
            values.append(None if rng.random() < 0.05 else h.to_bytes())
            groups.append(g)
        if rng.random() < 0.02:
            values.append(HLL.undefined(*params).to_bytes())
            groups.append(g)
    return values, np.array(groups, dtype=np.int64)


def expected_cardinalities(values, groups, n_groups):
    out = []
    for g in range(n_groups):
        items = [HLL.from_bytes(v) for v, gg in zip(values, groups) if gg == g and v is not None]
        out.append(HLL.union_all(items).cardinality() if items else math.nan)
    return out


@pytest.mark.parametrize("params", PARAM_SETS)
def test_grouped_union_cardinality_equals_union_all_bit_for_bit(params):
    values, groups = random_groups(params)
    got = union_cardinalities(decode_column(values), groups, 150)
    want = expected_cardinalities(values, groups, 150)
    assert [float_bits(x) for x in got] == [float_bits(x) for x in want]


def test_hex_bytes_and_mixed_columns_decode_identically():
    values, _ = random_groups((11, 5, 0, 1), n_groups=60, seed=1)
    as_hex = [None if v is None else "\\x" + v.hex() for v in values]
    mixed = [v if i % 2 else h for i, (v, h) in enumerate(zip(values, as_hex))]
    mixed = [float("nan") if v is None else v for v in mixed]
    a, b, c = decode_column(values), decode_column(as_hex), decode_column(mixed)
    for field in (
        "kind",
        "param_id",
        "reg_row",
        "reg_index",
        "reg_value",
        "exp_row",
        "exp_value",
        "exp_count",
    ):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
        assert np.array_equal(getattr(a, field), getattr(c, field)), field


def test_groups_of_nulls_and_undefined_are_nan_and_of_empties_zero():
    u, e = HLL.undefined().to_bytes(), HLL.empty().to_bytes()
    col = decode_column([None, u, e, e, None, HLL.empty().add(5 << 11).to_bytes()])
    got = union_cardinalities(col, np.array([0, 1, 2, 2, 3, 3]), 5)
    assert math.isnan(got[0]) and math.isnan(got[1]) and got[2] == 0.0 and got[3] == 1.0002442201269182
    assert math.isnan(got[4])  # a group without rows


def test_different_parameters_in_one_group_raise_naming_the_group():
    col = decode_column([HLL.empty().to_bytes(), HLL.empty(11, 4).to_bytes(), HLL.empty(12).to_bytes()])
    # Different groups may have different parameters ...
    union_cardinalities(col, np.array([0, 1, 2]), 3)
    # ... but one group may not.
    with pytest.raises(HLLParameterMismatch, match="user X: register width does not match"):
        union_cardinalities(col, np.array([0, 0, 1]), 2, describe=lambda g: "user X")


def test_non_canonical_sparse_rows_follow_the_one_value_parser():
    odd = bytes.fromhex("138b40" + "00a3" + "00a1" + "0042")  # register 5 twice: last wins
    col = decode_column([odd, HLL.empty().add(3 << 11 | 7).to_bytes()])
    got = union_cardinalities(col, np.array([0, 0]), 1)
    want = HLL.from_bytes(odd).union(HLL.empty().add(3 << 11 | 7)).cardinality()
    assert float_bits(got[0]) == float_bits(want)
