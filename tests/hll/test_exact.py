"""Stored representation, equality and the SPARSE padding quirk, against values PostgreSQL printed.

Every hex text and double below was printed by PostgreSQL 15 with postgresql-hll 2.16;
tests/hll/test_postgres_exact.py checks the same rules live, on random values.
"""

from __future__ import annotations

import numpy as np
import pytest

from resources.hll import HLL
from resources.hll.column import decode_column
from resources.hll.grouped import union_cardinalities
from tests.hll.vectors_io import float_bits

# hll_add_agg over hashes 33, 66, 99 with (5, 2, 0, 1): registers 1, 2, 3 = 1, 2, 1,
# written FULL after hll_set_max_sparse(0) and SPARSE by default.
FULL_5_2 = "\\x1425401900000000000000"
SPARSE_5_2 = "\\x1325400a2868"
CARD_5_2 = "4009335e5d594988"  # float8send(hll_cardinality(...)) of both


@pytest.mark.parametrize(
    "text",
    [
        FULL_5_2,
        SPARSE_5_2,
        "\\x118b40",  # EMPTY
        "\\x118bc0",  # EMPTY with the unused top header bit set (PostgreSQL keeps it)
        "\\x108b40",  # UNDEFINED
        "\\x128b7f" + "0000000000000001" + "0000000000000002",  # EXPLICIT
        "\\x138b40" + "00a3" + "00a1" + "0042",  # SPARSE in non-canonical order
        "\\x13044008",  # SPARSE with a 3-bit padding
        "\\x1304400c40",  # SPARSE whose padding holds a zero entry
        "\\x14254019000000000000ff",  # FULL with non-zero padding bits
    ],
)
def test_a_value_read_prints_as_read(text):
    # hll_in keeps the bytes it reads and hll_out prints them.
    assert HLL.from_hex(text).to_hex() == text
    assert HLL.from_hex(text).copy().to_hex() == text
    assert HLL.from_bytes(bytes.fromhex(text[2:])).to_bytes() == bytes.fromhex(text[2:])


def test_full_and_sparse_of_the_same_registers_differ_like_hll_eq():
    full, sparse = HLL.from_hex(FULL_5_2), HLL.from_hex(SPARSE_5_2)
    assert (full.type, sparse.type) == ("FULL", "SPARSE")
    assert np.array_equal(full.registers(), sparse.registers())
    assert float_bits(full.cardinality()) == float_bits(sparse.cardinality()) == CARD_5_2
    # SELECT FULL_5_2::hll = SPARSE_5_2::hll -> f
    assert full != sparse
    # hll_union(FULL_5_2, hll_empty(5,2,0,1)) and hll_add(FULL_5_2, 33) print SPARSE_5_2: an
    # operation repacks, even when no register changes; then = is t.
    assert full.union(HLL.empty(5, 2, 0, 1)).to_hex() == SPARSE_5_2
    assert full.union(HLL.empty(5, 2, 0, 1)) == sparse
    assert full.copy().add(33).to_hex() == SPARSE_5_2
    assert full.to_hex() == FULL_5_2  # union returned a new value


def test_an_unused_header_bit_makes_values_differ_until_repacked():
    # '\x118bc0'::hll = '\x118b40'::hll -> f; hll_add('\x118bc0', 2048) -> \x138b400001
    odd = HLL.from_hex("\\x118bc0")
    assert odd != HLL.from_hex("\\x118b40")
    assert odd.add(2048).to_hex() == "\\x138b400001"


def test_padding_quirk_in_hll_add_chain():
    # SELECT hll_add(hll_add(hll_empty(4,1,0,1), 16), 24) -> \x1304400c40, cardinality
    # 1.0326163382011386: registers 0 and 8 are written, then the padding clears register 0.
    h = HLL.empty(4, 1, 0, 1).add(16)
    assert h.to_hex() == "\\x13044008"
    h.add(24)
    assert h.to_hex() == "\\x1304400c40"
    assert h.cardinality() == 1.0326163382011386
    assert h.registers().tolist() == [0] * 8 + [1] + [0] * 7
    # ... and a third hll_add (40: register 8 again) writes register 8 alone -> \x13044088.
    assert h.add(40).to_hex() == "\\x13044088"
    assert h.cardinality() == 1.0326163382011386


def test_padding_quirk_in_hll_add_agg_and_between_calls():
    # hll_add_agg over (16, 24) with (4,1,0,1) -> \x1304400c40, cardinality 1.0326163382011386.
    agg = HLL.from_hashes(np.array([16, 24]), 4, 1, 0, 1)
    assert agg.to_hex() == "\\x1304400c40"
    assert agg.cardinality() == 1.0326163382011386
    # (4,1,1,1) over (-1, 16, 0): the aggregate packs once -> \x1304410fc0; three hll_add
    # calls pack after each, and register 0 is lost on the way -> \x130441f8.
    hashes = np.array([-1, 16, 0], dtype=np.int64)
    assert HLL.from_hashes(hashes, 4, 1, 1, 1).to_hex() == "\\x1304410fc0"
    chain = HLL.empty(4, 1, 1, 1)
    for x in hashes.tolist():
        chain.add(x)
    assert chain.to_hex() == "\\x130441f8"
    assert HLL.empty(4, 1, 1, 1).add_many(hashes).to_hex() == "\\x130441f8"


def test_padding_quirk_in_unions_and_the_grouped_union():
    reg0, reg8 = HLL.from_hex("\\x13044008"), HLL.from_hex("\\x13044088")
    # hll_union('\x13044008', '\x13044088') and hll_union_agg over both -> \x1304400c40,
    # hll_cardinality 1.0326163382011386 (without the quirk: 2.136502281992361).
    for u in (reg0.union(reg8), reg8.union(reg0), HLL.union_all([reg0, reg8])):
        assert u.to_hex() == "\\x1304400c40"
        assert u.cardinality() == 1.0326163382011386
    # hll_union('\x1304400c40', '\x13044008') -> \x1304400c40 (register 0 set again, then lost).
    assert HLL.from_hex("\\x1304400c40").union(reg0).to_hex() == "\\x1304400c40"
    # The vectorised hll_cardinality(hll_union_agg(...)) used by the embedded backend.
    col = decode_column(["\\x13044008", "\\x13044088", "\\x13044008", None])
    cards = union_cardinalities(col, np.array([0, 0, 1, 1]), 2)
    assert cards.tolist() == [1.0326163382011386, HLL.from_hex("\\x13044008").cardinality()]
