"""The userday reader gives the same rows and quarantine whatever its chunk size.

The reader splits a slice into chunks that end on a line feed; how large they are must not
change what a line becomes. The rules the tests pin down:

- A line ends at LF or at the end of the file; one CR right before that end is part of the
  terminator (CRLF, or a final line ending in CR). Every other CR is content: a lone CR does
  not end a line, and in ``x\\r\\r\\n`` the line is ``x\\r``.
- A UTF-8 BOM is only skipped at the start of the file (before the header). A data line that
  starts with one is quarantined as ``byte_order_mark`` and carries no order (like a blank
  line); a BOM later in a field is content.
- A user_guid holding a NUL byte is quarantined as ``bad_user_guid`` (PostgreSQL text cannot
  hold NUL, so the two HLL backends would otherwise see different input).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeloc_assets.reader import read_range
from homeloc_assets.slicing import UnsortedInputError, line_key, read_header
from partitions.user_ranges import user_ranges
from sample_data.hostile_userday_lines import BOM, GOOD_HLL, HEADER

H = GOOD_HLL[2].encode()
CR, LF = b"\r", b"\n"
# How a line may start (before its guid), what may follow the guid, and how it may end.
# (A CR or a guid-less quote at a line's start would mostly make the file unsorted; the
# hand-written cases below cover them.)
PREFIXES = [b"", b"", b"", BOM, BOM + BOM]
GUID_TAILS = [b"", b"", b"\x00", b"\x00x", BOM, CR, b"x\r"]
TERMINATORS = [LF] * 5 + [b"\r\n"] * 3 + [b"\r\r\n", b"\r", b"\r\r", b"\r\n\r\n", BOM + LF, b""]

line_spec = st.tuples(
    st.sampled_from(PREFIXES),
    st.sampled_from(GUID_TAILS),
    st.booleans(),  # quote the guid
    st.sampled_from(TERMINATORS),
    st.booleans(),  # a blank line instead
)


def _line(guid: bytes, prefix: bytes, tail: bytes, quoted: bool, blank: bool) -> bytes:
    if blank:
        return b""
    field = b'"' + guid + tail + b'"' if quoted else guid + tail
    return prefix + field + b",50.0,10.0," + H


def _file(specs, guids: list[bytes], bom: bool) -> bytes:
    """Header and one line per spec, each with its terminator (a missing one only at the end)."""
    out = [BOM if bom else b"", HEADER, LF]
    for i, ((prefix, tail, quoted, eol, blank), guid) in enumerate(zip(specs, guids)):
        out.append(_line(guid, prefix, tail, quoted, blank))
        last = i == len(specs) - 1
        out.append(eol if eol or last else LF)
    return b"".join(out)


def _outcome(path, chunk: int | None):
    """What the reader makes of the whole file: (n_lines, rows, quarantine) or the order error."""
    kwargs = {} if chunk is None else {"chunk_bytes": chunk}
    try:
        got = read_range(path, None, None, **kwargs)
    except UnsortedInputError as exc:
        return ("unsorted", exc.line_number, str(exc))
    return got


def _same(a, b, chunk) -> None:
    if isinstance(a, tuple) or isinstance(b, tuple):
        assert a == b, f"chunk_bytes={chunk}"
        return
    assert (a.n_lines, a.fingerprint) == (b.n_lines, b.fingerprint), f"chunk_bytes={chunk}"
    pd.testing.assert_frame_equal(a.rows, b.rows, obj=f"rows at chunk_bytes={chunk}")
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine, obj=f"quarantine at chunk_bytes={chunk}")


def chunk_sizes(data: bytes, data_start: int, picks: list[int]) -> list[int]:
    """Tiny sizes, and sizes whose first block ends right before or after a CR, LF or BOM byte."""
    special = [i for i, b in enumerate(data) if i >= data_start and b in (0x0D, 0x0A, 0xEF)]
    sizes = {1, 2, 5, 13}
    for pick in picks:
        if special:
            at = special[pick % len(special)] - data_start  # the first block ends just before / after it
            sizes.update(s for s in (at, at + 1) if s >= 1)
    return sorted(sizes)


@settings(
    max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(
    specs=st.lists(line_spec, min_size=1, max_size=12),
    seed=st.integers(0, 2**32 - 1),
    bom=st.booleans(),
    picks=st.lists(st.integers(0, 10_000), min_size=2, max_size=2),
)
def test_rows_and_quarantine_do_not_depend_on_the_chunk_size(tmp_path, cases, specs, seed, bom, picks):
    rng = np.random.default_rng(seed)
    guids = [f"{v:08x}".encode() for v in np.sort(rng.choice(2**32, len(specs), replace=False))]
    data = _file(specs, guids, bom)
    path = tmp_path / "chunks.csv"
    path.write_bytes(data)
    data_start, _ = read_header(path)

    whole = _outcome(path, None)
    for chunk in chunk_sizes(data, data_start, picks):
        _same(whole, _outcome(path, chunk), chunk)
    if not isinstance(whole, tuple):
        numbers = whole.rows["line_number"].tolist() + whole.quarantine["line_number"].tolist()
        assert sorted(numbers) == list(range(2, 2 + whole.n_lines))
        # Each line in exactly one user range, read there as in the whole file.
        parts = [read_range(path, r.lo, r.hi, chunk_bytes=3) for r in user_ranges(2)]
        assert sum(p.n_lines for p in parts) == whole.n_lines
        got = sorted(n for p in parts for n in [*p.rows["line_number"], *p.quarantine["line_number"]])
        assert got == sorted(numbers)
    cases["chunk-size files"] += 1


def _write(path, body: bytes, bom: bool = False) -> None:
    path.write_bytes((BOM if bom else b"") + HEADER + LF + body)


def _read_everywhere(path):
    """read_range with the default and with tiny chunks: they must agree; the default is returned."""
    whole = read_range(path, None, None)
    for chunk in (1, 2, 7):
        _same(whole, read_range(path, None, None, chunk_bytes=chunk), chunk)
    return whole


def test_bom_at_the_start_of_a_data_line_is_quarantined_and_keyless(tmp_path):
    path = tmp_path / "bom.csv"
    # The BOM line would sort after "b0" by its bytes; it carries no order, so "b0" follows fine.
    _write(path, b"a0,1.0,2.0," + H + LF + BOM + b"a5,1.0,2.0," + H + LF + b"b0,1.0,2.0," + H + LF, bom=True)
    got = _read_everywhere(path)
    assert got.rows["user_guid"].tolist() == ["a0", "b0"]
    q = got.quarantine
    assert q["line_number"].tolist() == [3] and q["kind"].tolist() == ["byte_order_mark"]
    assert "byte order mark" in q["reason"].iloc[0]
    assert q["raw_line"].iloc[0] == "\ufeffa5,1.0,2.0," + H.decode()
    assert line_key(BOM + b"a5,1.0,2.0," + H) is None


def test_bom_inside_a_guid_is_content(tmp_path):
    path = tmp_path / "bom_inside.csv"
    _write(path, b"a0" + BOM + b",1.0,2.0," + H + LF)
    got = _read_everywhere(path)
    assert got.rows["user_guid"].tolist() == ["a0\ufeff"] and got.quarantine.empty


@pytest.mark.parametrize(
    "body, rows, quarantined",
    [
        # One CR before LF is the terminator; a second one is content: "\r\r\n" is a 1-field line,
        # not a blank one ...
        (b"a0,1.0,2.0,H\n\r\r\nb0,1.0,2.0,H\r\n", [2, 4], {3: "field_count"}),
        # ... and after an hll value it is whitespace, which hex input skips as PostgreSQL's does.
        (b"a0,1.0,2.0,H\r\r\nb0,1.0,2.0,H\r\n", [2, 3], {}),
        # A final line's trailing CR ends it like CRLF would.
        (b"a0,1.0,2.0,H\nb0,1.0,2.0,H\r", [2, 3], {}),
        (b"a0,1.0,2.0,H\n\r", [2], {3: "blank_line"}),
        # A lone CR does not end a line: the two records are one line of 7 fields.
        (b"a0,1.0,2.0,H\rb0,1.0,2.0,H\n", [], {2: "field_count"}),
        # CR LF CR: the CR after the line feed is the first byte of the next line's guid.
        (b"\x01a0,1.0,2.0,H\n\rb0,1.0,2.0,H\n", [2, 3], {}),
    ],
)
def test_carriage_return_rules(tmp_path, body, rows, quarantined):
    path = tmp_path / "cr.csv"
    _write(path, body.replace(b"H", H))
    got = _read_everywhere(path)
    assert got.rows["line_number"].tolist() == rows
    assert dict(zip(got.quarantine["line_number"], got.quarantine["kind"])) == quarantined
    if b"\n\rb0" in body:
        assert got.rows["user_guid"].tolist() == ["\x01a0", "\rb0"]


@pytest.mark.parametrize("guid_field", [b"a1\x00", b"a1\x00x", b'"a1\x00,x"'])
def test_nul_in_user_guid_is_quarantined_naming_the_field(tmp_path, guid_field):
    path = tmp_path / "nul.csv"
    _write(path, b"a0,1.0,2.0," + H + LF + guid_field + b",1.0,2.0," + H + LF + b"a2,1.0,2.0," + H + LF)
    got = _read_everywhere(path)
    assert got.rows["user_guid"].tolist() == ["a0", "a2"]
    q = got.quarantine
    assert q["line_number"].tolist() == [3] and q["kind"].tolist() == ["bad_user_guid"]
    assert "user_guid" in q["reason"].iloc[0] and "NUL" in q["reason"].iloc[0]
