"""HLL: one postgresql-hll value, with PostgreSQL's add, union, storage and cardinality rules.

In memory a value is EMPTY, EXPLICIT (a sorted set of int64 hashes), a register array, or
UNDEFINED. EXPLICIT turns into registers when a new element would exceed the explicit
threshold (expthresh; -1 = as many as fit in the size of the full register array; 0 = never
explicit). A register array is written as SPARSE or FULL, whichever PostgreSQL would pick.

An HLL object stands for one SQL value of type hll, i.e. its stored bytes (src/hll.c of
postgresql-hll):
- hll_in keeps the bytes it reads, and hll_out prints them: a value read by from_bytes /
  from_hex prints exactly as read (FULL stays FULL, any header bit stays) until it changes;
- every SQL function (hll_add, hll_union) unpacks its arguments (multiset_unpack), works in
  memory, and packs the result (multiset_pack); so do the aggregates, once at the end
  (hll_add_agg, hll_union_agg: finalfunc hll_pack);
- hll_eq compares the stored bytes (length, then memcmp), so two values equal as register
  arrays but stored as SPARSE and FULL differ.
Packing and unpacking lose nothing, except for one quirk of the extension reproduced here:
when log2m + regwidth < 8, the zero padding of a SPARSE value can hold a whole entry, which
sparse_unpack reads back as "register 0 = 0" and so clears register 0 (storage.as_stored).
Hence `HLL.empty(4, 1, 0, 1).add(16).add(24)` prints \\x1304400c40 (registers 0 and 8) but
its cardinality is 1.0326163382011386 (register 8 only), as in PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from resources.hll import storage
from resources.hll.errors import HLLError, HLLFormatError, HLLParameterMismatch
from resources.hll.estimator import cardinality_of_registers
from resources.hll.params import (
    TYPE_EMPTY,
    TYPE_EXPLICIT,
    TYPE_FULL,
    TYPE_NAMES,
    TYPE_SPARSE,
    TYPE_UNDEFINED,
    Params,
    checked_params,
)
from resources.hll.registers import max_into, register_updates

_EMPTY, _EXPLICIT, _REGISTERS, _UNDEFINED = "EMPTY", "EXPLICIT", "REGISTERS", "UNDEFINED"
_NO_ELEMENTS = np.empty(0, dtype=np.int64)


class HLL:
    """A postgresql-hll value. `add` changes the value in place; `union` returns a new one."""

    # _state/_elements/_registers: the multiset in memory. With _raw set (a value as read),
    # they are what multiset_unpack gives for _raw, and _raw is what the value prints.
    # Otherwise they are the result of the last operation before multiset_pack: to_bytes
    # packs them, and the value seen by later operations is as_stored(_registers).
    __slots__ = ("_elements", "_params", "_raw", "_registers", "_state")

    def __init__(
        self,
        params: Params,
        state: str,
        elements: np.ndarray | None = None,
        registers: np.ndarray | None = None,
        raw: bytes | None = None,
    ):
        self._params = params
        self._state = state
        self._elements = _NO_ELEMENTS if elements is None else elements
        self._registers = registers
        self._raw = raw

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def empty(cls, log2m: int = 11, regwidth: int = 5, expthresh: int = 0, sparseon: int = 1) -> HLL:
        """== hll_empty(log2m, regwidth, expthresh, sparseon); defaults = hll_set_defaults(11, 5, 0, 1)."""
        return cls(checked_params(log2m, regwidth, expthresh, sparseon), _EMPTY)

    @classmethod
    def undefined(cls, log2m: int = 11, regwidth: int = 5, expthresh: int = 0, sparseon: int = 1) -> HLL:
        """An UNDEFINED value (its cardinality is SQL NULL; any union with it is UNDEFINED)."""
        return cls(checked_params(log2m, regwidth, expthresh, sparseon), _UNDEFINED)

    @classmethod
    def from_hashes(
        cls, hashes: np.ndarray, log2m: int = 11, regwidth: int = 5, expthresh: int = 0, sparseon: int = 1
    ) -> HLL:
        """== hll_add_agg(hash, log2m, regwidth, expthresh, sparseon) over int64 `hashes`, shape (n,).

        The aggregate adds every hash in memory and packs once at the end, so with
        log2m + regwidth < 8 it can differ from a chain of hll_add calls (see add_many).
        An empty input gives EMPTY (PostgreSQL's aggregate returns NULL over no rows).
        """
        value = cls.empty(log2m, regwidth, expthresh, sparseon)
        value._add_in_memory(_as_hashes(hashes))
        return value

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> HLL:
        """Parse stored bytes (bytes, bytearray or memoryview), as hll_in does; raises HLLFormatError.

        The value keeps the bytes: to_bytes() returns them unchanged until the value changes.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise HLLFormatError(
                f"hll bytes must be bytes, bytearray or memoryview, got {type(data).__name__}"
            )
        raw = bytes(data)
        d = storage.parse(raw)
        if d.type_code == TYPE_EMPTY:
            return cls(d.params, _EMPTY, raw=raw)
        if d.type_code == TYPE_UNDEFINED:
            return cls(d.params, _UNDEFINED, raw=raw)
        if d.type_code == TYPE_EXPLICIT:
            return cls(d.params, _EXPLICIT, elements=d.elements, raw=raw)
        return cls(d.params, _REGISTERS, registers=d.registers, raw=raw)

    @classmethod
    def from_hex(cls, text: str) -> HLL:
        """Parse PostgreSQL's text form '\\x…' (or bare hex digits); to_hex() gives it back
        (in lowercase, with the '\\x' prefix). Raises HLLFormatError."""
        return cls.from_bytes(storage.bytes_from_hex(text))

    def copy(self) -> HLL:
        """An independent copy (same stored bytes)."""
        regs = None if self._registers is None else self._registers.copy()
        return HLL(self._params, self._state, self._elements.copy(), regs, self._raw)

    # ---- parameters and state -----------------------------------------------------------

    @property
    def log2m(self) -> int:
        return self._params.log2m

    @property
    def regwidth(self) -> int:
        return self._params.regwidth

    @property
    def expthresh(self) -> int:
        """As declared: -1 (auto), 0, or a power of two (hll_expthresh's first column)."""
        return self._params.expthresh

    @property
    def sparseon(self) -> int:
        return self._params.sparseon

    @property
    def params(self) -> Params:
        return self._params

    @property
    def type(self) -> str:
        """Storage type PostgreSQL writes for this value: EMPTY, EXPLICIT, SPARSE, FULL or UNDEFINED."""
        return TYPE_NAMES[self._type_code()]

    def _type_code(self, max_sparse: int = -1) -> int:
        if self._raw is not None:
            return self._raw[0] & 0x0F
        if self._state == _REGISTERS:
            nfilled = int(np.count_nonzero(self._regs()))
            return TYPE_SPARSE if storage.uses_sparse(self._params, nfilled, max_sparse) else TYPE_FULL
        return {_EMPTY: TYPE_EMPTY, _EXPLICIT: TYPE_EXPLICIT, _UNDEFINED: TYPE_UNDEFINED}[self._state]

    @property
    def elements(self) -> np.ndarray:
        """Explicit elements (int64, signed ascending); empty unless type is EXPLICIT."""
        return self._elements.copy()

    def registers(self) -> np.ndarray:
        """The register array (uint8, shape (2**log2m,)) this value has or would have, as
        PostgreSQL unpacks it from the stored bytes (register 0 cleared by the padding quirk)."""
        if self._state == _REGISTERS:
            return self._stored_registers().copy()
        regs = np.zeros(self._params.nregs, dtype=np.uint8)
        if self._state == _EXPLICIT:
            max_into(regs, *register_updates(self._elements, self.log2m, self.regwidth))
        return regs

    # ---- add ----------------------------------------------------------------------------

    def add(self, hash_value: int) -> HLL:
        """== hll_add(self, hash): add one 64-bit hash, in place; returns self.

        Unsigned values are read as int64; raises ValueError outside 64 bits. The value is
        repacked even when no register changes, as hll_add does.
        """
        v = int(hash_value)
        if not -(1 << 63) <= v < 1 << 64:
            raise ValueError(f"hash {v} does not fit in 64 bits")
        self._settle()
        self._add_in_memory(np.array([v - (1 << 64) if v >= 1 << 63 else v], dtype=np.int64))
        return self

    def add_many(self, hashes: np.ndarray) -> HLL:
        """== hll_add(…hll_add(self, h[0])…, h[n-1]): add int64 hashes, shape (n,), one
        hll_add call after another, in place; returns self (unchanged for n = 0).

        Each call packs its result, so with log2m + regwidth < 8 the padding quirk (see the
        module docstring) can clear register 0 between two hashes; those values go one hash
        at a time, the others in one vectorised step with the same result.
        """
        h = _as_hashes(hashes)
        if h.size == 0:
            return self
        if self._params.log2m + self._params.regwidth < 8:
            for i in range(h.size):
                self._settle()
                self._add_in_memory(h[i : i + 1])
            return self
        self._settle()
        self._add_in_memory(h)
        return self

    def _settle(self) -> None:
        """Become the multiset the next SQL function unpacks from this value's stored bytes."""
        if self._state == _REGISTERS:
            self._registers = self._stored_registers()
        self._raw = None

    def _regs(self) -> np.ndarray:
        """The register array in memory (only for REGISTERS)."""
        if self._registers is None:
            raise AssertionError(f"{self._state} value has no register array")
        return self._registers

    def _stored_registers(self) -> np.ndarray:
        """The register array as unpacked from the stored bytes (only for REGISTERS)."""
        if self._raw is not None:
            return self._regs()
        return storage.as_stored(self._params, self._regs())

    def _add_in_memory(self, h: np.ndarray) -> None:
        """multiset_add of each hash in turn, without packing in between (h: int64, shape (n,))."""
        if h.size == 0 or self._state == _UNDEFINED:
            return
        limit = self._params.explicit_limit
        if self._state == _EMPTY and limit == 0:
            self._to_registers()
        if self._state == _REGISTERS:
            max_into(self._regs(), *register_updates(h, self.log2m, self.regwidth))
            return
        self._merge_explicit(np.unique(h))

    def _merge_explicit(self, new: np.ndarray) -> None:
        """Union sorted unique elements into an EMPTY/EXPLICIT value, promoting as PostgreSQL does.

        PostgreSQL promotes when an element not yet present arrives while the set already holds
        `explicit_limit` elements, so the result stays explicit iff nothing new arrived or the
        union fits the limit.
        """
        merged = np.union1d(self._elements, new)
        grew = merged.size > self._elements.size
        self._state, self._elements = _EXPLICIT, merged
        if grew and merged.size > self._params.explicit_limit:
            self._to_registers()

    def _to_registers(self) -> None:
        regs = np.zeros(self._params.nregs, dtype=np.uint8)
        if self._elements.size:
            max_into(regs, *register_updates(self._elements, self.log2m, self.regwidth))
        self._state, self._elements, self._registers = _REGISTERS, _NO_ELEMENTS, regs

    # ---- union --------------------------------------------------------------------------

    def union(self, other: HLL) -> HLL:
        """== hll_union(self, other): a new value, packed anew even if equal to an argument;
        raises HLLParameterMismatch if parameters differ, TypeError if other is no HLL."""
        if not isinstance(other, HLL):
            raise TypeError(f"can only union an HLL with an HLL, not {type(other).__name__}")
        _check_same_params(self._params, other._params)
        result = self.copy()
        result._settle()
        result._union_in_place(other)
        return result

    def _union_in_place(self, other: HLL) -> None:
        """multiset_union of other's unpacked multiset into this (settled) one."""
        if self._state == _UNDEFINED or other._state == _UNDEFINED:
            self._state, self._elements, self._registers = _UNDEFINED, _NO_ELEMENTS, None
        elif other._state == _EMPTY:
            pass
        elif self._state == _EMPTY:
            # PostgreSQL copies the other value as it is, explicit limit or not.
            regs = other._stored_registers().copy() if other._state == _REGISTERS else None
            self._state, self._elements, self._registers = other._state, other._elements.copy(), regs
        elif self._state == _EXPLICIT and other._state == _EXPLICIT:
            self._merge_explicit(other._elements)
        else:
            if self._state == _EXPLICIT:
                self._to_registers()
            if other._state == _EXPLICIT:
                max_into(self._regs(), *register_updates(other._elements, self.log2m, self.regwidth))
            else:
                regs = self._regs()
                np.maximum(regs, other._stored_registers(), out=regs)

    @classmethod
    def union_all(cls, values: Iterable[HLL | None]) -> HLL:
        """== hll_union_agg over `values` (None is skipped like SQL NULL), as a new value.

        Each value is unpacked and unioned in memory; the result is packed once, at the end.
        Raises HLLParameterMismatch if parameters differ and ValueError if there is no value.
        """
        items = [v for v in values if v is not None]
        if not items:
            raise ValueError("union_all needs at least one HLL (hll_union_agg over no rows is NULL)")
        params = items[0]._params
        for v in items:
            if not isinstance(v, HLL):
                raise TypeError(f"union_all takes HLL values, got {type(v).__name__}")
            _check_same_params(params, v._params)
        if any(v._state == _UNDEFINED for v in items):
            return cls(params, _UNDEFINED)
        filled = [v for v in items if v._state != _EMPTY]
        if not filled:
            return cls(params, _EMPTY)
        explicit = [v._elements for v in filled if v._state == _EXPLICIT]
        register_sets = [v._stored_registers() for v in filled if v._state == _REGISTERS]
        if register_sets:
            regs = np.maximum.reduce(register_sets) if len(register_sets) > 1 else register_sets[0].copy()
            if explicit:
                max_into(regs, *register_updates(np.concatenate(explicit), params.log2m, params.regwidth))
            return cls(params, _REGISTERS, registers=regs)
        # Only explicit sets: the first is copied whole, then each union promotes as in
        # _merge_explicit, so the result is explicit iff it fits max(limit, size of the first).
        merged = np.unique(np.concatenate(explicit))
        if merged.size <= max(params.explicit_limit, explicit[0].size):
            return cls(params, _EXPLICIT, elements=merged)
        result = cls(params, _EXPLICIT, elements=merged)
        result._to_registers()
        return result

    # ---- storage and cardinality --------------------------------------------------------

    def to_bytes(self, max_sparse: int = -1) -> bytes:
        """Bytes PostgreSQL stores for this value.

        A value read by from_bytes/from_hex and not changed since gives back exactly the bytes
        read, whatever `max_sparse` (hll_out prints what hll_in kept). Otherwise the bytes of
        multiset_pack for the last operation's result, with `max_sparse` standing for
        hll_set_max_sparse in force at that step (-1 = auto: SPARSE iff strictly smaller).
        Operations in between unpack the default (-1) packing. Raises ValueError for
        max_sparse < -1.
        """
        if max_sparse < -1:
            raise ValueError(f"max_sparse must be -1 or ≥ 0, got {max_sparse}")
        if self._raw is not None:
            return self._raw
        if self._state == _EMPTY:
            return self._params.header(TYPE_EMPTY)
        if self._state == _UNDEFINED:
            return self._params.header(TYPE_UNDEFINED)
        if self._state == _EXPLICIT:
            return storage.serialize_explicit(self._params, self._elements)
        return storage.serialize_registers(self._params, self._regs(), max_sparse)

    def to_hex(self, max_sparse: int = -1) -> str:
        """Text PostgreSQL prints for this value: '\\x' and lowercase hex (see to_bytes)."""
        return "\\x" + self.to_bytes(max_sparse).hex()

    def cardinality(self) -> float:
        """== hll_cardinality, the same double bit for bit; NaN where PostgreSQL returns NULL (UNDEFINED).

        Computed on the registers unpacked from the stored bytes, so the padding quirk of
        log2m + regwidth < 8 applies. Raises HLLError for registers with 2**log2m ≤ 8.
        """
        if self._state == _EMPTY:
            return 0.0
        if self._state == _UNDEFINED:
            return math.nan
        if self._state == _EXPLICIT:
            return float(self._elements.size)
        return cardinality_of_registers(self._stored_registers(), self.log2m, self.regwidth)

    def __eq__(self, other: object) -> bool:
        """== hll_eq (the `=` operator): the stored bytes are identical (size, then memcmp)."""
        return isinstance(other, HLL) and self.to_bytes() == other.to_bytes()

    # No __hash__: defining __eq__ leaves it None, as a value that add() changes in place needs.

    def __repr__(self) -> str:
        p = self._params
        return (
            f"HLL(type={self.type}, log2m={p.log2m}, regwidth={p.regwidth}, "
            f"expthresh={p.expthresh}, sparseon={p.sparseon})"
        )


def _check_same_params(dest: Params, source: Params) -> None:
    message = dest.mismatch(source)
    if message:
        raise HLLParameterMismatch(message)


def _as_hashes(hashes: np.ndarray) -> np.ndarray:
    h = np.asarray(hashes)
    if h.ndim != 1:
        h = h.reshape(-1)
    if h.dtype == np.uint64:
        return h.view(np.int64)
    if h.size and not np.issubdtype(h.dtype, np.integer):
        raise HLLError(f"hashes must be int64, got dtype {h.dtype}")
    if h.dtype != np.int64:
        if h.size and (h.min() < -(2**63) or h.max() >= 2**63):
            raise HLLError("hashes must fit in int64")
        h = h.astype(np.int64)
    return h
