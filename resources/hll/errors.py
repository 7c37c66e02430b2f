"""Exceptions of the HLL codec."""

from __future__ import annotations


class HLLError(Exception):
    """Any failure of the HLL codec (e.g. cardinality of a FULL/SPARSE value with ≤ 8 registers)."""


class HLLFormatError(HLLError, ValueError):
    """Bytes or hex text that are not a valid postgresql-hll value, or invalid parameters."""


class HLLParameterMismatch(HLLError, ValueError):
    """Union of values with different log2m/regwidth/expthresh/sparseon (PostgreSQL raises too)."""
