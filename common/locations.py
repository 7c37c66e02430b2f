"""Where inputs and outputs live: a local path, or an fsspec URL (``s3://``, ``gs://``, ``file://``).

A local path (or ``file://`` URL) is read with Python's own files, exactly as on one machine. A
URL goes through fsspec: ``s3://`` through s3fs (the ``s3`` extra), configured by the standard
AWS environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``, or an instance role) that botocore reads itself, so credentials never
pass through this project's code, logs or metadata; ``gs://`` through gcsfs when it is
installed. Objects are written whole: a reader sees the old object or the new one, never a part.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem
from urllib.parse import urlsplit

_PACKAGES = {"s3": "s3fs (pip install 'geodem-platform[s3]')", "gs": "gcsfs (pip install gcsfs)"}


def is_url(location: str | os.PathLike) -> bool:
    """True for a URL that fsspec reads (``s3://bucket/key``); False for a local path or ``file://``."""
    text = str(location)
    if "://" not in text:
        return False
    return urlsplit(text).scheme not in ("", "file")


def local_path(location: str | os.PathLike) -> Path:
    """The local path of a path or ``file://`` URL (``~`` expanded); ValueError for other URLs."""
    text = str(location)
    if is_url(text):
        raise ValueError(f"{text}: not a local path")
    if text.startswith("file://"):
        text = urlsplit(text).path
    return Path(text).expanduser()


def normalise(location: str | os.PathLike) -> str:
    """A URL as given, a local path (or ``file://`` URL) as an absolute-or-relative path string."""
    return str(location) if is_url(location) else str(local_path(location))


def join(location: str | os.PathLike, *parts: str) -> str:
    """``location`` with ``parts`` appended, ``/``-separated for URLs."""
    if not is_url(location):
        return str(local_path(location).joinpath(*parts))
    return "/".join([str(location).rstrip("/"), *(p.strip("/") for p in parts)])


def _storage_options(scheme: str) -> dict:
    # The endpoint is part of fsspec's instance cache key: a process that talks to two endpoints
    # (tests, benchmarks) must not reuse a filesystem made for the other one.
    if scheme in ("s3", "s3a") and os.environ.get("AWS_ENDPOINT_URL"):
        return {"endpoint_url": os.environ["AWS_ENDPOINT_URL"]}
    return {}


def filesystem(location: str | os.PathLike) -> tuple[AbstractFileSystem, str]:
    """(fsspec filesystem, path inside it) of a URL or local path.

    Raises ImportError naming the package to install when the URL's scheme needs one.
    """
    import fsspec

    text = normalise(location)
    scheme = urlsplit(text).scheme if is_url(text) else "file"
    try:
        return fsspec.core.url_to_fs(text, **_storage_options(scheme))
    except ImportError as exc:
        hint = _PACKAGES.get(scheme, f"the fsspec implementation of {scheme}://")
        raise ImportError(f"{text}: reading {scheme}:// needs {hint}") from exc


def open_binary(
    location: str | os.PathLike, block_size: int | None = None, streaming: bool = False
) -> IO[bytes]:
    """A seekable binary file for reading; local files are plain files.

    A remote file is read by ranged requests: with ``streaming``, each ``read(n)`` is one request
    for exactly those bytes (large sequential reads); otherwise reads go through a read-ahead
    buffer of ``block_size`` bytes (seeks and ``readline``, one request per buffer refill).
    """
    if not is_url(location):
        return open(local_path(location), "rb")
    fs, path = filesystem(location)
    options = {"block_size": block_size} if block_size else {}
    opened = fs.open(path, "rb", cache_type="none" if streaming else "readahead", **options)
    return cast("IO[bytes]", opened)  # binary mode: fsspec's buffered file, read as bytes


def size(location: str | os.PathLike) -> int:
    """Size in bytes; FileNotFoundError when there is no such file."""
    if not is_url(location):
        return os.path.getsize(local_path(location))
    fs, path = filesystem(location)
    fs.invalidate_cache(path)
    found = fs.size(path)
    if found is None:
        raise FileNotFoundError(f"{location}: the object store gives no size")
    return int(found)


def exists(location: str | os.PathLike) -> bool:
    """True when a file (or, for a local path, a folder) is there."""
    if not is_url(location):
        return local_path(location).exists()
    fs, path = filesystem(location)
    fs.invalidate_cache(path)
    return bool(fs.exists(path))


def version(location: str | os.PathLike) -> str:
    """What changes when the file is replaced or written: size and modification time (local), size
    and ETag or last-modified time (object stores). FileNotFoundError when it is missing."""
    if not is_url(location):
        st = os.stat(local_path(location))
        return f"{st.st_size}:{st.st_mtime_ns}"
    fs, path = filesystem(location)
    fs.invalidate_cache(path)
    info = fs.info(path)
    tag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("LastModified") or ""
    return f"{info.get('size')}:{str(tag).strip(chr(34))}"


def list_files(location: str | os.PathLike, suffix: str = "") -> list[str]:
    """Names (not paths) of the files directly inside a folder or prefix that end with ``suffix``,
    sorted; hidden names (``.x``) left out; [] when there is no such folder."""
    if not is_url(location):
        folder = local_path(location)
        if not folder.is_dir():
            return []
        names = [p.name for p in folder.iterdir() if p.is_file()]
    else:
        fs, path = filesystem(location)
        fs.invalidate_cache(path)
        try:
            entries = fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        names = [e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == "file"]
    return sorted(n for n in names if n.endswith(suffix) and not n.startswith("."))


def remove(location: str | os.PathLike) -> None:
    """Delete one file; nothing happens when it is not there."""
    if not is_url(location):
        local_path(location).unlink(missing_ok=True)
        return
    fs, path = filesystem(location)
    with contextlib.suppress(FileNotFoundError):
        fs.rm_file(path)
    fs.invalidate_cache(path)


def write_bytes(location: str | os.PathLike, data: bytes) -> None:
    """Write a whole file: atomically replaced (local: a hidden temporary file renamed over it;
    object stores: one PUT, so readers see the old object or the new one)."""
    if not is_url(location):
        path = local_path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return
    fs, path = filesystem(location)
    fs.pipe_file(path, data)
    fs.invalidate_cache(path)


def read_bytes(location: str | os.PathLike) -> bytes:
    """The whole file's bytes; FileNotFoundError when it is missing."""
    if not is_url(location):
        return local_path(location).read_bytes()
    fs, path = filesystem(location)
    data = fs.cat_file(path)
    return data.encode() if isinstance(data, str) else data


def put_file(local: Path, location: str | os.PathLike) -> None:
    """Copy a local file to ``location`` whole, replacing what was there (atomically, as write_bytes)."""
    if not is_url(location):
        path = local_path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        shutil.copyfile(local, tmp)
        os.replace(tmp, path)
        return
    fs, path = filesystem(location)
    fs.put_file(str(local), path)
    fs.invalidate_cache(path)


def get_file(location: str | os.PathLike, local: Path) -> None:
    """Copy a file (local or remote) to the local path ``local``."""
    if not is_url(location):
        shutil.copyfile(local_path(location), local)
        return
    fs, path = filesystem(location)
    fs.get_file(path, str(local))


def scratch_dir(configured: str | None = None) -> Path:
    """The local folder for intermediate files: ``configured`` if given, else ``$TMPDIR/geodem``."""
    path = Path(configured).expanduser() if configured else Path(tempfile.gettempdir()) / "geodem"
    path.mkdir(parents=True, exist_ok=True)
    return path
