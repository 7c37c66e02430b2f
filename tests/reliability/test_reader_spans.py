"""A quoted field holding a line break: the span is quarantined as unterminated_quote, never an order error.

Rule (README, homeloc_assets/reader.py): lines end at LF. A line whose quoted field is left
open at its end is quarantined as ``unterminated_quote``, with each following line that
continues it, up to and including the first that holds a double quote, stopping before a line
that is a record by itself. Every line of a span is keyless, so it lies in one range (with the
next keyed line) whatever the slice and chunk boundaries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from homeloc_assets.reader import read_range
from homeloc_assets.slicing import find_byte_range, line_number_at, read_header
from partitions.user_ranges import user_ranges
from sample_data.hostile_userday_lines import GOOD_HLL, HEADER

H = GOOD_HLL[2].encode()
SPAN = "unterminated_quote"


def _rec(guid: bytes) -> bytes:
    return guid + b",50.0,10.0," + H


def _sorted_file(n: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [_rec(f"{v:08x}".encode()) for v in np.sort(rng.choice(2**32, n, replace=False))]


def _write(path, lines: list[bytes], final_eol: bool = True) -> bytes:
    data = HEADER + b"\n" + b"\n".join(lines) + (b"\n" if final_eol else b"")
    path.write_bytes(data)
    return data


def _outcome(read) -> tuple:
    return (
        read.n_lines,
        read.rows[["line_number", "user_guid"]].values.tolist(),
        read.quarantine[["line_number", "kind"]].values.tolist(),
    )


def _everywhere(path, data: bytes, around: list[int] = ()) -> object:
    """read_range over the whole file with many chunk sizes (tiny, and cuts right before and
    after each LF near ``around``) and over 2, 4 and 16 ranges: all must agree."""
    whole = read_range(path, None, None)
    expected = _outcome(whole)
    start, _ = read_header(path)
    sizes = {1, 2, 3, 7, 64}
    for at in around:
        sizes.update(s for s in range(at - start - 2, at - start + 3) if s >= 1)
    for size in sorted(sizes):
        assert _outcome(read_range(path, None, None, chunk_bytes=size)) == expected, size
    for n in (2, 4, 16):
        parts = [read_range(path, r.lo, r.hi, chunk_bytes=5) for r in user_ranges(n)]
        assert sum(p.n_lines for p in parts) == whole.n_lines
        rows = pd.concat([p.rows for p in parts]).sort_values("line_number")
        bad = pd.concat([p.quarantine for p in parts]).sort_values("line_number")
        assert rows["line_number"].tolist() == whole.rows["line_number"].tolist(), n
        assert bad[["line_number", "kind"]].values.tolist() == expected[2], n
    return whole


def test_sorted_file_with_a_line_break_in_a_quoted_user_guid(tmp_path):
    # The file: 600 sorted lines; the record at line 599 is "p<LF>q", sorting between its
    # neighbours; its second line 'q",…' used to stop the range as unsorted.
    lines = _sorted_file(600)
    lines[597] = b'"' + lines[596][:8] + b"p\nq" + b'",50.0,10.0,' + H  # guid "<prev>p\nq", in order
    path = tmp_path / "span.csv"
    data = _write(path, lines)
    split = data.index(b"p\nq") + 1
    got = _everywhere(path, data, [split])
    assert got.n_lines == 601
    q = got.quarantine
    assert q["line_number"].tolist() == [599, 600] and q["kind"].tolist() == [SPAN, SPAN]
    assert "not closed before the end of the line" in q["reason"].iloc[0]
    assert "left open on line 599" in q["reason"].iloc[1]
    assert len(got.rows) == 599 and got.rows["user_guid"].is_monotonic_increasing


@pytest.mark.parametrize(
    "span, kinds",
    [
        # the open quote in the last column (the hll value)
        ([b'a5,50.0,10.0,"\\x11', b'8b7f"'], [SPAN, SPAN]),
        # three lines, a blank one inside
        ([b'"a5', b"", b'b"c,50.0,10.0,' + H], [SPAN, SPAN, SPAN]),
        # a continuation without a quote goes on; the quote on the third line closes it
        ([b'"a5', b"middle", b'end",50.0,10.0,' + H], [SPAN, SPAN, SPAN]),
        # the closing quote starts the continuation line (the field ended with the line break)
        ([b'a5,"50.', b'",10.0,' + H], [SPAN, SPAN]),
        # a record by itself ends an unclosed span: it is read as a record
        ([b'"a5', b"x", _rec(b"a6")], [SPAN, SPAN, "row"]),
    ],
)
def test_span_siblings(tmp_path, span, kinds):
    before, after = _rec(b"a4"), _rec(b"a7")
    path = tmp_path / "sib.csv"
    data = _write(path, [before, *span, after])
    got = _everywhere(path, data, [data.index(span[0]) + len(span[0])])
    outcome = {n: k for n, k in got.quarantine[["line_number", "kind"]].values.tolist()}
    outcome.update({n: "row" for n in got.rows["line_number"]})
    assert [outcome[3 + i] for i in range(len(span))] == kinds
    assert outcome[2] == outcome[3 + len(span)] == "row"


@pytest.mark.parametrize("final_eol", [True, False])
def test_open_quote_on_the_last_line(tmp_path, final_eol):
    path = tmp_path / "eof.csv"
    data = _write(path, [_rec(b"a1"), b'"a2,50.0,10.0,' + H], final_eol)
    got = _everywhere(path, data)
    assert got.rows["user_guid"].tolist() == ["a1"]
    assert got.quarantine[["line_number", "kind"]].values.tolist() == [[3, SPAN]]


@pytest.mark.parametrize("final_eol", [True, False])
def test_span_running_to_the_end_of_the_file(tmp_path, final_eol):
    path = tmp_path / "eof2.csv"
    data = _write(path, [_rec(b"a1"), b'"a2', b"b", b""], final_eol)
    got = _everywhere(path, data)
    assert got.rows["user_guid"].tolist() == ["a1"]
    assert set(got.quarantine["kind"]) == {SPAN} and len(got.quarantine) == got.n_lines - 1


def test_span_at_a_range_boundary_is_neither_split_nor_misattributed(tmp_path):
    # "7z<LF>8a": the opening line's text sorts in range 0-7, the continuation's in 8-f; both
    # are keyless and go with the next keyed line (80…), whole, in range 8-f.
    path = tmp_path / "boundary.csv"
    lines = [_rec(b"70"), _rec(b"7f"), b'"7z', b'8a",50.0,10.0,' + H, _rec(b"80"), _rec(b"f0")]
    data = _write(path, lines)
    _everywhere(path, data, [data.index(b"7z") + 2])
    low, high = user_ranges(2)
    _, end = find_byte_range(path, low.lo, low.hi)
    assert end == data.index(b'"7z') and line_number_at(path, end) == 4
    assert find_byte_range(path, high.lo, high.hi)[0] == end
    got_low = read_range(path, low.lo, low.hi)
    got_high = read_range(path, high.lo, high.hi)
    assert got_low.rows["user_guid"].tolist() == ["70", "7f"] and got_low.quarantine.empty
    assert got_high.quarantine[["line_number", "kind"]].values.tolist() == [[4, SPAN], [5, SPAN]]
    assert got_high.rows["user_guid"].tolist() == ["80", "f0"]
