"""The census release to ingest: a folder holding input_data/, or the distributed zip."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from resources.census_files import ReleaseFiles, Snapshot, locate_release, snapshot_release


class CensusSource(dg.ConfigurableResource):
    path: str
    unpack_dir: str

    def files(self) -> ReleaseFiles:
        return locate_release(Path(self.path), cache_dir=Path(self.unpack_dir))

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A private, consistent copy of the release and its fingerprint, for reading it; deleted afterwards."""
        with snapshot_release(
            Path(self.path), Path(self.unpack_dir) / "snapshots", cache_dir=Path(self.unpack_dir)
        ) as snap:
            yield snap
