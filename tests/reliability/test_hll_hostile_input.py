"""The HLL codec on arbitrary bytes and hex: it parses or raises HLLFormatError/HLLError, never anything else, never hangs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resources.hll import HLL, HLLError, HLLFormatError
from resources.hll.column import decode_column
from tests.reliability.hll_inputs import mutate, mutate_hex, parse_bytes, parse_hex, valid_values

VALID = valid_values()
SMALL = [v for v in VALID if len(v) < 10_000]  # the two 112 KiB values are mutated separately
# Per-example deadline (ms): generous because the cores are shared; hard_limit catches real hangs.
FUZZ = dict(derandomize=True, deadline=2000, database=None, suppress_health_check=list(HealthCheck))
N_LOOP = 93_000  # seeded NumPy mutations of valid values, on top of the hypothesis examples

header_bytes = st.tuples(
    st.integers(0, 15), st.integers(0, 15), st.integers(0, 255), st.integers(0, 255)
).map(lambda t: bytes([(t[0] << 4) | t[1], t[2], t[3]]))
# Version 1 with every type code, every log2m/regwidth/sparseon/expthresh code: huge ones included.
v1_header = st.tuples(st.integers(0, 15), st.integers(0, 255), st.integers(0, 255)).map(
    lambda t: bytes([0x10 | t[0], t[1], t[2]])
)


@st.composite
def mutated_valid(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "header", "delete"]))
        if op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "header" and len(data) >= 3:
            data[draw(st.integers(0, 2))] = draw(st.integers(0, 255))
        elif op == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i : i + draw(st.integers(1, 8))]
    return bytes(data)


hex_alphabet = st.sampled_from(
    list("0123456789abcdefABCDEF") + ["\\x", "\\X", "x", "\\", " ", "g", "\n", "\u00e9", "\u0663", "\0", "-"]
)
hex_texts = st.one_of(
    st.lists(hex_alphabet, max_size=40).map("".join),
    st.text(max_size=30),
    st.binary(max_size=40).map(lambda b: "\\x" + b.hex()),
    st.binary(max_size=40).map(lambda b: b.hex()),  # no \x prefix
    st.binary(min_size=1, max_size=40).map(lambda b: "\\x" + b.hex()[:-1]),  # odd length
    st.sampled_from(VALID)
    .map(lambda b: "\\x" + b.hex())
    .flatmap(
        lambda t: st.integers(0, len(t)).flatmap(
            lambda i: st.sampled_from(["", "z", " ", "\u00e9", "0"]).map(lambda c: t[:i] + c + t[i:])
        )
    ),
)


@pytest.mark.parametrize("data", VALID, ids=range(len(VALID)))
def test_seed_values_are_valid(data):
    assert parse_bytes(data)


@settings(max_examples=1500, **FUZZ)
@given(st.binary(max_size=80))
def test_random_garbage_bytes(cases, data):
    cases["hll parser"] += 1
    parse_bytes(data)


@settings(max_examples=1500, **FUZZ)
@given(st.one_of(header_bytes, v1_header), st.binary(max_size=300))
def test_any_header_with_any_payload(cases, header, payload):
    cases["hll parser"] += 1
    parse_bytes(header + payload)
    parse_bytes(header[:2])  # truncated header
    cases["hll parser"] += 1


@settings(max_examples=1500, **FUZZ)
@given(mutated_valid())
def test_valid_values_with_flips_and_truncations(cases, data):
    cases["hll parser"] += 1
    ok = parse_bytes(data)
    # The bulk column decoder agrees with the one-value parser on every input.
    if ok:
        assert decode_column([data]).n_rows == 1
    else:
        with pytest.raises(HLLFormatError):
            decode_column([data])


@settings(max_examples=1500, **FUZZ)
@given(hex_texts)
def test_hex_text(cases, text):
    cases["hll parser"] += 1
    parse_hex(text)


def test_seeded_mutations_of_valid_values(cases):
    rng = np.random.default_rng(20240611)
    parsed = rejected = 0
    for i in range(N_LOOP):
        data = mutate(SMALL[int(rng.integers(0, len(SMALL)))], rng)
        ok = parse_hex(mutate_hex("\\x" + data.hex(), rng)) if i % 4 == 3 else parse_bytes(data)
        parsed += ok
        rejected += not ok
    cases["hll parser"] += N_LOOP
    # Both outcomes must be well represented, or the mutations test nothing.
    assert parsed > N_LOOP // 20 and rejected > N_LOOP // 5, (parsed, rejected)


def test_mutations_of_the_largest_values(cases):
    rng = np.random.default_rng(3)
    big = [v for v in VALID if len(v) >= 10_000]
    for i in range(300):
        parse_bytes(mutate(big[i % len(big)], rng))
    cases["hll parser"] += 300


@pytest.mark.parametrize(
    "data",
    [
        b"\x14\x91\x40" + bytes(114688),  # FULL, log2m 17, regwidth 5 (header code) but wrong length
        b"\x14\xf1\x40" + bytes(114688),  # FULL, log2m 17, regwidth 8 is out of range
        b"\x13\xd1\x40" + b"\xff" * 300_000,  # SPARSE, log2m 17, regwidth 7, many entries
        b"\x12\x8b\x7f" + bytes(8 * 16383),  # EXPLICIT with expthresh auto, 16383 equal elements
        b"\x10\xff\xff",
        b"\x14\x00\x00\x80",
    ],
)
def test_huge_header_codes_and_payloads_are_bounded(cases, data):
    cases["hll parser"] += 1
    parse_bytes(data)


def test_wrong_python_types_raise_format_errors():
    for bad in (None, 17, 1.5, ["\\x118b40"]):
        with pytest.raises(HLLFormatError):
            HLL.from_bytes(bad)  # type: ignore[arg-type]
        with pytest.raises(HLLError):
            HLL.from_hex(bad)  # type: ignore[arg-type]
