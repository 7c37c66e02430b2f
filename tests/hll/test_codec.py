"""HLL value semantics: PostgreSQL's promotion, storage choice, unions and estimator."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resources.hll import HLL, HLLError, HLLFormatError, HLLParameterMismatch, hash_integer, hash_texts
from tests.hll.vectors_io import float_bits


def register_hashes(indexes, log2m=11, value=1):
    """Hashes that set register `index` to `value` (value - 1 trailing zeros above the index bits)."""
    return np.array([(1 << (log2m + value - 1)) | i for i in indexes], dtype=np.int64)


def test_empty_uses_the_notebook_defaults_and_prints_like_postgres():
    h = HLL.empty()
    assert (h.log2m, h.regwidth, h.expthresh, h.sparseon) == (11, 5, 0, 1)
    assert h.type == "EMPTY" and h.cardinality() == 0.0
    assert h.to_hex() == "\\x118b40"  # SELECT hll_empty(11, 5, 0, 1)
    assert HLL.empty(11, 5, -1, 1).to_hex() == "\\x118b7f"  # SELECT hll_empty()


def test_expthresh_zero_goes_straight_to_sparse():
    h = HLL.empty().add(12345)
    assert h.type == "SPARSE"


@pytest.mark.parametrize("expthresh, limit", [(4, 4), (1, 1), (-1, 160)])
def test_explicit_promotes_when_a_new_element_exceeds_the_threshold(expthresh, limit):
    hashes = np.arange(1, limit + 2, dtype=np.int64) * 7919
    h = HLL.empty(11, 5, expthresh, 1)
    for x in hashes[:limit]:
        h.add(int(x))
    assert h.type == "EXPLICIT" and h.cardinality() == float(limit)
    h.add(int(hashes[0]))  # already present: stays explicit
    assert h.type == "EXPLICIT"
    h.add(int(hashes[limit]))
    assert h.type == "SPARSE"
    assert np.array_equal(h.registers(), HLL.from_hashes(hashes, 11, 5, 0, 1).registers())


def test_explicit_elements_are_stored_in_signed_order_big_endian():
    h = HLL.from_hashes(np.array([5, -3, 2**62], dtype=np.int64), 11, 5, 16, 1)
    assert h.to_hex() == "\\x128b45" + "fffffffffffffffd" + "0000000000000005" + "4000000000000000"


def test_sparse_turns_full_exactly_when_full_is_not_larger():
    # 11/5: a sparse entry is 16 bits, the full array 2048 * 5 bits: sparse while filled * 16 < 10240.
    sparse = HLL.from_hashes(register_hashes(range(639)))
    full = HLL.from_hashes(register_hashes(range(640)))
    assert sparse.type == "SPARSE" and len(sparse.to_bytes()) == 3 + 639 * 2
    assert full.type == "FULL" and len(full.to_bytes()) == 3 + 2048 * 5 // 8
    assert HLL.from_bytes(full.to_bytes()).to_bytes() == full.to_bytes()


def test_sparseon_zero_always_writes_full():
    h = HLL.from_hashes(register_hashes([3]), 11, 5, 0, 0)
    assert h.type == "FULL" and h.to_hex().startswith("\\x148b00")


def test_max_sparse_mirrors_hll_set_max_sparse():
    h = HLL.from_hashes(register_hashes(range(10)))
    assert HLL.from_bytes(h.to_bytes(max_sparse=10))._type_code() == 3
    assert h.to_bytes(max_sparse=9)[0] == 0x14
    assert h.to_bytes(max_sparse=10)[0] == 0x13


def test_sparse_and_full_registers_pack_msb_first():
    h = HLL.from_hashes(register_hashes([0], value=1))
    assert h.to_hex() == "\\x138b400001"  # register 0 = 1: 11-bit index 0, 5-bit value 1
    h = HLL.from_hashes(register_hashes([2047], value=31))
    assert h.to_hex() == "\\x138b40ffff"


def test_add_changes_in_place_and_union_returns_a_new_value():
    a = HLL.empty()
    assert a.add(1 << 11) is a
    b = HLL.empty().add(2 << 11 | 5)
    before = (a.to_bytes(), b.to_bytes())
    u = a.union(b)
    assert u is not a and (a.to_bytes(), b.to_bytes()) == before
    assert u.cardinality() > a.cardinality()


PARAMS = st.sampled_from(
    [(11, 5, 0, 1), (11, 5, -1, 1), (11, 5, 8, 1), (5, 3, 2, 0), (4, 1, 1, 1), (12, 6, 16, 1)]
)
HASHES = st.lists(st.integers(-(2**63), 2**63 - 1), max_size=60)


@settings(max_examples=150, deadline=None)
@given(PARAMS, HASHES, HASHES)
def test_batched_add_equals_adding_one_at_a_time(params, first, second):
    one_by_one = HLL.empty(*params)
    for x in first + second:
        one_by_one.add(x)
    batched = HLL.empty(*params).add_many(np.array(first, dtype=np.int64))
    batched.add_many(np.array(second, dtype=np.int64))
    assert batched.to_bytes() == one_by_one.to_bytes()
    if params[0] + params[1] >= 8:
        # Without the padding quirk, packing between adds changes nothing: hll_add_agg
        # (from_hashes) and a chain of hll_add calls agree.
        aggregated = HLL.from_hashes(np.array(first, dtype=np.int64), *params).add_many(
            np.array(second, dtype=np.int64)
        )
        assert aggregated.to_bytes() == one_by_one.to_bytes()


@settings(max_examples=150, deadline=None)
@given(PARAMS, st.lists(HASHES, max_size=6))
@example(params=(4, 1, 1, 1), sets=[[-1, 16]])
def test_union_all_equals_folding_union(params, sets):
    # hll_union_agg unpacks every value, the first included, into an empty accumulator; so the
    # fold starts from the empty value too. With the padding quirk (log2m + regwidth < 8) a
    # fold of several values repacks between steps and the extension's own agg and fold differ
    # (test_union_agg_and_fold_differ_under_the_padding_quirk_as_in_postgresql); there only a
    # single value is folded. (PostgreSQL gives \x130441f8 for hll_union_agg over
    # hll_add_agg(-1, 16; 4, 1, 1, 1) = \x1304410fc0.)
    if params[0] + params[1] < 8:
        sets = [[h for s in sets for h in s]]
    values = [HLL.from_hashes(np.array(s, dtype=np.int64), *params) for s in sets] or [HLL.empty(*params)]
    folded = HLL.empty(*params)
    for v in values:
        folded = folded.union(v)
    assert HLL.union_all(values).to_bytes() == folded.to_bytes()
    assert HLL.union_all([None, *values]).to_bytes() == folded.to_bytes()


def test_union_agg_and_fold_differ_under_the_padding_quirk_as_in_postgresql():
    # Printed by PostgreSQL 15 with hll 2.16 for these three values (4, 1, 1, 1):
    # hll_union_agg over them in this order, and hll_union folded from hll_empty(4, 1, 1, 1).
    values = [
        HLL.from_hex(h) for h in ("\\x120441ffffffffffffffff", "\\x1204410000000000000010", "\\x110441")
    ]
    assert HLL.union_all(values).to_hex() == "\\x1304410fc0"
    folded = HLL.empty(4, 1, 1, 1)
    for v in values:
        folded = folded.union(v)
    assert folded.to_hex() == "\\x130441f8"


@pytest.mark.parametrize(
    "other, message",
    [
        ((11, 4, 0, 1), "register width does not match: source uses 4 and dest uses 5"),
        ((12, 5, 0, 1), "register count does not match: source uses 4096 and dest uses 2048"),
        ((11, 5, -1, 1), "explicit threshold does not match: source uses -1 and dest uses 0"),
        ((11, 5, 0, 0), "sparse enable does not match: source uses 0 and dest uses 1"),
    ],
)
def test_union_of_different_parameters_raises_like_postgres(other, message):
    with pytest.raises(HLLParameterMismatch, match=message):
        HLL.empty().union(HLL.empty(*other))
    with pytest.raises(ValueError):
        HLL.union_all([HLL.empty(), HLL.empty(*other)])


def test_undefined_absorbs_unions_and_has_no_cardinality():
    u = HLL.undefined()
    assert u.to_hex() == "\\x108b40" and u.type == "UNDEFINED"
    assert math.isnan(u.cardinality())
    assert HLL.empty().add(99 << 11).union(u).type == "UNDEFINED"
    assert HLL.union_all([HLL.empty(), u]).type == "UNDEFINED"


@pytest.mark.parametrize(
    "log2m, regwidth, n, expected",
    [
        # SELECT hll_cardinality(hll_add_agg(hll_hash_integer(x), log2m, regwidth, 0, 1))
        #   FROM generate_series(1, n) x;   on PostgreSQL 15 + postgresql-hll 2.17
        (11, 5, 10, 10.024493827539368),
        (11, 5, 100, 99.37233005831612),
        (11, 5, 20000, 19054.435609867312),
        (11, 5, 100000, 101044.83085081229),
        (4, 6, 10, 11.090354888959125),
        # 2**L of the large-range correction wraps modulo 2**64 for regwidth >= 6: NaN.
        (11, 6, 20000, math.nan),
        (11, 7, 100000, math.nan),
        (4, 1, 100, math.nan),
    ],
)
def test_cardinality_matches_known_postgres_doubles(log2m, regwidth, n, expected):
    hashes = np.array([hash_integer(x) for x in range(1, n + 1)], dtype=np.int64)
    got = HLL.from_hashes(hashes, log2m, regwidth, 0, 1).cardinality()
    assert float_bits(got) == float_bits(expected)


def test_cardinality_needs_more_than_eight_registers_once_probabilistic():
    h = HLL.from_hashes(hash_texts(["a", "b"]), 3, 5, 0, 1)
    with pytest.raises(HLLError, match="too small"):
        h.cardinality()
    assert HLL.from_hashes(hash_texts(["a", "b"]), 3, 5, 4, 1).cardinality() == 2.0


def test_hex_input_forms():
    h = HLL.from_hashes(hash_texts(["x", "y"]))
    text = h.to_hex()
    assert text.startswith("\\x") and text == text.lower()
    for form in (text, text.upper().replace("\\X", "\\x"), text[2:], "\\X" + text[2:].upper(), f"  {text}\n"):
        assert HLL.from_hex(form) == h


@pytest.mark.parametrize(
    "args",
    [
        (18, 5, 0, 1),
        (-1, 5, 0, 1),
        (11, 0, 0, 1),
        (11, 8, 0, 1),
        (11, 5, 3, 1),
        (11, 5, 16384, 1),
        (11, 5, -2, 1),
        (11, 5, 0, 2),
        (11.5, 5, 0, 1),
    ],
)
def test_parameters_postgres_refuses_are_refused(args):
    with pytest.raises(HLLFormatError):
        HLL.empty(*args)


def test_all_parameters_postgres_accepts_round_trip():
    for log2m in range(0, 18):
        for regwidth in range(1, 8):
            for expthresh in (-1, 0, 1, 8192):
                for sparseon in (0, 1):
                    hashes = np.array([1 << log2m, 12345, -7], dtype=np.int64)
                    h = HLL.from_hashes(hashes, log2m, regwidth, expthresh, sparseon)
                    back = HLL.from_bytes(h.to_bytes())
                    assert (back.log2m, back.regwidth, back.expthresh, back.sparseon) == (
                        log2m,
                        regwidth,
                        expthresh,
                        sparseon,
                    )
                    assert back.to_bytes() == h.to_bytes()


def test_non_canonical_sparse_entries_last_one_wins_like_postgres():
    # Register 5 written twice (value 3, then 1), then register 2: PostgreSQL keeps 1 for register 5.
    h = HLL.from_hex("\\x138b40" + "00a3" + "00a1" + "0042")
    regs = h.registers()
    assert regs[5] == 1 and regs[2] == 2
    # Printed as read (hll_in keeps the bytes); written anew by the next operation.
    assert h.to_hex() == "\\x138b40" + "00a3" + "00a1" + "0042"
    assert h.union(HLL.empty()).to_hex() == "\\x138b40004200a1"


def test_short_sparse_entries_keep_postgres_padding_quirk():
    # With entries shorter than 8 bits, padding can hold a whole zero entry, which PostgreSQL
    # reads back as "register 0 = 0": hll_add_agg(x, 2, 3, -1, 1) over (4, 12345, -7) prints
    # \x13427f0a80 and hll_print of that text shows 1 filled register.
    h = HLL.from_hashes(np.array([4, 12345, -7], dtype=np.int64), 2, 3, -1, 1)
    assert h.to_hex() == "\\x13427f0a80"
    assert h.registers().tolist() == [0, 2, 0, 0]
    assert HLL.from_hex(h.to_hex()).registers().tolist() == [0, 2, 0, 0]
