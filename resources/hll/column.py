"""Decode a whole column of stored HLL values at once into flat NumPy arrays.

Canonical values (what PostgreSQL writes) are decoded without a Python loop per value;
anything unusual (errors, non-canonical sparse order) goes through the one-value parser,
so the results and error messages are the same as storage.parse gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from resources.hll import storage
from resources.hll.column_input import RowError, column_buffer
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

KIND_NULL, KIND_UNDEFINED, KIND_EMPTY, KIND_EXPLICIT, KIND_REGISTERS = -1, 0, 1, 2, 3
# Bits unpacked at once while decoding FULL values (bounds memory to a few tens of MB).
_FULL_BITS_PER_BATCH = 1 << 22
# Sparse entries decoded at once.
_ENTRIES_PER_BATCH = 1 << 21


@dataclass(frozen=True)
class DecodedColumn:
    """Per row: `kind` (KIND_*), `param_id` (index into `params`, -1 for NULL).

    Non-zero registers as (reg_row, reg_index, reg_value) triples, each (row, index) once;
    explicit elements as (exp_row, exp_value) pairs, ascending per row; `exp_count` per row.
    """

    kind: np.ndarray
    param_id: np.ndarray
    params: list[Params]
    reg_row: np.ndarray
    reg_index: np.ndarray
    reg_value: np.ndarray
    exp_row: np.ndarray
    exp_value: np.ndarray
    exp_count: np.ndarray

    @property
    def n_rows(self) -> int:
        return self.kind.size


def decode_column(
    values: Sequence[object], labels: Sequence[object] | None = None, name: str = "hll"
) -> DecodedColumn:
    """Decode stored values (bytes, '\\x…' hex, or None/NaN for NULL), shape (n,).

    Raises HLLFormatError naming the column and the row (its label, or its position).
    """
    try:
        buffer, offsets, lengths, is_null = column_buffer(list(values))
        return _decode(buffer, offsets, lengths, is_null)
    except RowError as e:
        label = labels[e.row] if labels is not None else e.row
        raise HLLFormatError(f"{name} at row {label}: {e.error}") from None


def decode_buffer(buffer: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> DecodedColumn:
    """Decode stored values lying in ``buffer`` (uint8, ending in column_input.PADDING zero bytes),
    value i at ``buffer[offsets[i] : offsets[i] + lengths[i]]``; offsets, lengths int64, shape (n,).

    No NULLs. Raises HLLFormatError naming the value's position i, as decode_column does
    without labels.
    """
    try:
        return _decode(buffer, offsets, lengths, np.zeros(lengths.size, dtype=bool))
    except RowError as e:
        raise HLLFormatError(f"hll at row {e.row}: {e.error}") from None


class _Rows:
    """Access to each row's bytes inside the joined buffer, for the one-value parser."""

    def __init__(self, buffer: bytes | np.ndarray, offsets: np.ndarray, lengths: np.ndarray):
        self.buffer, self.offsets, self.lengths = buffer, offsets, lengths
        self.size = buffer.nbytes if isinstance(buffer, np.ndarray) else len(buffer)

    def __getitem__(self, i: int | np.integer) -> bytes:
        o = int(self.offsets[i])
        return bytes(self.buffer[o : o + int(self.lengths[i])])


def _fail(row: int | np.integer, blobs: _Rows) -> None:
    """Raise the one-value parser's error for this row (it must fail)."""
    try:
        storage.parse(blobs[row])
    except HLLFormatError as e:
        raise RowError(int(row), e) from None
    raise AssertionError(f"row {row} was rejected in bulk but parses alone")  # pragma: no cover


def _decode(
    buffer: bytes | np.ndarray, offsets: np.ndarray, lengths: np.ndarray, is_null: np.ndarray
) -> DecodedColumn:
    """Decode rows stored at `offsets` in `buffer` (bytes or uint8 array, then 8 zero bytes)."""
    n = lengths.size
    blobs = _Rows(buffer, offsets, lengths)
    raw = np.frombuffer(buffer, dtype=np.uint8)

    present = ~is_null
    for i in np.flatnonzero(present & (lengths < storage.HEADER_SIZE))[:1]:
        _fail(i, blobs)
    safe = np.where(present, offsets, 0)
    b0, b1, b2 = raw[safe], raw[safe + 1], raw[safe + 2]
    type_code = (b0 & 0x0F).astype(np.int8)
    for i in np.flatnonzero(present & (((b0 >> 4) != SCHEMA_VERSION) | (type_code > TYPE_FULL)))[:1]:
        _fail(i, blobs)

    # Parameters: one check per distinct header (and per EMPTY/EXPLICIT vs other types).
    strict = (type_code == TYPE_EMPTY) | (type_code == TYPE_EXPLICIT)
    combo = (((b1.astype(np.int32) << 8) | (b2 & 0x7F).astype(np.int32)) << 1) | strict
    param_id = np.full(n, -1, dtype=np.int32)
    params: list[Params] = []
    index_of: dict[Params, int] = {}
    rows_present = np.flatnonzero(present)
    uniq, first, inverse = np.unique(combo[rows_present], return_index=True, return_inverse=True)
    local_ids = np.empty(uniq.size, dtype=np.int32)
    for u, f in enumerate(first.tolist()):
        row = int(rows_present[f])
        try:
            p = params_from_header(int(b1[row]), int(b2[row]), int(type_code[row]))
        except HLLFormatError as e:
            raise RowError(row, e) from None
        local_ids[u] = index_of.setdefault(p, len(index_of))
        if local_ids[u] == len(params):
            params.append(p)
    param_id[rows_present] = local_ids[inverse.ravel()]

    kind = np.full(n, KIND_NULL, dtype=np.int8)
    kind[present & (type_code == TYPE_UNDEFINED)] = KIND_UNDEFINED
    kind[present & (type_code == TYPE_EMPTY)] = KIND_EMPTY
    kind[present & (type_code == TYPE_EXPLICIT)] = KIND_EXPLICIT
    kind[present & ((type_code == TYPE_SPARSE) | (type_code == TYPE_FULL))] = KIND_REGISTERS

    headerless = present & ((type_code == TYPE_UNDEFINED) | (type_code == TYPE_EMPTY))
    for i in np.flatnonzero(headerless & (lengths != storage.HEADER_SIZE))[:1]:
        _fail(i, blobs)

    exp_row, exp_value, exp_count = _explicit(blobs, present & (type_code == TYPE_EXPLICIT))
    regs = [_empty_triples()]
    for pid, p in enumerate(params):
        of_params = present & (param_id == pid)
        regs.append(_sparse(blobs, of_params & (type_code == TYPE_SPARSE), p))
        regs.append(_full(blobs, of_params & (type_code == TYPE_FULL), p, raw))
    reg_row, reg_index, reg_value = (np.concatenate(parts) for parts in zip(*regs))
    return DecodedColumn(kind, param_id, params, reg_row, reg_index, reg_value, exp_row, exp_value, exp_count)


def _empty_triples() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.uint8)


def _concatenated(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, indexes, values) triples of several batches joined into one triple."""
    rows, index, value = (np.concatenate(x) for x in zip(*parts))
    return rows, index, value


def _entries(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For `counts[i]` entries of each row: (row of each entry int32, its position within the row)."""
    entry_row = np.repeat(rows.astype(np.int32), counts)
    within = np.arange(entry_row.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return entry_row, within


def _explicit(blobs: _Rows, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    exp_count = np.zeros(mask.size, dtype=np.int64)
    rows = np.flatnonzero(mask)
    payload = blobs.lengths[rows] - storage.HEADER_SIZE
    for i in rows[(payload % 8 != 0) | (payload // 8 > MAX_EXPLICIT)][:1]:
        _fail(i, blobs)
    counts = payload // 8
    exp_count[rows] = counts
    exp_row, within = _entries(rows, counts)
    words = np.ndarray(shape=(blobs.size - 7,), dtype=">i8", buffer=blobs.buffer, strides=(1,))
    starts = blobs.offsets[exp_row] + storage.HEADER_SIZE
    exp_value = words[starts + 8 * within].astype(np.int64)
    same_row = exp_row[1:] == exp_row[:-1]
    for i in exp_row[1:][same_row & (exp_value[1:] <= exp_value[:-1])][:1]:
        _fail(i, blobs)
    return exp_row, exp_value, exp_count


def _row_batches(counts: np.ndarray, per_batch: int) -> list[slice]:
    """Consecutive slices of rows holding about `per_batch` entries each (at least one row)."""
    ends = np.searchsorted(
        np.cumsum(counts), np.arange(per_batch, counts.sum() + per_batch, per_batch), side="right"
    )
    bounds = np.unique(np.concatenate([[0], np.maximum(ends, 1), [counts.size]]).clip(0, counts.size))
    return [slice(a, b) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


def _sparse(blobs: _Rows, mask: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return _empty_triples()
    chunk = p.log2m + p.regwidth
    nbits = (blobs.lengths[rows] - storage.HEADER_SIZE) * 8
    counts = nbits // chunk
    for i in rows[nbits - counts * chunk >= 8][:1]:
        _fail(i, blobs)
    words = storage.be32_at_every_offset(blobs.buffer)
    # Batches keep the int64 temporaries of bit positions small.
    parts = [_empty_triples()]
    for part in _row_batches(counts, _ENTRIES_PER_BATCH):
        parts.append(_sparse_batch(blobs, words, rows[part], counts[part], p))
    return _concatenated(parts)


def _sparse_batch(
    blobs: _Rows, words: np.ndarray, rows: np.ndarray, counts: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    chunk = p.log2m + p.regwidth
    row, within = _entries(rows, counts)
    bit_pos = (blobs.offsets[row] + storage.HEADER_SIZE) * 8 + within * chunk
    del within
    fields = storage.read_bitfields(words, bit_pos, chunk)
    del bit_pos
    index = (fields >> np.uint32(p.regwidth)).astype(np.int32)
    value = (fields & np.uint32(p.max_register)).astype(np.uint8)
    del fields

    # PostgreSQL writes registers in ascending order; any other order means "last entry
    # wins", which the one-value parser resolves.
    disordered = np.unique(row[1:][(row[1:] == row[:-1]) & (index[1:] <= index[:-1])])
    if disordered.size:
        keep = ~np.isin(row, disordered)
        row, index, value = row[keep], index[keep], value[keep]
        extra = [_triples_of(int(r), _registers_of(blobs[r])) for r in disordered]
        row, index, value = (
            np.concatenate([a, *parts]) for a, parts in zip((row, index, value), zip(*extra))
        )
    nonzero = value > 0
    return row[nonzero], index[nonzero], value[nonzero]


def _registers_of(data: bytes) -> np.ndarray:
    """The registers of one SPARSE or FULL value, by the one-value parser."""
    registers = storage.parse(data).registers
    if registers is None:
        raise AssertionError("a SPARSE or FULL value was parsed without registers")
    return registers


def _triples_of(row: int, registers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = np.flatnonzero(registers).astype(np.int32)
    return np.full(index.size, row, dtype=np.int32), index, registers[index]


def _full(
    blobs: _Rows, mask: np.ndarray, p: Params, raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return _empty_triples()
    expected = (p.regwidth * p.nregs + 7) // 8
    for i in rows[blobs.lengths[rows] - storage.HEADER_SIZE != expected][:1]:
        _fail(i, blobs)
    parts = [_empty_triples()]
    per_batch = max(1, _FULL_BITS_PER_BATCH // (expected * 8))
    weights = (1 << np.arange(p.regwidth - 1, -1, -1)).astype(np.uint8)
    for lo in range(0, rows.size, per_batch):
        batch = rows[lo : lo + per_batch]
        payload = raw[(blobs.offsets[batch] + storage.HEADER_SIZE)[:, None] + np.arange(expected)]
        bits = np.unpackbits(payload, axis=1)[:, : p.regwidth * p.nregs].reshape(
            batch.size, p.nregs, p.regwidth
        )
        registers = (bits * weights).sum(axis=2, dtype=np.uint8)
        r, idx = np.nonzero(registers)
        parts.append((batch[r].astype(np.int32), idx.astype(np.int32), registers[r, idx]))
    return _concatenated(parts)
