"""The census release to ingest: a folder holding input_data/, or the distributed zip; a path or a URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from common.locations import is_url, local_path
from resources.census_files import (
    ReleaseFiles,
    Snapshot,
    fingerprint,
    locate_release,
    remote_release_objects,
    snapshot_release,
    stat_signature,
)


class CensusSource(dg.ConfigurableResource):
    """``path``: the release folder or zip, or its URL (``s3://…``); ``unpack_dir``: a local folder
    for unpacked zips and private snapshots."""

    path: str = Field(
        description="The census release: a folder or zip in the workshop's layout, or its URL (s3://…); GEODEM_CENSUS_DIR."
    )
    unpack_dir: str = Field(
        description="Local folder for unpacked zips and private snapshots of the release."
    )

    def files(self) -> ReleaseFiles:
        """The release files of a local release (CensusError when there is none)."""
        return locate_release(local_path(self.path), cache_dir=Path(self.unpack_dir))

    def signature(self) -> str:
        """Cheap to compute and changes when a release file is replaced or written: the files'
        inodes, sizes and times, or the objects' sizes and ETags. CensusError without a release."""
        if is_url(self.path):
            return json.dumps(remote_release_objects(self.path), sort_keys=True)
        return stat_signature(self.files().all())

    def fingerprint(self) -> str:
        """The release's content fingerprint (resources.census_files.fingerprint); a remote
        release is downloaded for it."""
        if is_url(self.path):
            with self.snapshot() as snap:
                return snap.fingerprint
        return fingerprint(self.files())

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A private, consistent copy of the release and its fingerprint, for reading it; deleted afterwards."""
        path = self.path if is_url(self.path) else local_path(self.path)
        with snapshot_release(
            path, Path(self.unpack_dir) / "snapshots", cache_dir=Path(self.unpack_dir)
        ) as snap:
            yield snap
