"""The sorted userday CSV and the countries file that points are joined with."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dagster as dg

from resources.country_layers import countries_path

# Natural Earth admin-0 at 1:10m; GEODEM_COUNTRY_LAYER=110m or GEODEM_COUNTRIES_FILE choose another.
DEFAULT_COUNTRIES = countries_path()


class UserdaySource(dg.ConfigurableResource):
    """Where the userday file is, the countries to join with, and the HLL parameters expected."""

    path: str
    countries_path: str = str(DEFAULT_COUNTRIES)
    max_offshore_km: float = 25.0
    study_country: str = "Germany"
    log2m: int = 11
    regwidth: int = 5
    expthresh: int = 0
    sparseon: int = 1

    @property
    def expected_params(self) -> tuple[int, int, int, int]:
        return (self.log2m, self.regwidth, self.expthresh, self.sparseon)

    def quick_fingerprint(self) -> str:
        """Size, modification time and the first and last MiB: cheap, changes when the file does."""
        p = Path(self.path)
        if not p.exists():
            raise FileNotFoundError(
                f"{p}: userday file not found (set GEODEM_USERDAYS_CSV, or run `geodem sample userdays`)"
            )
        st = p.stat()
        h = hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}".encode())
        with open(p, "rb") as fh:
            h.update(fh.read(1 << 20))
            fh.seek(max(st.st_size - (1 << 20), 0), os.SEEK_SET)
            h.update(fh.read(1 << 20))
        return h.hexdigest()[:16]
