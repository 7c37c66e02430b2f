"""MurmurHash3 x64-128 (first 64-bit half), as postgresql-hll's hll_hash_* functions use it.

PostgreSQL returns the first half reinterpreted as a signed int64. `hash_text` hashes the
UTF-8 bytes of a string with seed 0, exactly like `hll_hash_text(s)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import mmh3
import numpy as np

_C1 = np.uint64(0x87C37B91114253D5)
_C2 = np.uint64(0x4CF5AD432745937F)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_FIVE = np.uint64(5)
_N1 = np.uint64(0x52DCE729)
_N2 = np.uint64(0x38495AB5)
# _TAIL_MASK[n] keeps the n low-order bytes of a little-endian word.
_TAIL_MASK = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _fmix(k: np.ndarray) -> np.ndarray:
    k = k ^ (k >> np.uint64(33))
    k = k * _FMIX1
    k = k ^ (k >> np.uint64(33))
    k = k * _FMIX2
    return k ^ (k >> np.uint64(33))


def _mix_k1(k1: np.ndarray) -> np.ndarray:
    return _rotl(k1 * _C1, 31) * _C2


def _mix_k2(k2: np.ndarray) -> np.ndarray:
    return _rotl(k2 * _C2, 33) * _C1


def _le64_at_every_offset(buf: bytes) -> np.ndarray:
    """View of `buf` as little-endian uint64 starting at every byte offset; shape (len(buf) - 7,)."""
    return np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))


def _seed_u32(seed: int) -> int:
    # The C code takes a uint32_t seed: negative int32 seeds wrap around.
    if not -(2**31) <= seed < 2**32:
        raise ValueError(f"seed {seed} is outside the int32/uint32 range")
    return seed & 0xFFFFFFFF


def murmur3_x64_64_batch(keys: Sequence[bytes], seed: int = 0) -> np.ndarray:
    """First 64-bit half of MurmurHash3_x64_128 of each key, as signed int64; shape (len(keys),)."""
    n = len(keys)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    words = _le64_at_every_offset(b"".join(keys) + bytes(16))
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])

    s = np.uint64(_seed_u32(seed))
    h1 = np.full(n, s, dtype=np.uint64)
    h2 = np.full(n, s, dtype=np.uint64)
    nblocks = lengths // 16
    with np.errstate(over="ignore"):
        for b in range(int(nblocks.max())):
            rows = np.flatnonzero(nblocks > b)
            start = offsets[rows] + 16 * b
            k1 = words[start].astype(np.uint64)
            k2 = words[start + 8].astype(np.uint64)
            a1, a2 = h1[rows], h2[rows]
            a1 ^= _mix_k1(k1)
            a1 = (_rotl(a1, 27) + a2) * _FIVE + _N1
            a2 ^= _mix_k2(k2)
            a2 = (_rotl(a2, 31) + a1) * _FIVE + _N2
            h1[rows], h2[rows] = a1, a2

        # Tail: bytes past the key's end are masked to zero; mixing a zero word is a no-op,
        # which is why the C switch's fall-through needs no per-row branching here.
        tail_start = offsets + 16 * nblocks
        tail_len = lengths & 15
        k1 = words[tail_start].astype(np.uint64) & _TAIL_MASK[np.minimum(tail_len, 8)]
        k2 = words[tail_start + 8].astype(np.uint64) & _TAIL_MASK[np.maximum(tail_len - 8, 0)]
        h2 ^= _mix_k2(k2)
        h1 ^= _mix_k1(k1)

        ulen = lengths.astype(np.uint64)
        h1 ^= ulen
        h2 ^= ulen
        h1 += h2
        h2 += h1
        h1 = _fmix(h1)
        h2 = _fmix(h2)
        h1 += h2
    return h1.view(np.int64)


def murmur3_x64_64(key: bytes, seed: int = 0) -> int:
    """First 64-bit half of MurmurHash3_x64_128 of `key`, as a signed int64."""
    return mmh3.hash64(key, _seed_u32(seed), True, True)[0]


def hash_bytes(data: bytes, seed: int = 0) -> int:
    """== hll_hash_bytea(data, seed)."""
    return murmur3_x64_64(bytes(data), seed)


def hash_bigint(value: int, seed: int = 0) -> int:
    """== hll_hash_bigint(value, seed): the 8 little-endian bytes of the int64."""
    return murmur3_x64_64(int(value).to_bytes(8, "little", signed=True), seed)


def hash_integer(value: int, seed: int = 0) -> int:
    """== hll_hash_integer(value, seed): the 4 little-endian bytes of the int32."""
    return murmur3_x64_64(int(value).to_bytes(4, "little", signed=True), seed)


def hash_text(s: str, seed: int = 0) -> int:
    """== hll_hash_text(s, seed) in a UTF-8 database: signed int64."""
    return murmur3_x64_64(s.encode("utf-8"), seed)


def hash_texts(strings: Iterable[str], seed: int = 0) -> np.ndarray:
    """hll_hash_text of each string (UTF-8), vectorised; int64 array, shape (n,)."""
    try:
        keys = [s.encode("utf-8") for s in strings]
    except AttributeError:
        bad = next((i, s) for i, s in enumerate(strings) if not isinstance(s, str))
        raise TypeError(f"hash_texts takes str values; item {bad[0]} is {type(bad[1]).__name__}") from None
    return murmur3_x64_64_batch(keys, seed)
