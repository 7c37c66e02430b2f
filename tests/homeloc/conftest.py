"""Fixtures of the home-location tests: HLL values and a generated sample with its truth."""

from __future__ import annotations

import numpy as np
import pytest

from resources.hll import HLL, hash_text
from sample_data.userdays import write_sample_userdays

HEADER = "user_guid,latitude,longitude,userday_hll"


def hll_hex(*days: str, user: str = "u", log2m: int = 11) -> str:
    """'\\x…' of the HLL of ``days`` for ``user`` (origin 1)."""
    hashes = np.array([hash_text(f"1:{user}:{d}") for d in days], dtype=np.int64)
    return HLL.from_hashes(hashes, log2m, 5, 0, 1).to_hex()


def write_lines(path, lines, *, eol="\n", bom=False, header=HEADER) -> None:
    """Write ``header`` and ``lines`` (str or bytes) joined by ``eol``, with a final ``eol``."""
    parts = [
        p if isinstance(p, bytes) else p.encode("utf-8")
        for p in ([header] if header is not None else []) + list(lines)
    ]
    data = eol.encode().join(parts) + eol.encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """3,000 generated users (seed 7) with 10 intentionally bad rows."""
    path = tmp_path_factory.mktemp("userdays") / "userdays.csv"
    return write_sample_userdays(path, 3000, seed=7, n_bad_rows=10)
