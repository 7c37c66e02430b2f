"""The sorted userday CSV and the countries file that points are joined with."""

from __future__ import annotations

import hashlib

import dagster as dg

from common.locations import open_binary, size, version
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
        """Size, modification time (an object's ETag) and the first and last MiB: cheap, changes
        when the file does. ``path`` may be a URL (two ranged reads). FileNotFoundError when the
        file is missing."""
        try:
            stamp = version(self.path)
            n_bytes = size(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{self.path}: userday file not found (set GEODEM_USERDAYS_CSV, or run `geodem sample userdays`)"
            ) from None
        h = hashlib.sha256(stamp.encode())
        with open_binary(self.path, streaming=True) as fh:
            h.update(fh.read(1 << 20))
            fh.seek(max(n_bytes - (1 << 20), 0))
            h.update(fh.read(1 << 20))
        return h.hexdigest()[:16]
