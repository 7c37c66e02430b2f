"""The extension's cumulative add/union vectors: our bytes and cardinalities equal theirs on every row."""

from __future__ import annotations

import pytest

from resources.hll import HLL
from tests.hll.vectors_io import MAX_SPARSE, float_bits, vector_names, vector_rows


@pytest.mark.parametrize("name", vector_names("cumulative_add_"))
def test_cumulative_add_reproduces_every_row(name):
    max_sparse = MAX_SPARSE.get(name, -1)
    rows = vector_rows(name)
    assert len(rows) > 100
    acc = HLL.from_hex(rows[0]["multiset"])
    for i, r in enumerate(rows):
        if i:
            acc.add(int(r["raw_value"]))
        assert acc.to_hex(max_sparse) == r["multiset"].lower(), (name, i)
        assert float_bits(acc.cardinality()) == float_bits(float(r["cardinality"])), (name, i)
        # The stored form parses back to the same value.
        assert HLL.from_hex(r["multiset"]).to_hex(max_sparse) == r["multiset"].lower()


@pytest.mark.parametrize("name", vector_names("cumulative_union_"))
def test_cumulative_union_reproduces_every_row(name):
    max_sparse = MAX_SPARSE.get(name, -1)
    rows = vector_rows(name)
    acc = None
    for i, r in enumerate(rows):
        h = HLL.from_hex(r["multiset"])
        assert float_bits(h.cardinality()) == float_bits(float(r["cardinality"])), (name, i)
        # As the extension's test does: this row's value unioned with the previous union.
        if i:
            pairwise = h.union(HLL.from_hex(rows[i - 1]["union_multiset"]))
            assert pairwise.to_hex(max_sparse) == r["union_multiset"].lower(), (name, i)
        acc = h if acc is None else acc.union(h)
        assert acc.to_hex(max_sparse) == r["union_multiset"].lower(), (name, i)
        assert float_bits(acc.cardinality()) == float_bits(float(r["union_cardinality"])), (name, i)
    whole = HLL.union_all(HLL.from_hex(r["multiset"]) for r in rows)
    assert whole.to_hex(max_sparse) == rows[-1]["union_multiset"].lower()
