"""Bad bytes and bad hex: always HLLFormatError with a reason, never a hang or another error."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resources.hll import HLL, HLLError, HLLFormatError
from resources.hll.column import decode_column

BAD_BYTES = [
    (b"", "empty input"),
    (b"\x13", "truncated header"),
    (b"\x13\x8b", "truncated header"),
    (b"\x21\x8b\x40", "unknown schema version 2"),
    (b"\x03\x8b\x40", "unknown schema version 0"),
    (b"\x15\x8b\x40", "undefined multiset type 5"),
    (b"\x1f\x8b\x40", "undefined multiset type 15"),
    (b"\x11\x8b\x40\x00", "inconsistently sized empty"),
    (b"\x10\x8b\x40\x00", "inconsistently sized undefined"),
    (b"\x12\x8b\x48" + bytes(7), "not a multiple of 8"),
    (b"\x12\x8b\x48" + (2).to_bytes(8, "big") + (1).to_bytes(8, "big"), "duplicate or descending"),
    (b"\x12\x8b\x48" + (2).to_bytes(8, "big") * 2, "duplicate or descending"),
    (b"\x12\x8b\x48" + bytes(8 * 16384), "explicit multiset too large"),
    (b"\x13\x8b\x40\x01", "inconsistent padding"),
    (b"\x14\x8b\x40", "inconsistently sized compressed"),
    (b"\x14\x8b\x40" + bytes(1281), "inconsistently sized compressed"),
    (b"\x11\x1f\x40", "log2m 31"),
    (b"\x13\x12\x40", "log2m 18"),
    (b"\x11\xeb\x40", "regwidth 8"),
    (b"\x11\x8b\x55", "expthresh 1048576"),
]


@pytest.mark.parametrize("data, reason", BAD_BYTES)
def test_bad_bytes_raise_format_error_with_reason(data, reason):
    with pytest.raises(HLLFormatError, match=reason):
        HLL.from_bytes(data)
    with pytest.raises(HLLFormatError, match=f"userday_hll at row 1: .*{reason}"):
        decode_column([HLL.empty().to_bytes(), data], name="userday_hll")
    with pytest.raises(HLLFormatError, match=reason):
        decode_column([HLL.empty().to_hex(), "\\x" + data.hex()])


@pytest.mark.parametrize(
    "text, reason",
    [
        ("\\x138b400", "odd number of hex digits"),
        ("\\x13zz40", "not hexadecimal"),
        ("13 8b 40", "not hexadecimal"),
        ("\\x13\u00e9e40", "not hexadecimal"),
    ],
)
def test_bad_hex_raises_format_error(text, reason):
    with pytest.raises(HLLFormatError, match=reason):
        HLL.from_hex(text)
    with pytest.raises(HLLFormatError, match=reason):
        decode_column([HLL.empty().to_hex(), text])


def test_wrong_python_types_raise_format_error():
    with pytest.raises(HLLFormatError):
        HLL.from_bytes("\\x118b40")  # type: ignore[arg-type]
    with pytest.raises(HLLFormatError):
        HLL.from_hex(b"\\x118b40")  # type: ignore[arg-type]
    with pytest.raises(HLLFormatError, match="got int"):
        decode_column([HLL.empty().to_bytes(), 17])


def test_huge_inputs_are_decoded_in_bounded_time():
    start = time.perf_counter()
    # Two million zero sparse entries, and an explicit header claiming far too many elements.
    assert HLL.from_bytes(b"\x13\x8b\x40" + bytes(4_000_000)).cardinality() == 0.0
    with pytest.raises(HLLFormatError):
        HLL.from_bytes(b"\x12\x8b\x48" + bytes(8 * 1_000_000))
    assert time.perf_counter() - start < 10


HEADERS = st.sampled_from([0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x23]).flatmap(
    lambda b0: st.tuples(st.just(b0), st.integers(0, 255), st.integers(0, 255))
)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=64), st.tuples(HEADERS, st.binary(max_size=3000)).map(lambda t: bytes(t[0]) + t[1])
    )
)
def test_random_bytes_parse_or_raise_format_error_consistently(data):
    try:
        h = HLL.from_bytes(data)
    except HLLFormatError:
        with pytest.raises(HLLFormatError):
            decode_column([data])
        return
    assert h.to_bytes() == data  # printed as read, like hll_out after hll_in
    again = HLL.from_bytes(h.to_bytes())
    assert np.array_equal(again.registers(), h.registers())
    try:
        h.cardinality()
    except HLLError as e:
        assert "too small" in str(e)
    col = decode_column([data, "\\x" + data.hex()])
    assert col.kind[0] == col.kind[1] >= 0
