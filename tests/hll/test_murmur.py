"""MurmurHash3 as postgresql-hll's hll_hash_* functions compute it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resources.hll import hash_bigint, hash_bytes, hash_text, hash_texts
from resources.hll.murmur import murmur3_x64_64_batch
from tests.hll.vectors_io import vector_rows


def test_hll_hash_bigint_matches_extension_vectors():
    rows = vector_rows("murmur_bigint")
    assert len(rows) == 600
    for r in rows:
        assert hash_bigint(int(r["pre_hash_long"]), int(r["seed"])) == int(r["post_hash_long"]), r


def test_hll_hash_bytea_matches_extension_vectors_scalar_and_batched():
    rows = vector_rows("murmur_bytea")
    assert len(rows) == 600
    keys = [bytes.fromhex(r["pre_hash_bytes"][2:]) for r in rows]
    for seed in {int(r["seed"]) for r in rows}:
        chosen = [i for i, r in enumerate(rows) if int(r["seed"]) == seed]
        batched = murmur3_x64_64_batch([keys[i] for i in chosen], seed)
        for i, got in zip(chosen, batched.tolist()):
            assert got == int(rows[i]["post_hash_long"])
            assert hash_bytes(keys[i], seed) == got


@pytest.mark.parametrize(
    "text, expected",
    [
        # Values printed by PostgreSQL 15 + postgresql-hll: SELECT hll_hash_text('…').
        ("hello", -3758069500696749310),
        ("", 0),
    ],
)
def test_hash_text_known_values(text, expected):
    assert hash_text(text) == expected
    assert hash_texts([text]).tolist() == [expected]


def test_hash_texts_returns_int64_and_handles_empty_input():
    out = hash_texts([])
    assert out.dtype == np.int64 and out.shape == (0,)
    assert hash_texts(["a", "b"]).dtype == np.int64


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=70), max_size=40), st.integers(-(2**31), 2**31 - 1))
def test_batched_hash_equals_scalar_hash_for_any_strings_and_seeds(strings, seed):
    batched = hash_texts(strings, seed)
    assert batched.tolist() == [hash_text(s, seed) for s in strings]


def test_seed_outside_int32_uint32_is_refused():
    with pytest.raises(ValueError):
        hash_text("x", 2**32)
