"""postgresql-hll storage format, schema version 1: parse and write one value.

Layout: a 3-byte header (see params.Params.header), then
- EMPTY, UNDEFINED: nothing;
- EXPLICIT: the elements as big-endian int64, strictly ascending as signed integers;
- SPARSE: one (log2m + regwidth)-bit chunk per filled register, `index << regwidth | value`,
  packed MSB first, zero-padded to a whole byte (fewer than 8 padding bits). PostgreSQL
  reads back ⌊payload bits / chunk⌋ entries, so when log2m + regwidth < 8 a padding that
  holds a whole chunk is read as one more entry, "register 0 = 0" (see as_stored);
- FULL: every register as a regwidth-bit field, packed MSB first, zero-padded.
SPARSE and FULL are two encodings of the same in-memory register array; PostgreSQL picks
SPARSE when it is strictly smaller (or, after hll_set_max_sparse(n), when ≤ n registers
are filled), and only if sparseon = 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from resources.hll.errors import HLLFormatError
from resources.hll.params import (
    MAX_EXPLICIT,
    SCHEMA_VERSION,
    TYPE_EMPTY,
    TYPE_EXPLICIT,
    TYPE_FULL,
    TYPE_SPARSE,
    TYPE_UNDEFINED,
    Params,
    params_from_header,
)

HEADER_SIZE = 3
# Bit fields are read as big-endian 32-bit words, so the widest field is 32 - 7 bits.
_MAX_FIELD_BITS = 25
_HEX = re.compile(r"[0-9a-fA-F]*")


def be32_at_every_offset(padded: bytes | np.ndarray) -> np.ndarray:
    """View of `padded` (bytes or uint8 array) as big-endian uint32 starting at every byte offset;
    shape (len - 3,)."""
    size = padded.nbytes if isinstance(padded, np.ndarray) else len(padded)
    return np.ndarray(shape=(size - 3,), dtype=">u4", buffer=padded, strides=(1,))


def read_bitfields(words: np.ndarray, bit_offsets: np.ndarray, width: int) -> np.ndarray:
    """MSB-first `width`-bit fields at absolute bit offsets; uint32, shape of bit_offsets.

    `words` comes from be32_at_every_offset over a buffer with ≥ 4 bytes of padding.
    """
    assert 0 < width <= _MAX_FIELD_BITS
    word = words[bit_offsets >> 3].astype(np.uint32)
    shift = (32 - width - (bit_offsets & 7)).astype(np.uint32)
    return (word >> shift) & np.uint32((1 << width) - 1)


def pack_bitfields(values: np.ndarray, width: int) -> bytes:
    """Pack unsigned `values` as `width`-bit MSB-first fields, zero-padded to whole bytes."""
    v = np.asarray(values, dtype=np.uint32)
    bits = (v[:, None] >> np.arange(width - 1, -1, -1, dtype=np.uint32)) & np.uint32(1)
    return np.packbits(bits.astype(np.uint8).ravel()).tobytes()


def bytes_from_hex(text: str) -> bytes:
    """Bytes of PostgreSQL's bytea hex text: '\\x…' or bare hex digits, either case."""
    if not isinstance(text, str):
        raise HLLFormatError(f"hex text must be a str, got {type(text).__name__}")
    digits = text.strip()
    if digits[:2] in ("\\x", "\\X"):
        digits = digits[2:]
    if len(digits) % 2:
        raise HLLFormatError(f"odd number of hex digits ({len(digits)}) in {text[:40]!r}")
    if not _HEX.fullmatch(digits):
        raise HLLFormatError(f"not hexadecimal: {text[:40]!r}")
    return bytes.fromhex(digits)


@dataclass(frozen=True, slots=True)
class Decoded:
    """One parsed value: `elements` (int64, EXPLICIT) or `registers` (uint8, SPARSE/FULL)."""

    params: Params
    type_code: int
    elements: np.ndarray | None = None
    registers: np.ndarray | None = None


def parse(data: bytes | bytearray | memoryview) -> Decoded:
    """Parse stored bytes; raises HLLFormatError with PostgreSQL's reason when invalid."""
    data = bytes(data)
    if len(data) < 1:
        raise HLLFormatError("empty input: an hll value has a 3-byte header")
    version, type_code = data[0] >> 4, data[0] & 0x0F
    if version != SCHEMA_VERSION:
        raise HLLFormatError(f"unknown schema version {version} (only 1 exists)")
    if type_code > TYPE_FULL:
        raise HLLFormatError(f"undefined multiset type {type_code}")
    if len(data) < HEADER_SIZE:
        raise HLLFormatError(f"truncated header: {len(data)} of 3 bytes")
    params = params_from_header(data[1], data[2], type_code)
    payload = data[HEADER_SIZE:]

    if type_code in (TYPE_EMPTY, TYPE_UNDEFINED):
        if payload:
            kind = "empty" if type_code == TYPE_EMPTY else "undefined"
            raise HLLFormatError(f"inconsistently sized {kind} multiset: {len(data)} bytes")
        return Decoded(params, type_code)
    if type_code == TYPE_EXPLICIT:
        return Decoded(params, type_code, elements=_parse_explicit(payload))
    if type_code == TYPE_FULL:
        return Decoded(params, type_code, registers=_parse_full(payload, params))
    return Decoded(params, type_code, registers=_parse_sparse(payload, params))


def _parse_explicit(payload: bytes) -> np.ndarray:
    if len(payload) % 8:
        raise HLLFormatError(
            f"inconsistently sized explicit multiset: {len(payload)} payload bytes is not a multiple of 8"
        )
    if len(payload) // 8 > MAX_EXPLICIT:
        raise HLLFormatError(f"explicit multiset too large: {len(payload) // 8} > {MAX_EXPLICIT} elements")
    elements = np.frombuffer(payload, dtype=">i8").astype(np.int64)
    if elements.size > 1 and not np.all(elements[1:] > elements[:-1]):
        raise HLLFormatError("duplicate or descending explicit elements")
    return elements


def _parse_full(payload: bytes, params: Params) -> np.ndarray:
    expected = (params.regwidth * params.nregs + 7) // 8
    if len(payload) != expected:
        raise HLLFormatError(
            f"inconsistently sized compressed multiset: {len(payload)} payload bytes, expected {expected}"
        )
    words = be32_at_every_offset(payload + bytes(4))
    offsets = np.arange(params.nregs, dtype=np.int64) * params.regwidth
    return read_bitfields(words, offsets, params.regwidth).astype(np.uint8)


def _parse_sparse(payload: bytes, params: Params) -> np.ndarray:
    chunk = params.log2m + params.regwidth
    nbits = len(payload) * 8
    nfilled = nbits // chunk
    if nbits - nfilled * chunk >= 8:
        raise HLLFormatError(
            f"inconsistent padding in sparse hll: {len(payload)} payload bytes for {chunk}-bit entries"
        )
    fields = read_bitfields(
        be32_at_every_offset(payload + bytes(4)), np.arange(nfilled, dtype=np.int64) * chunk, chunk
    )
    index = (fields >> np.uint32(params.regwidth)).astype(np.int64)
    value = (fields & np.uint32(params.max_register)).astype(np.uint8)
    if index.size > 1 and not np.all(index[1:] > index[:-1]):
        # Non-canonical order: PostgreSQL assigns entries in turn (sparse_unpack), so the last
        # one wins. This includes the zero entries read from the padding (see as_stored).
        last = index.size - 1 - np.unique(index[::-1], return_index=True)[1]
        index, value = index[last], value[last]
    registers = np.zeros(params.nregs, dtype=np.uint8)
    registers[index] = value
    return registers


def uses_sparse(params: Params, nfilled: int, max_sparse: int = -1) -> bool:
    """Whether PostgreSQL writes a register array with `nfilled` non-zero registers as SPARSE."""
    if not params.sparseon:
        return False
    if max_sparse != -1:
        return nfilled <= max_sparse
    return nfilled * (params.log2m + params.regwidth) < params.nregs * params.regwidth


def padding_entries(params: Params, nfilled: int | np.ndarray, max_sparse: int = -1) -> np.ndarray:
    """Whole (log2m + regwidth)-bit entries that fit in the zero padding of the SPARSE value
    PostgreSQL writes for a register array with `nfilled` non-zero registers (0 if it writes FULL).

    `nfilled`: an int or an int array; returns int64 of the same shape (0-d for an int).
    Non-zero only when log2m + regwidth < 8: the padding (< 8 bits) can then hold a whole entry.
    """
    n = np.asarray(nfilled, dtype=np.int64)
    chunk = params.log2m + params.regwidth
    sparse = n <= max_sparse if max_sparse != -1 else n * chunk < params.nregs * params.regwidth
    return np.where(sparse & bool(params.sparseon), (-(n * chunk) % 8) // chunk, 0).astype(np.int64)


def as_stored(params: Params, registers: np.ndarray) -> np.ndarray:
    """The registers PostgreSQL reads back from the bytes it writes for `registers` (uint8,
    shape (nregs,)): multiset_pack, then multiset_unpack (src/hll.c of postgresql-hll).

    sparse_unpack reads ⌊payload bits / (log2m + regwidth)⌋ entries and assigns each one, so
    when the zero padding of a SPARSE value holds a whole entry (log2m + regwidth < 8) it
    reads "register 0 = 0" last and clears register 0. Returns `registers` itself when
    nothing changes, else a copy with register 0 cleared.
    """
    if params.log2m + params.regwidth >= 8 or registers[0] == 0:
        return registers
    if int(padding_entries(params, int(np.count_nonzero(registers)))) == 0:
        return registers
    cleared = registers.copy()
    cleared[0] = 0
    return cleared


def serialize_explicit(params: Params, elements: np.ndarray) -> bytes:
    """EXPLICIT bytes of signed-ascending unique int64 elements."""
    return params.header(TYPE_EXPLICIT) + np.asarray(elements, dtype=">i8").tobytes()


def serialize_registers(params: Params, registers: np.ndarray, max_sparse: int = -1) -> bytes:
    """SPARSE or FULL bytes of a register array (uint8, shape (nregs,)), as PostgreSQL chooses."""
    filled = np.flatnonzero(registers)
    if uses_sparse(params, filled.size, max_sparse):
        chunks = (filled.astype(np.uint32) << np.uint32(params.regwidth)) | registers[filled].astype(
            np.uint32
        )
        return params.header(TYPE_SPARSE) + pack_bitfields(chunks, params.log2m + params.regwidth)
    return params.header(TYPE_FULL) + pack_bitfields(registers, params.regwidth)
