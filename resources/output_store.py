"""Where exported files land: GEODEM_OUTPUT_DIR/<pipeline>/<partition>/, a folder or an object store.

With a local root, files are written in place, as on one machine. With a URL root
(``s3://bucket/prefix``) a run writes into a private local folder under ``scratch`` and each
file is then uploaded whole (one object per file, replacing the previous one), so nothing is
ever shared through a disk and a reader never sees half a file.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from common.locations import (
    exists,
    is_url,
    join,
    list_files,
    local_path,
    put_file,
    read_bytes,
    remove,
    scratch_dir,
    write_bytes,
)


class OutputStore(dg.ConfigurableResource):
    """Exports and per-partition Parquet under ``root`` (a local folder or a URL); ``scratch`` is
    the local folder files are staged in before an upload (default ``$TMPDIR/geodem``)."""

    root: str = Field(
        description="Where exports and per-partition Parquet go: a local folder or a URL (s3://…); GEODEM_OUTPUT_DIR."
    )
    scratch: str = Field(
        default="", description="Local folder files are staged in before an upload (empty: $TMPDIR/geodem)."
    )

    @property
    def remote(self) -> bool:
        return is_url(self.root)

    def location(self, *parts: str) -> str:
        """The path or URL of a file or folder under the root."""
        return join(self.root, *parts)

    def uri(self, *parts: str) -> str:
        """The URI of a file or folder under the root: the URL of an object store, file:// for a
        local root (Dagster's `dagster/uri` metadata)."""
        return (
            self.location(*parts)
            if self.remote
            else local_path(self.root).joinpath(*parts).resolve().as_uri()
        )

    def folder(self, *parts: str) -> Path:
        """A local folder under a local root, created if missing (for a URL root use `writing`)."""
        if self.remote:
            raise ValueError(
                f"{self.location(*parts)}: the output root is an object store; write through "
                "OutputStore.writing() so that each file is uploaded whole"
            )
        path = local_path(self.root).joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def writing(self, *parts: str) -> Iterator[Path]:
        """A local folder to write files into, published under ``parts`` when the block ends
        without an error: the folder itself for a local root; for a URL root a fresh private
        folder whose files are each uploaded whole, then deleted. Files already under ``parts``
        and not written in the block are left as they are."""
        if not self.remote:
            yield self.folder(*parts)
            return
        staged = Path(tempfile.mkdtemp(prefix="outputs-", dir=scratch_dir(self.scratch or None)))
        try:
            yield staged
            for path in sorted(staged.rglob("*")):
                if path.is_file():
                    put_file(path, self.location(*parts, *path.relative_to(staged).parts))
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def exists(self, *parts: str) -> bool:
        return exists(self.location(*parts))

    def names(self, *parts: str, suffix: str = "") -> list[str]:
        """Names of the files directly under ``parts`` ending with ``suffix`` (hidden ones left out)."""
        return list_files(self.location(*parts), suffix)

    def remove(self, *parts: str) -> None:
        """Delete one file; nothing happens when it is not there."""
        remove(self.location(*parts))

    def remove_matching(self, *parts: str, pattern: str) -> list[str]:
        """Delete the files directly under ``parts`` whose names match a glob ``pattern``; their names."""
        gone = [n for n in self.names(*parts) if fnmatch(n, pattern)]
        for name in gone:
            self.remove(*parts, name)
        return gone

    def write_parquet(self, df: pd.DataFrame, *parts: str) -> None:
        """One Parquet file, written whole: a re-run replaces it, a killed run leaves the old one."""
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        write_bytes(self.location(*parts), buffer.getvalue())

    def read_parquet(self, *parts: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A Parquet file under the root; FileNotFoundError when it is missing."""
        where = self.location(*parts)
        if not self.remote:
            return pd.read_parquet(where, columns=columns)
        return pd.read_parquet(io.BytesIO(read_bytes(where)), columns=columns)
