"""Reading one range: validation, quarantine reasons and line numbers, order precondition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeloc_assets.reader import QUARANTINE_COLUMNS, ROW_COLUMNS, read_range, read_slice
from homeloc_assets.slicing import UnsortedInputError, find_byte_range, slice_fingerprint
from tests.homeloc.conftest import HEADER, hll_hex, write_lines

H = hll_hex("2020-01-01")
H2 = hll_hex("2020-01-01", "2020-01-02")
H_LOG2M_12 = hll_hex("2020-01-01", log2m=12)
H_EXPLICIT = "\\x128b7f00000000000000010000000000000002"  # expthresh -1, explicit storage
H_UNDEFINED = "\\x108b40"

BAD_LINES = [
    ("01,95,2.0,{H}", "bad_latitude", "latitude 95.0 is outside [-90, 90]"),
    ("01,-90.5,2.0,{H}", "bad_latitude", "outside [-90, 90]"),
    ("01,abc,2.0,{H}", "bad_latitude", "latitude is not a number: 'abc'"),
    ("01,,2.0,{H}", "bad_latitude", "latitude is not a number: ''"),
    ("01,NaN,2.0,{H}", "bad_latitude", "latitude is not finite: 'NaN'"),
    ("01,1.0,inf,{H}", "bad_longitude", "longitude is not finite: 'inf'"),
    ("01,1.0,180.01,{H}", "bad_longitude", "longitude 180.01 is outside [-180, 180]"),
    ("01,1.0,2.0,\\xzz", "bad_hll", "not hexadecimal"),
    ("01,1.0,2.0,\\x1", "bad_hll", "odd number of hex digits"),
    ("01,1.0,2.0,\\x", "bad_hll", "3-byte header"),
    ("01,1.0,2.0,\\xff8b4014a2", "bad_hll", "schema version"),
    ("01,1.0,2.0,hello!", "bad_hll", "not hexadecimal"),
    ("01,1.0,2.0," + H_UNDEFINED, "bad_hll", "UNDEFINED"),
    ("01,1.0,2.0," + H_LOG2M_12, "hll_parameters", "(12, 5, 0, 1) differ from the expected (11, 5, 0, 1)"),
    ("01,1.0,2.0," + H_EXPLICIT, "hll_parameters", "(11, 5, -1, 1)"),
    ("01,1.0,2.0", "field_count", "3 fields, expected 4"),
    ("01,1.0,2.0,{H},extra", "field_count", "5 fields, expected 4"),
    ("01", "field_count", "1 fields"),
    (",1.0,2.0,{H}", "empty_user_guid", "empty user_guid"),
    ('"",1.0,2.0,{H}', "empty_user_guid", "empty user_guid"),
    ("", "blank_line", "blank line"),
    (HEADER, "repeated_header", "repeated header"),
    ('"01,1.0,2.0,{H}', "unterminated_quote", "not closed before the end of the line"),
    ('01,"1.0,2.0,{H}', "unterminated_quote", "not closed before the end of the line"),
    ('01,1.0,2.0,"{H}', "unterminated_quote", "not closed before the end of the line"),
    ('"01"x,1.0,2.0,{H}', "bad_quoting", "malformed CSV quoting"),
    ('01,1"0,2.0,{H}', "bad_quoting", "malformed CSV quoting"),
    ('"01",95,2.0,"{H}"', "bad_latitude", "outside [-90, 90]"),
    (b"01\xff,1.0,2.0," + H.encode(), "bad_user_guid", "not valid UTF-8"),
    (b"01,1.0\xff,2.0," + H.encode(), "bad_latitude", "not a number: '1.0\\\\xff'"),
]


def _render(line):
    return line if isinstance(line, bytes) else line.replace("{H}", H)


@pytest.mark.parametrize(
    "line, kind, reason", BAD_LINES, ids=[f"{k}-{i}" for i, (_, k, _) in enumerate(BAD_LINES)]
)
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_bad_line_is_quarantined_with_its_reason_and_line_number(tmp_path, line, kind, reason, eol):
    path = tmp_path / "f.csv"
    write_lines(path, [f"00,1.0,2.0,{H}", _render(line), f"02,3.0,4.0,{H2}"], eol=eol)
    got = read_range(path, None, None)
    assert got.n_lines == 3
    assert got.rows["line_number"].tolist() == [2, 4]
    q = got.quarantine
    assert q["line_number"].tolist() == [3]
    assert q["kind"].tolist() == [kind]
    assert reason in q["reason"].iat[0]
    raw = _render(line)
    expected_raw = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    assert q["raw_line"].iat[0] == expected_raw


def test_rows_have_the_documented_columns_and_values(tmp_path):
    path = tmp_path / "f.csv"
    write_lines(path, [f"0a,52.52,13.4,{H}", f"0b,-33.9,151.2,{H2}"])
    got = read_range(path, None, "1")
    rows = got.rows
    assert list(rows.columns) == ROW_COLUMNS and list(got.quarantine.columns) == QUARANTINE_COLUMNS
    assert rows["line_number"].dtype == np.int64
    assert rows["latitude"].dtype == np.float64 and rows["longitude"].dtype == np.float64
    assert rows["user_guid"].tolist() == ["0a", "0b"]
    assert rows["latitude"].tolist() == [52.52, -33.9]
    assert rows["userday_hll"].tolist() == [bytes.fromhex(H[2:]), bytes.fromhex(H2[2:])]
    assert got.first_line == 2 and got.n_lines == 2


def test_bom_crlf_and_quoting_read_like_plain_lines(tmp_path):
    plain, fancy = tmp_path / "plain.csv", tmp_path / "fancy.csv"
    write_lines(plain, [f"0a,52.5,13.4,{H}", f"0b,48.8,2.3,{H2}", f"0c,1.0,2.0,{H}"])
    write_lines(
        fancy, [f'"0a","52.5",13.4,"{H}"', f"0b,48.8,2.3,{H2}", f'"0c",1.0,"2.0",{H}'], eol="\r\n", bom=True
    )
    a, b = read_range(plain, None, None), read_range(fancy, None, None)
    pd.testing.assert_frame_equal(a.rows, b.rows)
    assert b.quarantine.empty and b.n_lines == 3


def test_last_line_without_newline_and_blank_lines(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + "\n" + f"0a,1.0,2.0,{H}\n\n\n0b,1.0,2.0,{H}\r").encode())
    got = read_range(path, None, None)
    assert got.rows["line_number"].tolist() == [2, 5]
    assert got.quarantine["line_number"].tolist() == [3, 4]
    assert set(got.quarantine["kind"]) == {"blank_line"}


def test_unsorted_input_raises_naming_file_and_line(tmp_path):
    path = tmp_path / "unsorted.csv"
    write_lines(path, [f"00,1.0,2.0,{H}", f"02,1.0,2.0,{H}", "", f"01,1.0,2.0,{H}"])
    with pytest.raises(
        UnsortedInputError, match=r"unsorted\.csv: line 5: user_guid b'01' sorts before b'02' on line 3"
    ) as exc:
        read_range(path, None, None)
    assert exc.value.line_number == 5


def test_unsorted_input_across_chunks_raises(tmp_path):
    path = tmp_path / "unsorted.csv"
    write_lines(path, [f"{k},1.0,2.0,{H}" for k in ["00", "01", "02", "03", "05", "04", "06"]])
    with pytest.raises(UnsortedInputError, match="line 7"):
        read_range(path, None, None, chunk_bytes=40)


def test_guid_outside_the_slice_range_raises(tmp_path):
    path = tmp_path / "f.csv"
    write_lines(path, [f"{k},1.0,2.0,{H}" for k in ["00", "10", "20"]])
    start, end = find_byte_range(path, None, None)
    with pytest.raises(UnsortedInputError, match="line 2: user_guid b'00' lies outside the range"):
        read_slice(path, start, end, lo="1", hi="2")


def test_empty_range(tmp_path):
    path = tmp_path / "f.csv"
    write_lines(path, [f"00,1.0,2.0,{H}", f"20,1.0,2.0,{H}"])
    got = read_range(path, "1", "2")
    assert got.n_lines == 0 and got.rows.empty and got.quarantine.empty
    assert list(got.rows.columns) == ROW_COLUMNS
    assert got.rows["line_number"].dtype == np.int64


good_tail = st.builds(
    lambda lat, lon, h: f"{lat},{lon},{h}".encode(),
    st.floats(-90, 90, allow_nan=False).map(lambda v: f"{v:.3f}"),
    st.floats(-180, 180, allow_nan=False).map(lambda v: f"{v:.3f}"),
    st.sampled_from([H, H2, H_LOG2M_12, "\\x00", "\\xzz"]),
)
wild_tail = st.binary(max_size=30).map(lambda b: b.replace(b"\n", b""))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tails=st.lists(st.one_of(good_tail, wild_tail, st.just(None)), max_size=40),
    chunk=st.integers(8, 400),
    eol=st.sampled_from([b"\n", b"\r\n"]),
)
def test_every_line_lands_in_rows_or_quarantine_whatever_the_chunking(tmp_path, tails, chunk, eol):
    lines = [b"" if t is None else f"k{i:04d},".encode() + t for i, t in enumerate(tails)]
    path = tmp_path / "wild.csv"
    path.write_bytes(eol.join([HEADER.encode(), *lines]) + eol)
    whole = read_range(path, None, None)
    parts = read_range(path, None, None, chunk_bytes=chunk)
    numbers = whole.rows["line_number"].tolist() + whole.quarantine["line_number"].tolist()
    assert sorted(numbers) == list(range(2, 2 + len(lines)))
    assert whole.n_lines == len(lines)
    pd.testing.assert_frame_equal(whole.rows, parts.rows)
    pd.testing.assert_frame_equal(whole.quarantine, parts.quarantine)
    assert whole.fingerprint == parts.fingerprint


def test_middle_range_has_absolute_line_numbers_and_the_slice_fingerprint(tmp_path):
    path = tmp_path / "f.csv"
    write_lines(
        path,
        [f"0{i},1.0,2.0,{H}" for i in range(5)]
        + [f"1{i},95,2.0,{H}" for i in range(3)]
        + [f"2a,1.0,2.0,{H}"],
    )
    got = read_range(path, "1", "2")
    assert got.first_line == 7 and got.n_lines == 3
    assert got.quarantine["line_number"].tolist() == [7, 8, 9]
    assert got.fingerprint == slice_fingerprint(path, got.start, got.end)


def test_many_hll_values_of_one_chunk_each_get_their_own_outcome(tmp_path):
    """Good values (either case) among odd-length, non-hex, mis-prefixed and invalid ones: the
    bulk hex decode must keep every value apart from its neighbours."""
    days = [hll_hex(f"2020-01-{d:02d}", user=str(d)) for d in range(1, 29)]
    values = {
        0: days[0],
        1: days[1][:-1],  # odd number of digits
        2: days[2].upper().replace("\\X", "\\x"),  # upper-case digits are hex too
        3: days[3][:10] + "g" + days[3][11:],  # one non-hex digit
        4: days[4],
        5: "\\X" + days[5][2:],  # the codec decides on anything but a plain "\x" prefix
        6: "\\x",
        7: H_UNDEFINED,
        8: days[8][:7] + "zz" + days[8][9:],
        9: days[9],
    }
    lines = [f"{i:02d},1.0,2.0,{v}" for i, v in values.items()]
    got = read_range(_write(tmp_path, lines), None, None)
    rows = got.rows.set_index("user_guid")["userday_hll"]
    for i in (0, 2, 4, 9):
        assert rows[f"{i:02d}"] == bytes.fromhex(values[i][2:]), i
    q = got.quarantine.set_index("line_number")
    assert sorted(q.index) == [3, 5, 8, 9, 10]  # values 1, 3, 6, 7, 8 (line = value + 2)
    assert "odd number of hex digits" in q.at[3, "reason"]
    assert "not hexadecimal" in q.at[5, "reason"]
    assert "3-byte header" in q.at[8, "reason"]
    assert "UNDEFINED" in q.at[9, "reason"]
    assert "not hexadecimal" in q.at[10, "reason"]
    assert (q["kind"] == "bad_hll").all()
    # "\X…" is left to the one-value codec, which takes it: its own value, not a neighbour's.
    assert rows["05"] == bytes.fromhex(values[5][2:])
    # The same outcome line by line, one value per file.
    for i, v in values.items():
        alone = read_range(_write(tmp_path, [f"{i:02d},1.0,2.0,{v}"]), None, None)
        assert len(alone.rows) == (f"{i:02d}" in rows.index), i


def _write(tmp_path, lines):
    path = tmp_path / "many.csv"
    write_lines(path, lines)
    return path
