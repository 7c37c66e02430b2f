"""Locate a user-guid range inside a CSV sorted by user_guid, by binary search on line starts.

The file is ``user_guid,latitude,longitude,userday_hll`` with one header line, sorted so that
the user_guid values (the first field, CSV-unquoted) never decrease in byte order, as
``LC_ALL=C sort -t, -k1,1`` leaves it (a whole-line ``LC_ALL=C sort`` gives the same order
unless guids contain bytes below ","). A record is one physical line: it ends at LF or at the
end of the file, and one CR right before that end belongs to the terminator (CRLF; a final
line ending in CR); any other CR is part of the line. A UTF-8 BOM is skipped before the header
only. Only a line that is a record by itself (exactly four RFC 4180 fields, every quote
closed on the line, a non-empty user_guid, not a repeated header, no leading BOM) carries
order. Every other line (blank, an empty user_guid, malformed or unclosed quoting, too few or
too many fields, a repeated header, a BOM at its start) is keyless: it belongs to the same
range as the next keyed line (the last range when none follows), so every line still falls in
exactly one range and the reader quarantines it there. In particular the lines of a quoted
field that holds a line break are keyless whatever text follows the break, so such a span is
never split between ranges and never read as an order error (homeloc_assets/reader.py).

``find_byte_range`` costs O(log n) seeks and reads about 64 KiB around the answer; nothing here
reads a whole file except ``line_number_at`` (newline count up to an offset).

``path`` may be a local path or a URL (``s3://…``, common/locations.py): on an object store each
seek of the binary search is one ranged GET of ``_SEEK_BLOCK`` bytes and a slice is streamed in
ranged GETs of the chunk size, so a range never downloads the file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

from common.locations import open_binary, size

HEADER = ("user_guid", "latitude", "longitude", "userday_hll")
BOM = b"\xef\xbb\xbf"
_HEADER_LINE = ",".join(HEADER).encode()
_SCAN_BLOCK = 1 << 16
_READ_BLOCK = 1 << 20
# Block of a remote file's ranged reads during the binary search: one GET per probe.
_SEEK_BLOCK = 1 << 16


class UnsortedInputError(ValueError):
    """The file is not sorted by user_guid; carries the file and 1-based line number."""

    def __init__(self, path: str | os.PathLike, line_number: int | None, message: str) -> None:
        self.path = str(path)
        self.line_number = line_number
        where = f"{self.path}: line {line_number}" if line_number is not None else self.path
        super().__init__(f"{where}: {message}")


class HeaderError(ValueError):
    """The first line is not the expected header."""


def _strip_eol(line: bytes) -> bytes:
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line


def quoted_field(line: bytes, i: int) -> tuple[bytes, int] | None:
    """The RFC 4180 quoted field whose opening quote is ``line[i]``: its value (``""`` read as
    one quote) and the index just past its closing quote, or None when it is never closed."""
    parts, j = [], i + 1
    while True:
        q = line.find(b'"', j)
        if q < 0:
            return None
        parts.append(line[j:q])
        if line[q + 1 : q + 2] == b'"':
            parts.append(b'"')
            j = q + 2
            continue
        return b"".join(parts), q + 1


def split_fields(line: bytes) -> list[bytes] | None:
    """Fields of one RFC 4180 line (no terminator), or None if its quoting is malformed."""
    fields, i, n = [], 0, len(line)
    while True:
        if line[i : i + 1] == b'"':
            quoted = quoted_field(line, i)
            if quoted is None:
                return None
            value, i = quoted
            fields.append(value)
            if i == n:
                return fields
            if line[i : i + 1] != b",":
                return None
            i += 1
        else:
            comma = line.find(b",", i)
            value = line[i:] if comma < 0 else line[i:comma]
            if b'"' in value:
                return None
            fields.append(value)
            if comma < 0:
                return fields
            i = comma + 1


def quote_left_open(line: bytes) -> bool:
    """True when a field of ``line`` (no terminator) begins with a quote that the line never
    closes: the quoted field would continue past the line feed. After a closing quote, or in a
    field that does not begin with one, the field runs to the next comma."""
    i = 0
    while True:
        if line[i : i + 1] == b'"':
            quoted = quoted_field(line, i)
            if quoted is None:
                return True
            i = quoted[1]
        comma = line.find(b",", i)
        if comma < 0:
            return False
        i = comma + 1


def record_fields(line: bytes) -> list[bytes] | None:
    """The four fields of a line that is a record by itself (RFC 4180 quoting closed on the
    line, exactly four fields), else None. ``line`` has no terminator."""
    fields = split_fields(line) if b'"' in line else line.split(b",")
    return fields if fields is not None and len(fields) == len(HEADER) else None


def line_key(line: bytes) -> bytes | None:
    """The user_guid of a raw line (CSV-unquoted, bytes), or None when it carries no order.

    Only a record by itself (``record_fields``) with a non-empty guid is keyed; a repeated
    header and a line that starts with a UTF-8 BOM (only the file's first line may; the reader
    quarantines it) are keyless too.
    """
    line = _strip_eol(line)
    if not line or line == _HEADER_LINE or line.startswith(BOM):
        return None
    fields = record_fields(line)
    if fields is None or not fields[0]:
        return None
    return fields[0]


def read_header(path: str | os.PathLike) -> tuple[int, bytes]:
    """Byte offset of the first data line and the raw header line; HeaderError if it is wrong."""
    with open_binary(path, block_size=_SEEK_BLOCK) as f:
        raw = f.readline()
    if not raw:
        raise HeaderError(f"{path}: empty file; expected the header line {','.join(HEADER)}")
    line = _strip_eol(raw[len(BOM) :] if raw.startswith(BOM) else raw)
    names = tuple(field.strip().strip(b'"').decode("utf-8", "backslashreplace") for field in line.split(b","))
    if names != HEADER:
        raise HeaderError(f"{path}: line 1: header is {','.join(names)!r}; expected {','.join(HEADER)!r}")
    return len(raw), raw


def encode_bound(bound: str | bytes | None) -> bytes | None:
    """A range bound as UTF-8 bytes (the file's byte order); None stays None."""
    if bound is None or isinstance(bound, bytes):
        return bound
    return bound.encode("utf-8")


def _lower_bound(f: IO[bytes], data_start: int, size: int, target: bytes | None) -> int:
    """Offset of the first line whose next keyed line (itself if keyed) has key >= target."""
    if target is None:
        return data_start
    # Invariant: the answer lies in [lo, hi]; lo and hi are line starts (or EOF).
    lo, hi = data_start, size
    while hi - lo > _SCAN_BLOCK:
        mid = (lo + hi) // 2
        f.seek(mid - 1)
        f.readline()
        start = f.tell()
        if start >= hi:
            break  # one long line spans [mid, hi): scan it below
        pos, key, line = start, None, b""
        while pos < hi:
            line = f.readline()
            key = line_key(line)
            if key is not None:
                break
            pos += len(line)
        if key is not None and key < target:
            lo = pos + len(line)
        else:
            hi = start
    f.seek(lo)
    pos, run = lo, None
    while pos < hi:
        line = f.readline()
        key = line_key(line)
        if key is None:
            run = pos if run is None else run
        elif key >= target:
            return pos if run is None else run
        else:
            run = None
        pos += len(line)
    return hi if run is None else run


def find_byte_range(
    path: str | os.PathLike, lo: str | bytes | None, hi: str | bytes | None
) -> tuple[int, int]:
    """Byte offsets [start, end) of the lines whose user_guid is in [lo, hi) (None = unbounded)."""
    lo_b, hi_b = encode_bound(lo), encode_bound(hi)
    if lo_b is not None and hi_b is not None and lo_b > hi_b:
        raise ValueError(f"empty user range: lo {lo!r} > hi {hi!r}")
    data_start, _ = read_header(path)
    n_bytes = size(path)
    with open_binary(path, block_size=_SEEK_BLOCK) as f:
        start = _lower_bound(f, data_start, n_bytes, lo_b)
        end = n_bytes if hi_b is None else _lower_bound(f, data_start, n_bytes, hi_b)
    if start > end:
        raise UnsortedInputError(
            path,
            line_number_at(path, end),
            f"binary search for [{lo!r}, {hi!r}) ended before it started (bytes {start} > {end}); "
            "the file is not sorted by user_guid",
        )
    return start, end


def line_number_at(path: str | os.PathLike, offset: int) -> int:
    """1-based line number of the line starting at byte ``offset`` (the header is line 1)."""
    count, pos = 0, 0
    with open_binary(path, streaming=True) as f:
        while pos < offset:
            block = f.read(min(_READ_BLOCK * 8, offset - pos))
            if not block:
                break
            count += block.count(b"\n")
            pos += len(block)
    return count + 1


def iter_chunks(
    path: str | os.PathLike, start: int, end: int, chunk_bytes: int = 16 << 20
) -> Iterator[bytes]:
    """Bytes [start, end) in pieces of about ``chunk_bytes`` that end on a line boundary."""
    carry = b""
    with open_binary(path, streaming=True) as f:
        f.seek(start)
        left = end - start
        while left > 0:
            block = f.read(min(chunk_bytes, left))
            if not block:
                break
            left -= len(block)
            cut = block.rfind(b"\n")
            if cut < 0:
                carry += block
                continue
            yield carry + block[: cut + 1]
            carry = block[cut + 1 :]
    if carry:
        yield carry


def iter_lines(path: str | os.PathLike, start: int, end: int) -> Iterator[bytes]:
    """The lines in bytes [start, end), without their LF / CRLF terminator."""
    for chunk in iter_chunks(path, start, end):
        lines = chunk.split(b"\n")
        if chunk.endswith(b"\n"):
            lines.pop()
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line


def slice_fingerprint(path: str | os.PathLike, start: int, end: int) -> str:
    """Content hash (BLAKE2b-128 hex) of bytes [start, end): changes iff the slice changes."""
    h = hashlib.blake2b(digest_size=16)
    for chunk in iter_chunks(path, start, end, chunk_bytes=_READ_BLOCK * 8):
        h.update(chunk)
    return h.hexdigest()


def range_slices(path: str | os.PathLike, ranges: Iterable[Any]) -> list[tuple[object, int, int]]:
    """``(range, start, end)`` for each range with ``.lo`` / ``.hi`` (e.g. ``user_ranges(16)``)."""
    return [(r, *find_byte_range(path, r.lo, r.hi)) for r in ranges]
