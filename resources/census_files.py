"""Locate, fingerprint and snapshot a census release in the distributed `input_data/` layout (folder or zip)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import BinaryIO

CENSUS_FILE = "uk_census_data.parquet"
LOOKUP_FILE = "census_variable_lookup.csv"
OA_FILE = "OA_2021_22_Boundaries.gpkg"
LAD_PREFIX = "Local_Authority_Districts_"
POP_FILE = "oa_pop_data.csv"


class CensusError(ValueError):
    """A census release that cannot be read; the message names the file and the problem."""


class ReleaseChanged(CensusError):
    """A release file was replaced or written to while the release was being read."""


@dataclass(frozen=True)
class ReleaseFiles:
    census: Path
    lookup: Path
    oa_boundaries: Path
    lad_boundaries: Path
    population: Path

    def all(self) -> list[Path]:
        return [self.census, self.lookup, self.oa_boundaries, self.lad_boundaries, self.population]


def _input_dir(root: Path) -> Path:
    for candidate in (root / "input_data", root):
        if (candidate / CENSUS_FILE).exists():
            return candidate
    nested = sorted(root.glob(f"*/input_data/{CENSUS_FILE}"))
    if nested:
        return nested[0].parent
    raise CensusError(
        f"{root}: no input_data/{CENSUS_FILE} found (point GEODEM_CENSUS_DIR at the folder that holds input_data/, or at the zip)"
    )


def unpack_zip(zip_path: Path, cache_dir: Path) -> Path:
    """Extract a release zip once into cache_dir/<content hash>/ and return that folder."""
    # One open file for the hash and the extraction, so a zip replaced in between cannot mix them.
    with open(zip_path, "rb") as fh:
        digest = stream_digest(fh)[:16]
        target = cache_dir / digest
        if not (target / ".complete").exists():
            target.mkdir(parents=True, exist_ok=True)
            fh.seek(0)
            with zipfile.ZipFile(fh) as zf:
                zf.extractall(target)
            (target / ".complete").write_text(str(zip_path.name))
    return target


def locate_release(path: Path, cache_dir: Path | None = None) -> ReleaseFiles:
    """Find the five release files under a folder (or inside a zip, unpacked into cache_dir)."""
    path = Path(path)
    if not path.exists():
        raise CensusError(
            f"{path}: census release not found (set GEODEM_CENSUS_DIR, or run `geodem sample census`)"
        )
    if path.is_file() and zipfile.is_zipfile(path):
        if cache_dir is None:
            raise CensusError(f"{path}: a zip release needs a cache folder to unpack into")
        path = unpack_zip(path, cache_dir)
    folder = _input_dir(path)
    lads = sorted(folder.glob(f"{LAD_PREFIX}*.gpkg"))
    if not lads:
        raise CensusError(f"{folder}: no {LAD_PREFIX}*.gpkg LAD boundaries file")
    if len(lads) > 1:
        raise CensusError(
            f"{folder}: several LAD boundaries files ({', '.join(p.name for p in lads)}); keep one"
        )
    files = ReleaseFiles(
        folder / CENSUS_FILE, folder / LOOKUP_FILE, folder / OA_FILE, lads[0], folder / POP_FILE
    )
    missing = [p.name for p in files.all() if not p.exists()]
    if missing:
        raise CensusError(f"{folder}: missing {', '.join(missing)}")
    return files


CHUNK = 1 << 20


def stream_digest(fh: BinaryIO, copy_to: BinaryIO | None = None) -> str:
    """sha256 (hex) of what is left to read in an open binary file, also written to copy_to if given."""
    h = hashlib.sha256()
    while block := fh.read(CHUNK):
        h.update(block)
        if copy_to is not None:
            copy_to.write(block)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return stream_digest(fh)


def _combine(digests: list[tuple[str, str]]) -> str:
    """The release fingerprint from (file name, sha256 hex) pairs in ReleaseFiles.all() order."""
    h = hashlib.sha256()
    for name, digest in digests:
        h.update(name.encode())
        h.update(digest.encode())
    return h.hexdigest()[:16]


def fingerprint(files: ReleaseFiles) -> str:
    """sha256 over the names and contents of the release files (16 hex characters)."""
    return _combine([(p.name, file_digest(p)) for p in files.all()])


# ---- a consistent snapshot of a release --------------------------------------------------

SNAPSHOT_ATTEMPTS = 3


@dataclass(frozen=True)
class Snapshot:
    """Private copies of one release's files and the fingerprint of exactly the bytes copied.

    `source` names the files as found (for messages); `files` are the copies to read.
    """

    source: ReleaseFiles
    files: ReleaseFiles
    fingerprint: str


def copy_and_digest(fh: BinaryIO, dest: Path) -> str:
    """Copy an open file to `dest`, returning the sha256 (hex) of the bytes copied."""
    with open(dest, "wb") as out:
        return stream_digest(fh, copy_to=out)


def _identity(st: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is replaced (device, inode) or written to (size, times)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _open_release(files: ReleaseFiles, stack: ExitStack) -> list[tuple[BinaryIO, tuple[int, ...]]]:
    """Every file opened before any is read, so a folder swapped later cannot mix two releases.

    A file replaced while the others were being opened raises ReleaseChanged.
    """
    opened = []
    for p in files.all():
        fh = stack.enter_context(open(p, "rb"))
        opened.append((fh, _identity(os.fstat(fh.fileno()))))
    for p, (_, identity) in zip(files.all(), opened):
        try:
            now = _identity(os.stat(p))
        except FileNotFoundError:
            raise ReleaseChanged(f"{p.name} disappeared while the release was being opened") from None
        if now != identity:
            raise ReleaseChanged(f"{p.name} was replaced while the release was being opened")
    return opened


def _copy_release(files: ReleaseFiles, target: Path) -> tuple[ReleaseFiles, str]:
    """(the copies, their fingerprint); ReleaseChanged if any file was written to before the copy ended."""
    with ExitStack() as stack:
        opened = _open_release(files, stack)
        digests = [(p.name, copy_and_digest(fh, target / p.name)) for p, (fh, _) in zip(files.all(), opened)]
        for p, (fh, identity) in zip(files.all(), opened):
            if _identity(os.fstat(fh.fileno())) != identity:
                raise ReleaseChanged(f"{p.name} was written to while the release was being read")
    copies = replace(files, **{f.name: target / getattr(files, f.name).name for f in fields(files)})
    return copies, _combine(digests)


@contextmanager
def snapshot_release(
    path: Path, work_dir: Path, cache_dir: Path | None = None, attempts: int = SNAPSHOT_ATTEMPTS
) -> Iterator[Snapshot]:
    """A private copy of one consistent release, deleted on exit.

    The fingerprint is of the bytes copied, so it always describes the data read from the
    copies, even if the release folder is swapped or its files rewritten meanwhile. A release
    still changing after `attempts` tries raises CensusError naming the folder and the file.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    last: ReleaseChanged | None = None
    for _ in range(attempts):
        files = locate_release(path, cache_dir)
        target = Path(tempfile.mkdtemp(prefix="release-", dir=work_dir))
        try:
            try:
                copies, fp = _copy_release(files, target)
            except ReleaseChanged as exc:
                last = exc
                continue
            yield Snapshot(source=files, files=copies, fingerprint=fp)
            return
        finally:
            shutil.rmtree(target, ignore_errors=True)
    raise CensusError(
        f"{files.census.parent}: the census release kept changing while it was read "
        f"({attempts} attempts; last: {last}); ingest it again once it has been written completely"
    )
