"""Byte-range slicing of the sorted file: partition property, boundaries, line numbers, fingerprints."""

from __future__ import annotations

import itertools
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeloc_assets import slicing
from homeloc_assets.slicing import (
    HeaderError,
    find_byte_range,
    iter_lines,
    line_key,
    line_number_at,
    range_slices,
    read_header,
    slice_fingerprint,
)
from partitions.user_ranges import UserRange, range_for, user_ranges
from tests.homeloc.conftest import HEADER

HLL = "\\x138b4014a2"


def _quote(key: str) -> str:
    if any(c in key for c in ',"') or key.startswith(" "):
        return '"' + key.replace('"', '""') + '"'
    return key


def _build(keys_rows, blanks, eol):
    """File bytes and, per data line, its key (None for blank lines), in file order."""
    lines, keys = [], []
    for (key, n), blank in zip(keys_rows, blanks):
        if blank:
            lines.append("")
            keys.append(None)
        for i in range(n):
            lines.append(f"{_quote(key)},{i}.5,1.25,{HLL}")
            keys.append(key)
    data = eol.join([HEADER, *lines]) + eol
    return data.encode("utf-8"), keys


def _naive_owner(keys, ranges):
    """Range index of each line by a full scan: keyless lines go with the next keyed line."""
    owners, pending = [], 0
    for key in keys:
        if key is None:
            pending += 1
            continue
        idx = (
            ranges.index(range_for(key, ranges)) if isinstance(ranges[0], UserRange) else _owner(key, ranges)
        )
        owners.extend([idx] * (pending + 1))
        pending = 0
    owners.extend([len(ranges) - 1] * pending)
    return owners


def _owner(key, ranges):
    k = key.encode("utf-8")
    for i, r in enumerate(ranges):
        if (r.lo is None or k >= r.lo.encode("utf-8")) and (r.hi is None or k < r.hi.encode("utf-8")):
            return i
    raise AssertionError("ranges do not cover the key")


key_text = st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=4),
    st.text(
        alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), min_size=1, max_size=4
    ),
)


@st.composite
def files(draw):
    keys = sorted(set(draw(st.lists(key_text, min_size=0, max_size=40))), key=lambda k: k.encode("utf-8"))
    keys = [k for k in keys if k.strip() and k != "user_guid"]
    rows = [draw(st.integers(1, 3)) for _ in keys]
    blanks = [draw(st.booleans()) and draw(st.booleans()) for _ in keys]
    return list(zip(keys, rows)), blanks


@st.composite
def boundaries(draw):
    cuts = sorted(set(draw(st.lists(key_text, max_size=5))), key=lambda k: k.encode("utf-8"))
    edges = [None, *cuts, None]
    return [UserRange(f"r{i}", edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    f=files(),
    custom=boundaries(),
    n=st.sampled_from([1, 2, 16, 256]),
    block=st.integers(1, 200),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_slices_partition_the_file_like_a_naive_scan(tmp_path, f, custom, n, block, eol):
    data, keys = _build(*f, eol)
    path = tmp_path / "sorted.csv"
    path.write_bytes(data)
    data_start, _ = read_header(path)
    with mock.patch.object(slicing, "_SCAN_BLOCK", block):
        for ranges in (user_ranges(n), custom):
            slices = [(s, e) for _, s, e in range_slices(path, ranges)]
            # Contiguous, ordered, covering [data_start, size): every line in exactly one slice.
            assert slices[0][0] == data_start and slices[-1][1] == len(data)
            assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
            owners = _naive_owner(keys, ranges)
            lines = data[data_start:].split(eol.encode())[:-1]
            expected = {
                i: b"".join(line + eol.encode() for line, o in zip(lines, owners) if o == i)
                for i in range(len(ranges))
            }
            for i, (s, e) in enumerate(slices):
                assert data[s:e] == expected[i]


def test_boundary_user_is_never_split(tmp_path):
    keys = ["0f"] * 3 + ["10"] * 500 + ["1f"] * 2 + ["20"] * 1
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "\n" + "".join(f"{k},1.0,2.0,{HLL}\n" for k in keys))
    with mock.patch.object(slicing, "_SCAN_BLOCK", 16):
        s, e = find_byte_range(path, "1", "2")
    got = [line.split(b",")[0] for line in iter_lines(path, s, e)]
    assert got == [b"10"] * 500 + [b"1f"] * 2


def test_find_byte_range_uses_few_reads(tmp_path):
    path = tmp_path / "big.csv"
    keys = sorted(f"{i * 2654435761 % 2**32:08x}" for i in range(60_000))
    path.write_text(HEADER + "\n" + "".join(f"{k},1.0,2.0,{HLL}\n" for k in keys))
    real_open, reads = open, []

    class Counting:
        def __init__(self, f):
            self.f = f

        def __getattr__(self, name):
            return getattr(self.f, name)

        def readline(self, *a):
            line = self.f.readline(*a)
            reads.append(len(line))
            return line

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    with mock.patch("builtins.open", lambda *a, **k: Counting(real_open(*a, **k))):
        s, e = find_byte_range(path, "40000000", "80000000")
    size = path.stat().st_size
    assert sum(reads) < 0.1 * size
    got = [line.split(b",")[0].decode() for line in iter_lines(path, s, e)]
    assert got == [k for k in keys if "40000000" <= k < "80000000"]


def test_line_numbers_count_the_header_as_line_one(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "\n" + "".join(f"{k},1.0,2.0,{HLL}\n" for k in ["0a", "0b", "", "1a", "2a"]))
    s, _ = find_byte_range(path, "1", None)
    assert line_number_at(path, s) == 4  # the keyless (empty guid) line 4 goes with "1a"
    s, _ = find_byte_range(path, "2", None)
    assert line_number_at(path, s) == 6
    assert line_number_at(path, find_byte_range(path, None, None)[0]) == 2
    s, _ = find_byte_range(path, "0b", None)
    assert line_number_at(path, s) == 3


def test_fingerprint_changes_only_with_the_slice(tmp_path):
    path = tmp_path / "f.csv"
    rows = [f"{k},1.0,2.0,{HLL}\n" for k in ["0a", "1a", "2a"]]
    path.write_text(HEADER + "\n" + "".join(rows))
    before = {
        k: slice_fingerprint(path, *find_byte_range(path, lo, hi))
        for k, lo, hi in [("0", None, "1"), ("1", "1", "2"), ("2", "2", None)]
    }
    path.write_text(HEADER + "\n" + rows[0] + rows[1].replace("1.0", "1.5") + rows[2])
    after = {
        k: slice_fingerprint(path, *find_byte_range(path, lo, hi))
        for k, lo, hi in [("0", None, "1"), ("1", "1", "2"), ("2", "2", None)]
    }
    assert before["0"] == after["0"] and before["2"] == after["2"] and before["1"] != after["1"]


@pytest.mark.parametrize(
    "line, key",
    [
        (b"abc,1,2,x", b"abc"),
        (b'"a,b",1,2,x\r\n', b"a,b"),
        (b'"a""b",1,2,x', b'a"b'),
        (b'"a""b",1', None),  # not four fields: no record, no order
        (b"abc", None),
        (b"abc,1,2,x,y", None),
        (b'q",1,2,x', None),  # the continuation of a quoted field that held a line break
        (b'abc,1,2,"x', None),
        (b"\xef\xbb\xbfabc,1,2,x", None),
        (b"", None),
        (b",1,2,x", None),
        (b'"unterminated,1', None),
        (b'"a"b,1', None),
        (HEADER.encode() + b"\n", None),
    ],
)
def test_line_key(line, key):
    assert line_key(line) == key


def test_header_is_checked(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
    assert read_header(path)[0] == len(HEADER) + 5
    path.write_text("guid,lat,lon,hll\n")
    with pytest.raises(HeaderError, match=r"f\.csv: line 1: header is 'guid,lat,lon,hll'"):
        find_byte_range(path, None, None)
    path.write_text("")
    with pytest.raises(HeaderError, match="empty file"):
        read_header(path)


def test_empty_and_inverted_ranges(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "\n")
    assert find_byte_range(path, "1", "2") == (len(HEADER) + 1, len(HEADER) + 1)
    with pytest.raises(ValueError, match="lo '2' > hi '1'"):
        find_byte_range(path, "2", "1")
