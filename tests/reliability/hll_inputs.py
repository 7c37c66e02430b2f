"""Valid postgresql-hll values to mutate, their mutations, and the property every input must keep.

The property: an input either parses, and then re-serialises, parses back and has a float
cardinality (finite, or NaN where PostgreSQL gives NaN or NULL), or raises HLLFormatError /
HLLError. Any other
exception, or a parse that takes longer than ``HARD_LIMIT_S``, is a failure.
"""

from __future__ import annotations

import math
import signal
from contextlib import contextmanager

import numpy as np

from resources.hll import HLL, HLLError

HARD_LIMIT_S = 5.0

# (log2m, regwidth, expthresh, sparseon, number of distinct hashes)
_SEEDS = [
    (11, 5, 0, 1, 0),
    (11, 5, 0, 1, 1),
    (11, 5, 0, 1, 3),
    (11, 5, 0, 1, 60),
    (11, 5, 0, 1, 400),
    (11, 5, 0, 1, 3000),
    (11, 5, -1, 1, 2),
    (11, 5, -1, 1, 40),
    (11, 5, 16, 0, 9),
    (11, 5, 16, 0, 30),
    (4, 3, 8, 1, 3),
    (4, 3, 0, 1, 20),
    (0, 1, 0, 1, 5),
    (3, 2, 0, 0, 7),
    (5, 7, -1, 1, 12),
    (12, 6, 1024, 0, 5000),
    (14, 4, 0, 1, 50),
    (17, 7, 0, 0, 10),
    (8, 1, 0, 1, 30),
    (16, 7, 0, 1, 200),
]


def valid_values(seed: int = 0) -> list[bytes]:
    """Stored bytes of EMPTY, UNDEFINED, EXPLICIT, SPARSE and FULL values over varied parameters."""
    rng = np.random.default_rng(seed)
    out = []
    for log2m, regwidth, expthresh, sparseon, n in _SEEDS:
        hashes = rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64, endpoint=True)
        value = HLL.from_hashes(hashes, log2m, regwidth, expthresh, sparseon)
        out.append(value.to_bytes())
        if n and value.type in ("SPARSE", "FULL"):
            out.append(value.to_bytes(max_sparse=n))  # the other register encoding
    out.append(HLL.undefined().to_bytes())
    out.append(HLL.undefined(5, 3, -1, 0).to_bytes())
    return out


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to three random edits: bit flips, byte sets, truncation, insertion, header bytes, swaps."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        op = int(rng.integers(0, 10))
        n = len(b)
        if op == 0 and n:
            b[int(rng.integers(0, n))] ^= 1 << int(rng.integers(0, 8))
        elif op == 1 and n:
            b[int(rng.integers(0, n))] = int(rng.integers(0, 256))
        elif op == 2:
            del b[int(rng.integers(0, n + 1)) :]
        elif op == 3:
            at = int(rng.integers(0, n + 1))
            b[at:at] = rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
        elif op in (4, 5, 6) and n > op - 4:
            b[op - 4] = int(rng.integers(0, 256))
        elif op == 7 and n:
            at = int(rng.integers(0, n))
            del b[at : at + int(rng.integers(1, 9))]
        elif op == 8 and n > 11:
            i, j = sorted(int(x) for x in rng.integers(3, n - 8, 2))
            b[i : i + 8], b[j : j + 8] = b[j : j + 8], b[i : i + 8]
        elif op == 9 and n > 3:
            at = int(rng.integers(3, n))
            b[at:at] = b[at : at + int(rng.integers(1, 9))]
    return bytes(b)


def mutate_hex(text: str, rng: np.random.Generator) -> str:
    """Textual edits of '\\x…': drop or change the prefix, odd length, stray characters, case, spaces."""
    op = int(rng.integers(0, 7))
    if op == 0:
        return text[2:]  # bare digits (accepted)
    if op == 1:
        return text[:-1] if len(text) > 2 else text + "0"
    if op == 2:
        at = int(rng.integers(0, len(text) + 1))
        return text[:at] + "gxZ \t\u00e9\u0663-,\\\0"[int(rng.integers(0, 11))] + text[at:]
    if op == 3:
        return text.upper()
    if op == 4:
        return "  " + text + "\n"
    if op == 5:
        return "x" + text[2:]
    return "\\\\x" + text[2:]


@contextmanager
def hard_limit(seconds: float = HARD_LIMIT_S):
    """Raise TimeoutError in the main thread if the block runs longer than ``seconds`` (a hang)."""

    def expire(signum, frame):
        raise TimeoutError(f"hll parsing ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_parsed(value: HLL) -> None:
    """A parsed value re-serialises, parses back, and has a float cardinality."""
    stored = value.to_bytes()
    again = HLL.from_bytes(stored)
    assert again.params == value.params
    # Sparse entries narrower than a byte leave padding that reads back as a zero register
    # entry (as PostgreSQL reads it), so a value survives the trip only for wider entries.
    if value.log2m + value.regwidth >= 8:
        assert again.to_bytes() == stored
    try:
        card = value.cardinality()
    except HLLError as exc:
        assert value.params.nregs <= 8, f"cardinality failed on {value!r}: {exc}"
        return
    assert isinstance(card, float)
    kind = value.type
    if kind == "UNDEFINED":
        assert math.isnan(card)
    elif kind == "EMPTY":
        assert card == 0.0
    elif kind == "EXPLICIT":
        assert card == float(value.elements.size)
    else:
        # NaN is PostgreSQL's own answer for sketches past its large-range correction (see
        # resources/hll/estimator.py); test_codec_agrees_with_postgresql checks it matches.
        assert math.isnan(card) or (math.isfinite(card) and card >= 0), f"cardinality {card} of {value!r}"


def parse_bytes(data: bytes) -> bool:
    """True if ``data`` parsed (and kept the property), False if it was rejected as bad."""
    with hard_limit():
        try:
            value = HLL.from_bytes(data)
        except HLLError:  # HLLFormatError is an HLLError
            return False
        check_parsed(value)
    return True


def parse_hex(text: str) -> bool:
    """As parse_bytes, for PostgreSQL's hex text form."""
    with hard_limit():
        try:
            value = HLL.from_hex(text)
        except HLLError:
            return False
        check_parsed(value)
    return True
