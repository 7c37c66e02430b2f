"""A column of stored HLL values as one buffer: every input form gives the same buffer."""

from __future__ import annotations

import numpy as np
import pytest

from resources.hll import HLL
from resources.hll.column_input import PADDING, RowError, column_buffer


def _values():
    rng = np.random.default_rng(5)
    out = [
        HLL.from_hashes(rng.integers(-(2**63), 2**63 - 1, n), 11, 5, -1, 1).to_bytes() for n in (0, 1, 3, 400)
    ]
    return [out[0], None, out[1], out[2], None, out[3]]


def _values_of(result):
    buffer, offsets, lengths, is_null = result
    data = bytes(buffer)
    assert data.endswith(bytes(PADDING))
    return [None if null else data[o : o + n] for o, n, null in zip(offsets, lengths, is_null)]


def _same(a, b):
    assert _values_of(a) == _values_of(b)


def test_bytes_hex_text_and_mixed_columns_give_one_buffer():
    blobs = _values()
    as_bytes = column_buffer(blobs)
    as_hex = column_buffer([None if b is None else "\\x" + b.hex() for b in blobs])
    mixed = column_buffer([bytearray(b) if i == 2 else b for i, b in enumerate(blobs)])  # the per-value path
    _same(as_bytes, as_hex)
    _same(as_bytes, mixed)
    assert _values_of(as_bytes) == blobs


def test_a_value_of_another_type_names_its_row():
    with pytest.raises(RowError) as e:
        column_buffer([b"\x11\x8b\x7f", 7])
    assert e.value.row == 1
