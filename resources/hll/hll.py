"""HLL: one postgresql-hll value, with PostgreSQL's add, union, storage and cardinality rules.

In memory a value is EMPTY, EXPLICIT (a sorted set of int64 hashes), a register array, or
UNDEFINED. EXPLICIT turns into registers when a new element would exceed the explicit
threshold (expthresh; -1 = as many as fit in the size of the full register array; 0 = never
explicit). A register array is written as SPARSE or FULL, whichever PostgreSQL would pick.
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

    __slots__ = ("_elements", "_params", "_registers", "_state")

    def __init__(
        self,
        params: Params,
        state: str,
        elements: np.ndarray | None = None,
        registers: np.ndarray | None = None,
    ):
        self._params = params
        self._state = state
        self._elements = _NO_ELEMENTS if elements is None else elements
        self._registers = registers

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

        An empty input gives EMPTY (PostgreSQL's aggregate returns NULL over no rows).
        """
        return cls.empty(log2m, regwidth, expthresh, sparseon).add_many(hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> HLL:
        """Parse stored bytes (bytes, bytearray or memoryview); raises HLLFormatError."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise HLLFormatError(
                f"hll bytes must be bytes, bytearray or memoryview, got {type(data).__name__}"
            )
        d = storage.parse(data)
        if d.type_code == TYPE_EMPTY:
            return cls(d.params, _EMPTY)
        if d.type_code == TYPE_UNDEFINED:
            return cls(d.params, _UNDEFINED)
        if d.type_code == TYPE_EXPLICIT:
            return cls(d.params, _EXPLICIT, elements=d.elements)
        return cls(d.params, _REGISTERS, registers=d.registers)

    @classmethod
    def from_hex(cls, text: str) -> HLL:
        """Parse PostgreSQL's text form '\\x…' (or bare hex digits)."""
        return cls.from_bytes(storage.bytes_from_hex(text))

    def copy(self) -> HLL:
        regs = None if self._registers is None else self._registers.copy()
        return HLL(self._params, self._state, self._elements.copy(), regs)

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
        if self._state == _REGISTERS:
            nfilled = int(np.count_nonzero(self._registers))
            return TYPE_SPARSE if storage.uses_sparse(self._params, nfilled, max_sparse) else TYPE_FULL
        return {_EMPTY: TYPE_EMPTY, _EXPLICIT: TYPE_EXPLICIT, _UNDEFINED: TYPE_UNDEFINED}[self._state]

    @property
    def elements(self) -> np.ndarray:
        """Explicit elements (int64, signed ascending); empty unless type is EXPLICIT."""
        return self._elements.copy()

    def registers(self) -> np.ndarray:
        """The register array (uint8, shape (2**log2m,)) this value has or would have."""
        if self._state == _REGISTERS:
            return self._registers.copy()
        regs = np.zeros(self._params.nregs, dtype=np.uint8)
        if self._state == _EXPLICIT:
            max_into(regs, *register_updates(self._elements, self.log2m, self.regwidth))
        return regs

    # ---- add ----------------------------------------------------------------------------

    def add(self, hash_value: int) -> HLL:
        """Add one 64-bit hash (hll_add), in place; returns self. Unsigned values are read as int64."""
        v = int(hash_value)
        if not -(1 << 63) <= v < 1 << 64:
            raise ValueError(f"hash {v} does not fit in 64 bits")
        return self.add_many(np.array([v - (1 << 64) if v >= 1 << 63 else v], dtype=np.int64))

    def add_many(self, hashes: np.ndarray) -> HLL:
        """Add int64 hashes, shape (n,), in place, with the result of adding them one by one; returns self."""
        h = _as_hashes(hashes)
        if h.size == 0 or self._state == _UNDEFINED:
            return self
        limit = self._params.explicit_limit
        if self._state == _EMPTY and limit == 0:
            self._to_registers()
        if self._state == _REGISTERS:
            max_into(self._registers, *register_updates(h, self.log2m, self.regwidth))
            return self
        self._merge_explicit(np.unique(h))
        return self

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
        """== hll_union(self, other): a new value; HLLParameterMismatch if parameters differ."""
        if not isinstance(other, HLL):
            raise TypeError(f"can only union an HLL with an HLL, not {type(other).__name__}")
        _check_same_params(self._params, other._params)
        result = self.copy()
        result._union_in_place(other)
        return result

    def _union_in_place(self, other: HLL) -> None:
        if self._state == _UNDEFINED or other._state == _UNDEFINED:
            self._state, self._elements, self._registers = _UNDEFINED, _NO_ELEMENTS, None
        elif other._state == _EMPTY:
            pass
        elif self._state == _EMPTY:
            # PostgreSQL copies the other value as it is, explicit limit or not.
            copied = other.copy()
            self._state, self._elements, self._registers = copied._state, copied._elements, copied._registers
        elif self._state == _EXPLICIT and other._state == _EXPLICIT:
            self._merge_explicit(other._elements)
        else:
            if self._state == _EXPLICIT:
                self._to_registers()
            if other._state == _EXPLICIT:
                max_into(self._registers, *register_updates(other._elements, self.log2m, self.regwidth))
            else:
                np.maximum(self._registers, other._registers, out=self._registers)

    @classmethod
    def union_all(cls, values: Iterable[HLL | None]) -> HLL:
        """== hll_union_agg over `values` (None is skipped like SQL NULL), as a new value.

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
        register_sets = [v._registers for v in filled if v._state == _REGISTERS]
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
        """Bytes PostgreSQL stores for this value; `max_sparse` mirrors hll_set_max_sparse (-1 = auto)."""
        if max_sparse < -1:
            raise ValueError(f"max_sparse must be -1 or ≥ 0, got {max_sparse}")
        if self._state == _EMPTY:
            return self._params.header(TYPE_EMPTY)
        if self._state == _UNDEFINED:
            return self._params.header(TYPE_UNDEFINED)
        if self._state == _EXPLICIT:
            return storage.serialize_explicit(self._params, self._elements)
        return storage.serialize_registers(self._params, self._registers, max_sparse)

    def to_hex(self, max_sparse: int = -1) -> str:
        """Text PostgreSQL prints for this value: '\\x' and lowercase hex."""
        return "\\x" + self.to_bytes(max_sparse).hex()

    def cardinality(self) -> float:
        """== hll_cardinality, the same double bit for bit; NaN where PostgreSQL returns NULL (UNDEFINED)."""
        if self._state == _EMPTY:
            return 0.0
        if self._state == _UNDEFINED:
            return math.nan
        if self._state == _EXPLICIT:
            return float(self._elements.size)
        return cardinality_of_registers(self._registers, self.log2m, self.regwidth)

    def __eq__(self, other: object) -> bool:
        # PostgreSQL's hll equality compares the stored bytes.
        return isinstance(other, HLL) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # mutable: add() works in place

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
