"""The census release to ingest: a folder holding input_data/, or the distributed zip."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from resources.census_files import ReleaseFiles, locate_release


class CensusSource(dg.ConfigurableResource):
    path: str
    unpack_dir: str

    def files(self) -> ReleaseFiles:
        return locate_release(Path(self.path), cache_dir=Path(self.unpack_dir))
