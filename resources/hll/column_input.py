"""A column of stored HLL values (bytes, '\\x…' hex text, NULLs) as one contiguous byte buffer.

Clean hex text, the usual form of a CSV or of PostgreSQL's text output, is decoded for the
whole column at once; any other column goes value by value.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from resources.hll import storage
from resources.hll.errors import HLLFormatError

# Zero bytes after the last value, so 4- and 8-byte reads at any value offset stay inside.
PADDING = 8
# Hex pairs decoded at once (bounds the index temporaries).
_PAIRS_PER_BATCH = 1 << 21


class RowError(Exception):
    """A format error at a row position; callers turn it into an HLLFormatError naming the row."""

    def __init__(self, row: int, error: HLLFormatError):
        super().__init__(row, error)
        self.row, self.error = row, error


def _pair_table() -> np.ndarray:
    """Byte value of every two-character hex pair, indexed by the pair read as a little-endian
    uint16 (first character in the low byte); 0xFFFF for non-hex pairs."""
    value = np.full(256, 0xFFFF, dtype=np.uint16)
    for i, c in enumerate(b"0123456789abcdef"):
        value[c] = i
    for i, c in enumerate(b"ABCDEF"):
        value[c] = 10 + i
    first, second = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    table = (value[first] << 4) | value[second]
    table[(value[first] == 0xFFFF) | (value[second] == 0xFFFF)] = 0xFFFF
    out = np.empty(65536, dtype=np.uint16)
    out[first | (second << 8)] = table
    return out


_HEX_PAIRS = _pair_table()


def hex_pairs(text: np.ndarray) -> np.ndarray:
    """Byte value of each two-character pair of hex digits in ``text`` (uint8, even length,
    either case), as uint16 of shape (len // 2,); 0xFFFF where a pair is not two hex digits."""
    return _HEX_PAIRS[text.view("<u2")]


def column_buffer(values: list[object]) -> tuple[bytes | np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(buffer, offsets, lengths, is_null) of a column, shape (n,) each but the buffer, which is
    bytes or a uint8 array ending in PADDING zero bytes. Raises RowError for a bad value."""
    column = np.asarray(values, dtype=object).reshape(-1)
    is_null = pd.isna(column)
    present = column[~is_null].tolist()
    fast = _clean_hex(present, is_null)
    if fast is not None:
        return fast
    lengths = np.zeros(column.size, dtype=np.int64)
    if present and pd.api.types.infer_dtype(present, skipna=False) == "bytes":
        # Stored bytes, as the userday reader hands them over: no per-value loop.
        blobs = cast("list[bytes]", present)
        lengths[~is_null] = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    else:
        blobs = []
        for i in np.flatnonzero(~is_null).tolist():
            try:
                blob = _as_bytes(column[i])
            except HLLFormatError as e:
                raise RowError(i, e) from None
            blobs.append(blob)
            lengths[i] = len(blob)
    return b"".join([*blobs, bytes(PADDING)]), np.cumsum(lengths) - lengths, lengths, is_null


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return storage.bytes_from_hex(value)
    raise HLLFormatError(f"expected bytes or '\\x…' hex text, got {type(value).__name__}")


def _clean_hex(
    texts: list[object], is_null: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The column_buffer result when every non-null value is clean hex text ('\\x' optional,
    even length, no whitespace), else None."""
    if texts and pd.api.types.infer_dtype(texts, skipna=False) != "string":
        return None
    strings = cast("list[str]", texts)
    joined = "".join(strings)
    try:
        raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    del joined
    text_len = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    if np.any(text_len % 2):
        return None
    starts = np.cumsum(text_len) - text_len
    padded = np.concatenate([raw, np.zeros(2, np.uint8)])
    prefixed = (text_len >= 2) & (padded[starts] == ord("\\")) & ((padded[starts + 1] | 0x20) == ord("x"))
    # Every text has an even length, so character pairs never straddle two values and a
    # '\x' prefix is one pair: decode all pairs, then skip the prefix pair of each value.
    decoded = np.zeros(raw.size // 2 + PADDING, dtype=np.uint8)
    prefix_pairs = starts[prefixed] // 2
    for lo in range(0, raw.size // 2, _PAIRS_PER_BATCH):  # batches bound the uint16 temporaries
        pairs = hex_pairs(raw[2 * lo : 2 * (lo + _PAIRS_PER_BATCH)])
        inside = prefix_pairs[(prefix_pairs >= lo) & (prefix_pairs < lo + pairs.size)]
        pairs[inside - lo] = 0
        if np.any(pairs > 0xFF):
            return None
        decoded[lo : lo + pairs.size] = pairs
    offsets = np.zeros(is_null.size, dtype=np.int64)
    lengths = np.zeros(is_null.size, dtype=np.int64)
    offsets[~is_null] = starts // 2 + prefixed
    lengths[~is_null] = text_len // 2 - prefixed
    return decoded, offsets, lengths, is_null
