"""Locate and fingerprint a census release in the distributed `input_data/` layout (folder or zip)."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

CENSUS_FILE = "uk_census_data.parquet"
LOOKUP_FILE = "census_variable_lookup.csv"
OA_FILE = "OA_2021_22_Boundaries.gpkg"
LAD_PREFIX = "Local_Authority_Districts_"
POP_FILE = "oa_pop_data.csv"


class CensusError(ValueError):
    """A census release that cannot be read; the message names the file and the problem."""


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
    raise CensusError(f"{root}: no input_data/{CENSUS_FILE} found (point GEODEM_CENSUS_DIR at the folder that holds input_data/, or at the zip)")


def unpack_zip(zip_path: Path, cache_dir: Path) -> Path:
    """Extract a release zip once into cache_dir/<content hash>/ and return that folder."""
    digest = file_digest(zip_path)[:16]
    target = cache_dir / digest
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(target)
        (target / ".complete").write_text(str(zip_path.name))
    return target


def locate_release(path: Path, cache_dir: Path | None = None) -> ReleaseFiles:
    """Find the five release files under a folder (or inside a zip, unpacked into cache_dir)."""
    path = Path(path)
    if not path.exists():
        raise CensusError(f"{path}: census release not found (set GEODEM_CENSUS_DIR, or run `geodem sample census`)")
    if path.is_file() and zipfile.is_zipfile(path):
        if cache_dir is None:
            raise CensusError(f"{path}: a zip release needs a cache folder to unpack into")
        path = unpack_zip(path, cache_dir)
    folder = _input_dir(path)
    lads = sorted(folder.glob(f"{LAD_PREFIX}*.gpkg"))
    if not lads:
        raise CensusError(f"{folder}: no {LAD_PREFIX}*.gpkg LAD boundaries file")
    if len(lads) > 1:
        raise CensusError(f"{folder}: several LAD boundaries files ({', '.join(p.name for p in lads)}); keep one")
    files = ReleaseFiles(folder / CENSUS_FILE, folder / LOOKUP_FILE, folder / OA_FILE, lads[0], folder / POP_FILE)
    missing = [p.name for p in files.all() if not p.exists()]
    if missing:
        raise CensusError(f"{folder}: missing {', '.join(missing)}")
    return files


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(files: ReleaseFiles) -> str:
    """sha256 over the names and contents of the release files (16 hex characters)."""
    h = hashlib.sha256()
    for p in files.all():
        h.update(p.name.encode())
        h.update(file_digest(p).encode())
    return h.hexdigest()[:16]
