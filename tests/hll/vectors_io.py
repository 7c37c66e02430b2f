"""Reading the vendored postgresql-hll test vectors."""

from __future__ import annotations

import csv
import gzip
import struct
from pathlib import Path

VECTORS = Path(__file__).parent / "vectors"

# Files the extension's own tests run after hll_set_max_sparse(512).
MAX_SPARSE = {
    "cumulative_add_sparse_edge": 512,
    "cumulative_union_explicit_promotion": 512,
    "cumulative_union_sparse_full_representation": 512,
}


def vector_rows(name: str) -> list[dict[str, str]]:
    with gzip.open(VECTORS / f"{name}.csv.gz", "rt", newline="") as f:
        return list(csv.DictReader(f))


def vector_names(prefix: str) -> list[str]:
    return sorted(p.name.removesuffix(".csv.gz") for p in VECTORS.glob(f"{prefix}*.csv.gz"))


def float_bits(x: float) -> str:
    """The IEEE-754 bits of a double as hex, for exact comparisons ('nan' for any NaN)."""
    return "nan" if x != x else struct.pack(">d", x).hex()
