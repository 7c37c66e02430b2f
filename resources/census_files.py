"""Locate, fingerprint and snapshot a census release in the distributed `input_data/` layout (folder or zip).

The release may also be a URL (``s3://bucket/census/2021/`` or ``…/release.zip``, see
common/locations.py): a snapshot then downloads the release's objects into a private folder and
reads them there, retrying when an object changed while it was downloaded.
"""

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

from common.locations import filesystem, is_url

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
    # The URL the release was downloaded from ("" for a local release).
    origin: str = ""

    @property
    def where(self) -> str:
        """Where the release was read from, for messages: its URL, or its input_data folder."""
        return self.origin or str(self.source.census.parent)


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


def stat_signature(paths: list[Path]) -> str:
    """Name, inode, size and modification time of each file: changes when a file is replaced or written."""
    stats = [(p.name, p.stat()) for p in paths]
    return ";".join(f"{name}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}" for name, st in stats)


def _is_release_name(name: str) -> bool:
    return name in (CENSUS_FILE, LOOKUP_FILE, OA_FILE, POP_FILE) or (
        name.startswith(LAD_PREFIX) and name.endswith(".gpkg")
    )


def remote_release_objects(url: str) -> dict[str, str]:
    """The release's objects under ``url`` (a prefix, or one zip object): key relative to the URL
    ("" for the zip itself) -> "size:ETag". CensusError when there is none."""
    fs, root = filesystem(url)
    root = root.rstrip("/")
    fs.invalidate_cache(root)

    def stamp(info: dict) -> str:
        return f"{info.get('size')}:{str(info.get('ETag') or info.get('LastModified') or '').strip(chr(34))}"

    if fs.isfile(root):
        return {"": stamp(fs.info(root))}
    found = {
        name[len(root) :].lstrip("/"): stamp(info)
        for name, info in fs.find(root, detail=True).items()
        if _is_release_name(name.rsplit("/", 1)[-1])
    }
    if not found:
        raise CensusError(
            f"{url}: census release not found (no {CENSUS_FILE} or other release files under it; point "
            "GEODEM_CENSUS_DIR at the prefix that holds input_data/, or at the zip)"
        )
    return found


def _download_release(url: str, target: Path) -> tuple[Path, dict[str, str]]:
    """The release's objects copied under ``target``: (the local folder or zip, the objects read)."""
    fs, root = filesystem(url)
    root = root.rstrip("/")
    objects = remote_release_objects(url)
    for key in objects:
        dest = target.joinpath(*(key or root.rsplit("/", 1)[-1]).split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"{root}/{key}" if key else root, str(dest))
    local = target / root.rsplit("/", 1)[-1] if "" in objects else target
    return local, objects


@contextmanager
def _snapshot_remote(url: str, work_dir: Path, cache_dir: Path | None, attempts: int) -> Iterator[Snapshot]:
    last = ""
    for _ in range(attempts):
        target = Path(tempfile.mkdtemp(prefix="release-", dir=work_dir))
        try:
            local, objects = _download_release(url, target)
            now = remote_release_objects(url)
            if now != objects:
                changed = sorted(k for k in set(objects) | set(now) if objects.get(k) != now.get(k))
                last = f"{', '.join(changed)} changed while it was downloaded"
                continue
            files = locate_release(local, cache_dir)
            yield Snapshot(source=files, files=files, fingerprint=fingerprint(files), origin=url)
            return
        finally:
            shutil.rmtree(target, ignore_errors=True)
    raise CensusError(
        f"{url}: the census release kept changing while it was read ({attempts} attempts; last: "
        f"{last}); ingest it again once it has been written completely"
    )


@contextmanager
def snapshot_release(
    path: Path | str, work_dir: Path, cache_dir: Path | None = None, attempts: int = SNAPSHOT_ATTEMPTS
) -> Iterator[Snapshot]:
    """A private copy of one consistent release, deleted on exit.

    The fingerprint is of the bytes copied, so it always describes the data read from the
    copies, even if the release folder is swapped or its files rewritten meanwhile. A release
    still changing after `attempts` tries raises CensusError naming the folder and the file.
    ``path`` may be a URL: the release is downloaded (common/locations.py).
    """
    if is_url(path):
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        with _snapshot_remote(str(path), work_dir, cache_dir, attempts) as snap:
            yield snap
        return
    path = Path(path)
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
