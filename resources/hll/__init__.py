"""A bit-exact NumPy implementation of the postgresql-hll storage format and estimator."""

from resources.hll.errors import HLLError, HLLFormatError, HLLParameterMismatch
from resources.hll.hll import HLL
from resources.hll.murmur import hash_bigint, hash_bytes, hash_integer, hash_text, hash_texts

__all__ = [
    "HLL",
    "HLLError",
    "HLLFormatError",
    "HLLParameterMismatch",
    "hash_bigint",
    "hash_bytes",
    "hash_integer",
    "hash_text",
    "hash_texts",
]
