"""The sorted userday CSV and the countries file that points are joined with."""

from __future__ import annotations

import hashlib

import dagster as dg
from pydantic import Field

from common.locations import open_binary, size, version
from resources.country_layers import countries_path

# Natural Earth admin-0 at 1:10m; GEODEM_COUNTRY_LAYER=110m or GEODEM_COUNTRIES_FILE choose another.
DEFAULT_COUNTRIES = countries_path()


class UserdaySource(dg.ConfigurableResource):
    """Where the userday file is, the countries to join with, and the HLL parameters expected."""

    path: str = Field(
        description="The userday CSV (user_guid, latitude, longitude, userday_hll), sorted by user_guid; a path or URL; GEODEM_USERDAYS_CSV."
    )
    countries_path: str = Field(
        default=str(DEFAULT_COUNTRIES),
        description="Country polygons (name, iso_a3) the points are joined with; GEODEM_COUNTRIES_FILE or GEODEM_COUNTRY_LAYER.",
    )
    max_offshore_km: float = Field(
        default=25.0,
        description="A point outside every country takes the nearest within this many km (great circle).",
    )
    study_country: str = Field(
        default="Germany",
        description="Users whose home is this country are Local, others Tourist; GEODEM_STUDY_COUNTRY.",
    )
    log2m: int = Field(default=11, description="HLL log2m the file's values must have (2**log2m registers).")
    regwidth: int = Field(
        default=5, description="HLL regwidth (bits per register) the file's values must have."
    )
    expthresh: int = Field(
        default=0, description="HLL expthresh the file's values must have (0: no explicit storage)."
    )
    sparseon: int = Field(
        default=1, description="HLL sparseon the file's values must have (1: sparse storage on)."
    )

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
