"""Read one user-guid range of the sorted userday CSV: parse, validate, quarantine bad lines.

Every line of the range's byte slice ends up in exactly one of ``RangeRead.rows`` or
``RangeRead.quarantine``. Quarantine kinds, checked in this order (the first failing one is
reported): ``blank_line``, ``byte_order_mark`` (a data line starting with a UTF-8 BOM; only
the file may start with one), ``repeated_header``, ``empty_user_guid``, ``unterminated_quote`` (a
quoted field left open at the end of the line, and the lines that continue it; see below),
``bad_quoting`` (other malformed CSV quotes), ``field_count`` (not 4 fields), ``bad_user_guid`` (not UTF-8, or
holding a NUL byte, which PostgreSQL text cannot store), ``bad_latitude`` /
``bad_longitude`` (not a number, NaN/inf, outside [-90, 90] / [-180, 180]), ``bad_hll`` (not
``\\x`` + hex of a valid postgresql-hll value; the codec's message), ``hll_parameters``
(log2m, regwidth, expthresh, sparseon differ from the expected ones).

Order is a precondition, not a data-quality issue: slicing relies on it, so a user_guid that
sorts below the previous one, or falls outside [lo, hi), raises ``UnsortedInputError`` naming
the file and line instead of being quarantined. Only a line that is a record by itself carries
order (homeloc_assets/slicing.py: four fields, quotes closed); every other line is keyless
and only quarantined.

Records do not span lines (a line ends at LF). A line whose quoted field is left open at its
end (``"p`` of a guid ``"p<LF>q"``) is quarantined as ``unterminated_quote``, and so is each
following line that continues it: the span runs up to and including the first following line
that holds a double quote (the one that would close the field), but stops before a line that
is a record by itself (``record_fields``: four fields, every quote closed), which is read as a
line of its own; it also ends with the slice. Every line of a
span is keyless, so the span lies in one range, and a continuation such as ``q",50.0,…`` is
never taken for an unsorted guid. Slices start after a keyed line (a record), where no span
can be open, so what a line becomes does not depend on the slice or chunk boundaries.

Lines and chunks: a line ends at LF or at the end of the slice; one CR right before that end
is part of the terminator, every other CR is content (see homeloc_assets/slicing.py). The
slice is parsed in chunks that end on an LF, and what a line becomes never depends on where
a chunk ends (tests/reliability/test_reader_chunking.py).

Fast path: lines with three commas, no quotes and a non-empty first field are split by the
pyarrow CSV parser; coordinates and HLLs are validated once per distinct value (coordinates
lie on a grid and most HLLs hold one or two days, so distinct values are few; the HLLs' hex
is decoded for all of them at once), user guids all at once in Arrow (UTF-8, no NUL), one by
one only when some guid fails, to name it. Other lines take a per-line path with the same
validators. ``raw_line`` is the line decoded as UTF-8 with
``backslashreplace`` (exact for UTF-8 lines; other bytes appear as ``\\xNN``).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from homeloc_assets.slicing import (
    BOM,
    HEADER,
    UnsortedInputError,
    encode_bound,
    find_byte_range,
    iter_chunks,
    line_key,
    line_number_at,
    quote_left_open,
    record_fields,
    split_fields,
)
from resources.hll import HLL, HLLError
from resources.hll.column import KIND_UNDEFINED, decode_buffer
from resources.hll.column_input import PADDING, hex_pairs
from resources.hll.storage import bytes_from_hex

__all__ = ["QUARANTINE_COLUMNS", "ROW_COLUMNS", "RangeRead", "UnsortedInputError", "read_range", "read_slice"]

ROW_COLUMNS = ["line_number", "user_guid", "latitude", "longitude", "userday_hll"]
QUARANTINE_COLUMNS = ["line_number", "kind", "reason", "raw_line"]
_HEADER_LINE = ",".join(HEADER).encode()


@dataclass
class RangeRead:
    """Valid rows and quarantined lines of one byte slice [start, end) of ``path``."""

    path: str
    start: int
    end: int
    first_line: int
    n_lines: int
    fingerprint: str
    rows: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)


class _Validator:
    """Value checks. Coordinates are memoised (they lie on a grid); HLLs are checked in bulk."""

    def __init__(self, expected_params: tuple[int, int, int, int]):
        self.expected = tuple(expected_params)
        self._coord: dict[tuple[bytes, str], tuple[float, tuple[str, str] | None]] = {}

    def guids(self, raws: list[bytes]) -> list:
        """(str, None) or (None, problem) for each raw user_guid: UTF-8 without NUL bytes.

        PostgreSQL text cannot hold NUL: a guid with one would fail the database backend's
        whole batch, while the embedded backend would take it.
        """
        any_nul = b"\x00" in b"".join(raws)  # one pass in C; per-value tests only when needed
        out = []
        for raw in raws:
            try:
                guid = raw.decode("utf-8")
            except UnicodeDecodeError:
                out.append((None, ("bad_user_guid", f"user_guid is not valid UTF-8: {raw!r}")))
                continue
            if any_nul and "\x00" in guid:
                out.append(
                    (
                        None,
                        (
                            "bad_user_guid",
                            f"user_guid contains a NUL byte (0x00), which PostgreSQL text cannot hold: {guid!r}",
                        ),
                    )
                )
            else:
                out.append((guid, None))
        return out

    def coords(self, raws: list[bytes], name: str, limit: float) -> list:
        return [self._coord_one(raw, name, limit) for raw in raws]

    def _coord_one(self, raw: bytes, name: str, limit: float):
        hit = self._coord.get((raw, name))
        if hit is None:
            kind = f"bad_{name}"
            shown = raw.decode("utf-8", "backslashreplace")
            try:
                value = float(raw)
            except ValueError:
                hit = (math.nan, (kind, f"{name} is not a number: {shown!r}"))
            else:
                if not math.isfinite(value):
                    hit = (value, (kind, f"{name} is not finite: {shown!r}"))
                elif abs(value) > limit:
                    hit = (value, (kind, f"{name} {value!r} is outside [-{limit:g}, {limit:g}]"))
                else:
                    hit = (value, None)
            if len(self._coord) < 4_000_000:
                self._coord[(raw, name)] = hit
        return hit

    def hlls(self, raws: list[bytes]) -> list:
        """(stored bytes, None) or (None, problem) for each ``\\x…`` hex value."""
        out: list = [None] * len(raws)
        ok, buffer, offsets, lengths = _strict_hex(raws)
        extra = []
        for i in np.flatnonzero(~ok).tolist():
            # Anything but plain "\\x" + hex digits: the codec decides, and words the error.
            try:
                extra.append((i, bytes_from_hex(raws[i].decode("ascii"))))
            except UnicodeDecodeError:
                out[i] = (None, ("bad_hll", f"userday_hll is not ASCII hex: {raws[i][:40]!r}"))
            except HLLError as exc:
                out[i] = (None, ("bad_hll", f"userday_hll is not a valid hll: {exc}"))
        if extra:
            buffer, offsets, lengths = _appended(buffer, offsets, lengths, extra)
            ok[[i for i, _ in extra]] = True
        data = buffer.tobytes()  # the values are sliced out of it as bytes
        self._decode_bulk(data, offsets, lengths, np.flatnonzero(ok), out)
        return out

    def _decode_bulk(
        self, data: bytes, offsets: np.ndarray, lengths: np.ndarray, idx: np.ndarray, out: list
    ) -> None:
        """Decode values ``idx`` of ``data`` (a _strict_hex buffer) at once; on a format error,
        halve until the bad values are found."""
        if not idx.size:
            return
        try:
            col = decode_buffer(np.frombuffer(data, dtype=np.uint8), offsets[idx], lengths[idx])
        except HLLError as bulk:
            if idx.size == 1:
                # The single-value parser words the problem best; the column decoder's message
                # stands if the two ever disagree on whether the value is valid.
                exc: HLLError = bulk
                o, n = int(offsets[idx[0]]), int(lengths[idx[0]])
                try:
                    HLL.from_bytes(data[o : o + n])
                except HLLError as single:
                    exc = single
                out[int(idx[0])] = (None, ("bad_hll", f"userday_hll is not a valid hll: {exc}"))
                return
            half = idx.size // 2
            self._decode_bulk(data, offsets, lengths, idx[:half], out)
            self._decode_bulk(data, offsets, lengths, idx[half:], out)
            return
        params = [(p.log2m, p.regwidth, p.expthresh, p.sparseon) for p in col.params]
        expected = [pid for pid, got in enumerate(params) if got == self.expected]
        good = (col.kind != KIND_UNDEFINED) & np.isin(col.param_id, expected)
        for i, o, n in zip(idx[good].tolist(), offsets[idx[good]].tolist(), lengths[idx[good]].tolist()):
            out[i] = (data[o : o + n], None)
        for j in np.flatnonzero(~good).tolist():
            i = int(idx[j])
            if col.kind[j] == KIND_UNDEFINED:
                out[i] = (None, ("bad_hll", "userday_hll is an UNDEFINED hll value"))
                continue
            out[i] = (
                None,
                (
                    "hll_parameters",
                    f"hll parameters (log2m, regwidth, expthresh, sparseon) = {params[col.param_id[j]]} "
                    f"differ from the expected {self.expected}",
                ),
            )


def _strict_hex(raws: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode every ``\\x`` + an even number of hex digits (either case) at once.

    Returns (ok, buffer, offsets, lengths): ``ok`` (bool, shape (n,)) marks the values decoded,
    value i lying at ``buffer[offsets[i] : offsets[i] + lengths[i]]`` (int64 each; the length
    is 0 where not ok); ``buffer`` is uint8 ending in PADDING zero bytes, as decode_buffer wants it.
    """
    n = len(raws)
    lengths = np.fromiter(map(len, raws), dtype=np.int64, count=n)
    joined = b"".join(raws)
    data = np.frombuffer(joined + b"\0\0", dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    ok = (lengths >= 2) & (lengths % 2 == 0) & (data[starts] == 92) & (data[starts + 1] == 120)
    cand = np.flatnonzero(ok)
    if cand.size < n:  # digit pairs must not straddle two values: join the candidates alone
        joined = b"".join([raws[i] for i in cand.tolist()])
    # Every candidate has an even length, so its "\\x" is one pair and its digits whole pairs.
    pairs = hex_pairs(np.frombuffer(joined, dtype=np.uint8))
    cand_len = lengths[cand]
    prefix = (np.cumsum(cand_len) - cand_len) // 2
    digit = np.ones(pairs.size, dtype=bool)
    digit[prefix] = False
    bad = np.flatnonzero(digit & (pairs > 0xFF))
    if bad.size:
        ok[cand[np.searchsorted(prefix, bad, side="right") - 1]] = False
    buffer = np.zeros(pairs.size - cand.size + PADDING, dtype=np.uint8)
    buffer[: pairs.size - cand.size] = pairs[digit]
    out_len = np.zeros(n, dtype=np.int64)
    out_len[cand] = cand_len // 2 - 1
    offsets = np.zeros(n, dtype=np.int64)
    offsets[cand] = np.cumsum(out_len[cand]) - out_len[cand]
    return ok, buffer, offsets, np.where(ok, out_len, 0)


def _appended(
    buffer: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, extra: list[tuple[int, bytes]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The buffer with the values ``extra`` [(position, bytes)] appended, and their offsets and lengths set."""
    body = buffer[: buffer.size - PADDING].tobytes()
    offsets, lengths = offsets.copy(), lengths.copy()
    pos = len(body)
    for i, blob in extra:
        offsets[i], lengths[i] = pos, len(blob)
        pos += len(blob)
    joined = b"".join([body, *(blob for _, blob in extra), bytes(PADDING)])
    return np.frombuffer(joined, dtype=np.uint8), offsets, lengths


def _utf8_without_nul(values: pa.Array) -> pa.Array | None:
    """``values`` (binary) as Arrow strings when every one is UTF-8 without a NUL byte (what
    _Validator.guids accepts), else None."""
    try:
        text = values.cast(pa.string())
    except pa.ArrowInvalid:
        return None
    has_nul = pc.any(pc.match_substring(text, "\x00"))  # pyright: ignore[reportAttributeAccessIssue]
    return None if has_nul.as_py() else text


def _decode_column(
    values: pa.Array, check_many: Callable[[list], list[tuple[object, object]]]
) -> tuple[np.ndarray, np.ndarray, list]:
    """Check each distinct value of ``values`` once with ``check_many`` (list -> list of pairs).

    Returns per-row values (object array), per-row problem index (int64, -1 = valid) and the
    list of distinct problems that index points into.
    """
    encoded = values.dictionary_encode()
    results = check_many(encoded.dictionary.to_pylist())
    idx = encoded.indices.to_numpy(zero_copy_only=False)
    uvals = np.empty(len(results), dtype=object)
    uvals[:] = [r[0] for r in results]
    problems = [r[1] for r in results if r[1] is not None]
    uprob = np.full(len(results), -1, dtype=np.int64)
    uprob[[u for u, r in enumerate(results) if r[1] is not None]] = np.arange(len(problems))
    return uvals[idx], uprob[idx], problems


def _fast_fields(body: bytes, cand: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.Table:
    """Split the candidate lines of ``body`` with the pyarrow CSV parser (all columns binary)."""
    if cand.all():
        buf = body
    else:
        arr = np.frombuffer(body + b"\n", dtype=np.uint8)
        buf = arr[np.repeat(cand, ends - starts + 1)].tobytes()
    return pacsv.read_csv(
        pa.py_buffer(buf),
        read_options=pacsv.ReadOptions(
            column_names=list(HEADER), block_size=max(1 << 20, len(buf) + 1), use_threads=False
        ),
        parse_options=pacsv.ParseOptions(
            quote_char=False, escape_char=False, newlines_in_values=False, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.binary() for c in HEADER}, check_utf8=False, strings_can_be_null=False
        ),
    )


def _line_table(body: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Line starts, ends (exclusive, no LF) and fast-path eligibility of every line of ``body``."""
    arr = np.frombuffer(body, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    if not len(arr):
        return starts, ends, np.zeros(1, dtype=bool)
    commas = np.flatnonzero(arr == 44)
    quotes = np.flatnonzero((arr == 34) | (arr == 13))  # a lone CR would end a row for pyarrow
    n_commas = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    n_quotes = np.searchsorted(quotes, ends) - np.searchsorted(quotes, starts)
    nonempty = ends > starts
    first = arr[np.minimum(starts, len(arr) - 1)]
    # pyarrow would drop a BOM at the start of its buffer, so a BOM-led line's outcome would
    # depend on the chunking: such lines take the per-line path, which quarantines them.
    bom_led = (ends - starts >= 3) & (first == BOM[0])
    bom_led &= (arr[np.minimum(starts + 1, len(arr) - 1)] == BOM[1]) & (
        arr[np.minimum(starts + 2, len(arr) - 1)] == BOM[2]
    )
    cand = (n_commas == 3) & (n_quotes == 0) & nonempty & (first != 44) & ~bom_led
    pos = body.find(_HEADER_LINE)
    while pos >= 0:  # a repeated header is keyless: keep it off the fast path
        i = int(np.searchsorted(starts, pos))
        if i < len(starts) and starts[i] == pos and ends[i] - pos == len(_HEADER_LINE):
            cand[i] = False
        pos = body.find(_HEADER_LINE, pos + 1)
    return starts, ends, cand


def _bom_reason(line: bytes) -> str:
    """Why a line that starts with a UTF-8 BOM is quarantined (say so when a header follows it,
    as when files with BOMs were concatenated)."""
    reason = "line starts with a UTF-8 byte order mark (EF BB BF), which only the start of the file may hold"
    return reason + ("; a repeated header follows it" if line[len(BOM) :] == _HEADER_LINE else "")


class _ChunkParser:
    """Parses successive chunks of one slice, carrying the order state across chunks."""

    def __init__(self, path: str | os.PathLike, lo: bytes | None, hi: bytes | None, validator: _Validator):
        self.path, self.lo, self.hi, self.v = str(path), lo, hi, validator
        self.prev_key: bytes | None = None
        self.prev_line = 0
        self.span_from: int | None = None  # line that opened a quoted field still open, if any
        self.rows: list[pd.DataFrame] = []
        self.bad: list[tuple[int, str, str, str]] = []

    def _raise_unsorted(self, key: object, line: int, prev: object, prev_line: int) -> NoReturn:
        raise UnsortedInputError(
            self.path,
            int(line),
            f"user_guid {key!r} sorts before {prev!r} on line {prev_line}; the file must be "
            "sorted by user_guid in byte order (LC_ALL=C sort)",
        )

    def _check_order(self, keys: pa.Array, line_numbers: np.ndarray) -> None:
        """Keys of the keyed lines (binary, in file order) must not decrease and lie in [lo, hi)."""
        n = len(keys)
        if not n:
            return
        if self.prev_key is not None and keys[0].as_py() < self.prev_key:
            self._raise_unsorted(keys[0].as_py(), line_numbers[0], self.prev_key, self.prev_line)
        if n > 1:
            down = pc.less(keys.slice(1), keys.slice(0, n - 1))  # pyright: ignore[reportAttributeAccessIssue]
            if pc.any(down).as_py():  # pyright: ignore[reportAttributeAccessIssue]
                i = int(np.flatnonzero(down.to_numpy(zero_copy_only=False))[0]) + 1
                self._raise_unsorted(
                    keys[i].as_py(), line_numbers[i], keys[i - 1].as_py(), line_numbers[i - 1]
                )
        for i in (0, n - 1):
            k = keys[i].as_py()
            if (self.lo is not None and k < self.lo) or (self.hi is not None and k >= self.hi):
                raise UnsortedInputError(
                    self.path,
                    int(line_numbers[i]),
                    f"user_guid {k!r} lies outside the range [{self.lo!r}, {self.hi!r}) whose slice "
                    "holds it; the file is not sorted by user_guid",
                )
        self.prev_key, self.prev_line = keys[n - 1].as_py(), int(line_numbers[n - 1])

    def _slow_line(self, line: bytes):
        """(guid, lat, lon, hll) and a (kind, reason) problem or None, for one line."""
        if not line:
            return None, ("blank_line", "blank line")
        if line.startswith(BOM):
            return None, ("byte_order_mark", _bom_reason(line))
        if line == _HEADER_LINE:
            return None, ("repeated_header", "repeated header line")
        fields = split_fields(line) if b'"' in line else line.split(b",")
        if fields is None:
            if quote_left_open(line):
                return None, (
                    "unterminated_quote",
                    "a quoted field is not closed before the end of the line; lines end at LF, so a "
                    "field cannot hold a line break (the lines that continue it are quarantined too)",
                )
            return None, ("bad_quoting", "malformed CSV quoting")
        if fields[0] == b"":
            return None, ("empty_user_guid", "empty user_guid")
        if len(fields) != 4:
            return None, ("field_count", f"{len(fields)} fields, expected 4 ({','.join(HEADER)})")
        guid, p = self.v.guids([fields[0]])[0]
        lat, p = (None, p) if p else self.v.coords([fields[1]], "latitude", 90.0)[0]
        lon, p = (None, p) if p else self.v.coords([fields[2]], "longitude", 180.0)[0]
        hll, p = (None, p) if p else self.v.hlls([fields[3]])[0]
        return (guid, lat, lon, hll), p

    def _continuation(self, line: bytes) -> tuple[str, str]:
        """The problem of a line that continues the quoted field opened on line ``span_from``;
        a line holding a quote would close it and ends the span."""
        opened = self.span_from
        if b'"' in line:
            self.span_from = None
        return (
            "unterminated_quote",
            f"continues the quoted field left open on line {opened}; lines end at LF, so a record "
            "cannot span lines",
        )

    def _fast(
        self,
        body: bytes,
        cand: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        line_numbers: np.ndarray,
    ) -> tuple[pd.DataFrame, dict[int, tuple[str, str]], pa.Array]:
        """Rows frame, quarantined {line index: problem} and guid column of the fast-path lines."""
        cand_idx = np.flatnonzero(cand)
        table = _fast_fields(body, cand, starts, ends)
        guid_col = table.column("user_guid").combine_chunks()
        v = self.v
        guid_text = _utf8_without_nul(guid_col)
        guids: np.ndarray | None = None
        if guid_text is None:  # some guid is bad: each is checked, and the bad ones named
            guids, pg, lg = _decode_column(guid_col, v.guids)
        else:
            pg, lg = np.full(len(guid_col), -1, dtype=np.int64), []
        lats, pla, lla = _decode_column(
            table.column("latitude").combine_chunks(), lambda r: v.coords(r, "latitude", 90.0)
        )
        lons, plo, llo = _decode_column(
            table.column("longitude").combine_chunks(), lambda r: v.coords(r, "longitude", 180.0)
        )
        hlls, ph, lh = _decode_column(table.column("userday_hll").combine_chunks(), v.hlls)
        ok = (pg < 0) & (pla < 0) & (plo < 0) & (ph < 0)
        kept_guids = guids[ok] if guids is not None else cast(pa.Array, guid_text).filter(pa.array(ok))
        rows = pd.DataFrame(
            {
                "line_number": line_numbers[cand_idx[ok]],
                "user_guid": pd.array(kept_guids, dtype="str"),
                "latitude": lats[ok].astype(np.float64),
                "longitude": lons[ok].astype(np.float64),
                "userday_hll": hlls[ok],
            }
        )
        problems = {}
        for j in np.flatnonzero(~ok).tolist():
            for codes, table_ in ((pg, lg), (pla, lla), (plo, llo), (ph, lh)):
                if codes[j] >= 0:
                    problems[int(cand_idx[j])] = table_[codes[j]]
                    break
        return rows, problems, guid_col

    def parse(self, chunk: bytes, first_line: int) -> int:
        """Parse one chunk of whole lines whose first line is ``first_line``; returns its line count."""
        text = chunk.replace(b"\r\n", b"\n") if b"\r" in chunk else chunk
        # A chunk ends with LF, except the slice's last one when the file's final line has no
        # LF: a CR there ends that line as CRLF would. Any other CR stays in its line.
        body = text[:-1] if text.endswith((b"\n", b"\r")) else text
        starts, ends, cand = _line_table(body)
        n = len(starts)
        line_numbers = first_line + np.arange(n, dtype=np.int64)

        frames, problems, guid_col = [], {}, pa.array([], pa.binary())
        if cand.any():
            rows, problems, guid_col = self._fast(body, cand, starts, ends, line_numbers)
            frames.append(rows)
        slow_idx = np.flatnonzero(~cand).tolist()
        slow_rows, slow_keys = [], {}
        records_before = np.cumsum(cand) - cand  # fast-path lines (records) before each line
        prev = 0  # records_before of the previous slow line (0 at the chunk start)
        for i in slow_idx:
            line = body[starts[i] : ends[i]]
            if self.span_from is not None and records_before[i] > prev:
                self.span_from = None  # a record ends the span
            prev = records_before[i]
            if self.span_from is not None and record_fields(line) is None:
                problems[i] = self._continuation(line)
                continue
            self.span_from = None
            key = line_key(line)
            if key is not None:
                slow_keys[i] = key
            vals, p = self._slow_line(line)
            if p is None:
                assert vals is not None  # a line without a problem has its values
                slow_rows.append((int(line_numbers[i]), *vals))
            else:
                problems[i] = p
                if p[0] == "unterminated_quote":
                    self.span_from = int(line_numbers[i])
        if self.span_from is not None and records_before[-1] + cand[-1] > prev:
            self.span_from = None

        if slow_keys:
            keyed = sorted([*zip(np.flatnonzero(cand).tolist(), guid_col.to_pylist()), *slow_keys.items()])
            keys = pa.array([k for _, k in keyed], pa.binary())
            key_lines = line_numbers[[i for i, _ in keyed]]
        else:
            keys, key_lines = guid_col, line_numbers[cand]
        self._check_order(keys, key_lines)

        if slow_rows:
            frames.append(
                pd.DataFrame(slow_rows, columns=ROW_COLUMNS).astype(
                    {
                        "line_number": np.int64,
                        "user_guid": "str",
                        "latitude": np.float64,
                        "longitude": np.float64,
                    }
                )
            )
        if frames:
            rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            if len(frames) > 1:
                rows = rows.sort_values("line_number", kind="stable", ignore_index=True)
            if len(rows):
                self.rows.append(rows)
        for i in sorted(problems):
            kind, reason = problems[i]
            raw = body[starts[i] : ends[i]].decode("utf-8", "backslashreplace")
            self.bad.append((int(line_numbers[i]), kind, reason, raw))
        return n


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_number": pd.array([], dtype=np.int64),
            "user_guid": pd.array([], dtype="str"),
            "latitude": pd.array([], dtype=np.float64),
            "longitude": pd.array([], dtype=np.float64),
            "userday_hll": pd.array([], dtype=object),
        }
    )


def read_slice(
    path: str | os.PathLike,
    start: int,
    end: int,
    *,
    lo: str | None = None,
    hi: str | None = None,
    first_line: int | None = None,
    expected_params: tuple[int, int, int, int] = (11, 5, 0, 1),
    chunk_bytes: int = 16 << 20,
) -> RangeRead:
    """Parse bytes [start, end) of ``path`` (whole lines); ``lo``/``hi`` bound the guids it may hold."""
    if first_line is None:
        first_line = line_number_at(path, start)
    parser = _ChunkParser(path, encode_bound(lo), encode_bound(hi), _Validator(expected_params))
    digest = hashlib.blake2b(digest_size=16)
    line = first_line
    for chunk in iter_chunks(path, start, end, chunk_bytes=chunk_bytes):
        digest.update(chunk)
        line += parser.parse(chunk, line)
    rows = pd.concat(parser.rows, ignore_index=True) if parser.rows else _empty_rows()
    quarantine = pd.DataFrame(parser.bad, columns=QUARANTINE_COLUMNS).astype({"line_number": np.int64})
    return RangeRead(
        path=str(path),
        start=start,
        end=end,
        first_line=first_line,
        n_lines=line - first_line,
        fingerprint=digest.hexdigest(),
        rows=rows,
        quarantine=quarantine,
    )


def read_range(
    path: str | os.PathLike,
    lo: str | None,
    hi: str | None,
    *,
    expected_params: tuple[int, int, int, int] = (11, 5, 0, 1),
    chunk_bytes: int = 16 << 20,
) -> RangeRead:
    """Rows of ``path`` whose user_guid is in [lo, hi) (None = unbounded), validated and quarantined."""
    start, end = find_byte_range(path, lo, hi)
    return read_slice(
        path, start, end, lo=lo, hi=hi, expected_params=expected_params, chunk_bytes=chunk_bytes
    )
