"""Hash values -> (register index, register value), as postgresql-hll's compressed_add does."""

from __future__ import annotations

import numpy as np

_ONE = np.uint64(1)


def trailing_zeros(x: np.ndarray) -> np.ndarray:
    """Count of trailing zero bits of each uint64 (64 for zero); uint8 array."""
    x = np.asarray(x, dtype=np.uint64)
    lowest = x & (~x + _ONE)
    return np.bitwise_count(lowest - _ONE).astype(np.uint8)


def register_updates(hashes: np.ndarray, log2m: int, regwidth: int) -> tuple[np.ndarray, np.ndarray]:
    """(index, value) each hash sets: index = low log2m bits; value = 1 + trailing zeros of
    the remaining bits (0 if they are all zero), capped at 2**regwidth - 1. int64, uint8 arrays.
    """
    h = np.asarray(hashes).astype(np.int64, copy=False).view(np.uint64)
    index = (h & np.uint64((1 << log2m) - 1)).astype(np.int64)
    rest = h >> np.uint64(log2m)
    value = np.where(rest == 0, np.uint8(0), trailing_zeros(rest) + np.uint8(1))
    return index, np.minimum(value, (1 << regwidth) - 1).astype(np.uint8)


def max_into(registers: np.ndarray, index: np.ndarray, value: np.ndarray) -> None:
    """registers[index] = max(registers[index], value), in place, repeated indices allowed."""
    np.maximum.at(registers, index, value)
