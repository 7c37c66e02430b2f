"""The userday reader on hostile CSVs: every physical line is a row or quarantined, exactly once, wherever the range and chunk boundaries fall."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeloc_assets.reader import read_range
from homeloc_assets.slicing import UnsortedInputError
from partitions.user_ranges import user_ranges
from sample_data.hostile_userday_lines import (
    BAD_HLL,
    BAD_LAT,
    BAD_LON,
    GOOD_COORD,
    GOOD_HLL,
    GOOD_HLL_TEXT,
    GUID_TAIL,
    KINDS,
    Line,
    bad,
    build_file,
    carriage_return,
    embedded_newline,
    good,
    with_spans,
)

good_spec = st.tuples(
    st.just("good"),
    st.sampled_from(GUID_TAIL),
    st.sampled_from(GOOD_COORD),
    st.sampled_from(GOOD_COORD + ["-180", "180", "-179.99"]),
    st.sampled_from(GOOD_HLL_TEXT),
    st.tuples(*[st.booleans()] * 4),
)
bad_spec = st.one_of(
    st.tuples(st.just("lat"), st.sampled_from(BAD_LAT)),
    st.tuples(st.just("lon"), st.sampled_from(BAD_LON)),
    st.tuples(st.just("hll"), st.sampled_from([h for h, _ in BAD_HLL])),
    st.tuples(st.just("guid_bytes"), st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff"])),
    st.tuples(st.just("guid_nul"), st.sampled_from([b"\x00", b"\x00x", b"x\x00,"])),
    st.tuples(st.just("bom_line"), st.sampled_from([b"", b"\xef\xbb\xbf"])),
    st.tuples(st.just("lat_bytes"), st.sampled_from([b"\xff", b"\xc2\xa0", b"\x00"])),
    st.tuples(st.just("hll_bytes"), st.sampled_from([b"8b\xff0", b"\xc3\xa9"])),
    st.tuples(st.just("fields"), st.sampled_from(["1", "2", "3", "5"])),
    st.tuples(
        st.sampled_from(
            [
                "trailing_comma",
                "open_quote",
                "stray_quote",
                "quote_then_text",
                "unterminated_guid",
                "blank",
                "header",
                "cr_only",
            ]
        ),
        st.just(""),
    ),
    st.tuples(st.just("empty_guid"), st.sampled_from(["", "q"])),
).map(lambda t: ("bad", *t))
other_spec = st.one_of(
    st.tuples(st.just("newline"), st.booleans()),
    st.tuples(st.just("cr"), st.integers(1, 3)),
)
line_spec = st.one_of(good_spec, good_spec, bad_spec, bad_spec, other_spec)


def physical_lines(specs: list[tuple], guids: list[str]) -> list[Line]:
    """The Lines of ``specs``, each physical line given the next guid."""
    out: list[Line] = []
    it = iter(guids)
    for i, spec in enumerate(specs):
        hll = GOOD_HLL[i % len(GOOD_HLL)]
        if spec[0] == "good":
            out.append(good(next(it), *spec[1:]))
        elif spec[0] == "bad":
            out.append(bad(next(it), spec[1], spec[2], hll))
        elif spec[0] == "newline":
            out.extend(embedded_newline(next(it), next(it), hll, spec[1]))
        else:
            out.append(carriage_return(next(it), hll, spec[1]))
    return out


def n_guids(specs) -> int:
    return sum(2 if s[0] == "newline" else 1 for s in specs)


def check_against_lines(got, lines: list[Line]) -> None:
    """Exactly one outcome per line, the expected one where the Line says."""
    n = len(lines)
    assert got.n_lines == n == len(got.rows) + len(got.quarantine)
    numbers = got.rows["line_number"].tolist() + got.quarantine["line_number"].tolist()
    assert sorted(numbers) == list(range(2, n + 2)), "line numbers are not unique or miss a line"
    assert got.quarantine["reason"].str.len().gt(0).all()
    assert set(got.quarantine["kind"]) <= KINDS
    rows = got.rows.set_index("line_number")
    bad_ = got.quarantine.set_index("line_number")
    for number, line in enumerate(lines, start=2):
        if line.expect == "row":
            assert number in rows.index, (line, bad_.loc[number].to_dict() if number in bad_.index else None)
            row = rows.loc[number]
            assert (row["user_guid"], row["latitude"], row["longitude"], row["userday_hll"]) == (
                line.guid,
                line.lat,
                line.lon,
                line.hll,
            )
        elif line.expect != "any":
            assert number in bad_.index, (line, rows.loc[number].to_dict() if number in rows.index else None)
            assert bad_.loc[number, "kind"] == line.expect, (line, bad_.loc[number].to_dict())
        if number in bad_.index and b"\r" not in line.data:
            assert bad_.loc[number, "raw_line"] == line.data.decode("utf-8", "backslashreplace")


def _combined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The ranges' frames as one, in line order (empty ones left out: their dtypes are looser)."""
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0]
    return pd.concat(filled).sort_values("line_number", ignore_index=True)


@settings(
    max_examples=150, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(
    specs=st.lists(line_spec, min_size=6, max_size=60),
    seed=st.integers(0, 2**32 - 1),
    crlf_share=st.sampled_from([0.0, 0.3, 1.0]),
    bom=st.booleans(),
    final_eol=st.booleans(),
    chunk=st.integers(1, 300),
    n_ranges=st.sampled_from([2, 4]),
)
def test_every_line_is_a_row_or_quarantined_exactly_once(
    tmp_path, cases, specs, seed, crlf_share, bom, final_eol, chunk, n_ranges
):
    rng = np.random.default_rng(seed)
    guids = [f"{v:08x}" for v in np.sort(rng.choice(2**32, n_guids(specs), replace=False))]
    lines = with_spans(physical_lines(specs, guids))
    eols = [b"\r\n" if crlf else b"\n" for crlf in rng.random(len(lines)) < crlf_share]
    # A CR right before a CRLF is left out: the reader drops it at a chunk's end only, so
    # that line's kind would depend on where chunks end.
    eols = [b"\n" if line.data.endswith(b"\r") else eol for line, eol in zip(lines, eols)]
    path = tmp_path / "hostile.csv"
    path.write_bytes(build_file(lines, eols, bom, final_eol))

    whole = read_range(path, None, None)
    check_against_lines(whole, lines)
    # The same lines, whatever the chunking …
    chunked = read_range(path, None, None, chunk_bytes=chunk)
    pd.testing.assert_frame_equal(whole.rows, chunked.rows)
    pd.testing.assert_frame_equal(whole.quarantine, chunked.quarantine)
    # … and whatever the user ranges: each line in exactly one range, read the same way there.
    parts = [read_range(path, r.lo, r.hi) for r in user_ranges(n_ranges)]
    assert sum(p.n_lines for p in parts) == whole.n_lines
    pd.testing.assert_frame_equal(
        _combined([p.rows for p in parts]), whole.rows, check_dtype=bool(len(whole.rows))
    )
    pd.testing.assert_frame_equal(
        _combined([p.quarantine for p in parts]), whole.quarantine, check_dtype=bool(len(whole.quarantine))
    )
    cases["userday reader files"] += 1
    cases["userday lines reconciled"] += len(lines)


H = GOOD_HLL[2]


def _write(path, body: bytes) -> None:
    path.write_bytes(b"user_guid,latitude,longitude,userday_hll\n" + body)


def test_quoted_newline_makes_two_quarantined_lines(tmp_path):
    # A record is one physical line: a quoted field left open at a line's end is quarantined
    # with the line that continues (and closes) it.
    _write(
        tmp_path / "f.csv",
        f'a1,50.0,10.0,{H}\na2,"50.\n",10.0,{H}\na3,"5\na4",10.0,{H}\na5,1.0,2.0,{H}\n'.encode(),
    )
    got = read_range(tmp_path / "f.csv", None, None)
    assert got.n_lines == 6
    assert got.rows["line_number"].tolist() == [2, 7]
    q = got.quarantine
    assert q["line_number"].tolist() == [3, 4, 5, 6] and set(q["kind"]) == {"unterminated_quote"}
    assert q["raw_line"].tolist() == ['a2,"50.', f'",10.0,{H}', 'a3,"5', f'a4",10.0,{H}']
    assert "left open on line 3" in q["reason"].iloc[1] and "left open on line 5" in q["reason"].iloc[3]


def test_quoted_newline_whose_continuation_sorts_first_is_not_an_order_error(tmp_path):
    # The continuation "0\",10.0,…" would sort before b1; it is keyless, never an order error.
    path = tmp_path / "continued.csv"
    _write(path, f'b1,"50.\n0",10.0,{H}\nb2,1.0,2.0,{H}\n'.encode())
    got = read_range(path, None, None)
    assert got.rows["user_guid"].tolist() == ["b2"]
    assert got.quarantine["kind"].tolist() == ["unterminated_quote"] * 2


def test_a_line_that_really_sorts_first_is_still_an_order_error(tmp_path):
    path = tmp_path / "unsorted.csv"
    _write(path, f'b1,1.0,2.0,{H}\na0",1.0,2.0,{H}\na1,1.0,2.0,{H}\n'.encode())
    with pytest.raises(UnsortedInputError, match=r"unsorted\.csv: line 4") as exc:
        read_range(path, None, None)
    assert exc.value.line_number == 4


@pytest.mark.parametrize(
    "body, kinds",
    [
        (
            b"a1,50.0,10.0," + H.encode() + b"\r\n\r\n" + b"a2,50.0,10.0," + H.encode() + b"\r\n",
            ["blank_line"],
        ),
        (
            b"a1,\xff,10.0," + H.encode() + b"\na2,50.0,\xfe," + H.encode() + b"\na3,1,2,\\x11\xff\n",
            ["bad_latitude", "bad_longitude", "bad_hll"],
        ),
        (b"a1\x00,50.0,10.0," + H.encode() + b"\n", ["bad_user_guid"]),
        (
            b"\xef\xbb\xbfa1,50.0,10.0,"
            + H.encode()
            + b"\n\xef\xbb\xbfuser_guid,latitude,longitude,userday_hll\n",
            ["byte_order_mark"] * 2,
        ),
        (
            b"user_guid,latitude,longitude,userday_hll\nuser_guid,latitude,longitude,userday_hll\n",
            ["repeated_header", "repeated_header"],
        ),
        (b"a1,50.0,10.0," + H.encode() + b",,\n", ["field_count"]),
        (
            b"a1,1e308,10.0,"
            + H.encode()
            + b"\na2,50,-1e-400,"
            + H.encode()
            + b"\na3,9e999,0,"
            + H.encode()
            + b"\n",
            ["bad_latitude", "bad_latitude"],
        ),
    ],
)
def test_hand_written_hostile_files(tmp_path, body, kinds):
    path = tmp_path / "f.csv"
    _write(path, body)
    got = read_range(path, None, None)
    n = body.count(b"\n")
    assert got.n_lines == n == len(got.rows) + len(got.quarantine)
    assert got.quarantine["kind"].tolist() == kinds


def test_bom_and_crlf_header_are_not_a_line(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(
        b"\xef\xbb\xbfuser_guid,latitude,longitude,userday_hll\r\na1,50.0,10.0," + H.encode() + b"\r\n"
    )
    got = read_range(path, None, None)
    assert got.n_lines == 1 and got.rows["line_number"].tolist() == [2] and got.quarantine.empty
