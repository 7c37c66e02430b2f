"""The userday reader over S3 (ranged reads through s3fs) reads what it reads from a local file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import s3fs

from homeloc_assets.reader import read_range
from homeloc_assets.slicing import find_byte_range, line_number_at, slice_fingerprint
from partitions.user_ranges import user_ranges
from resources.userday_source import UserdaySource
from sample_data.hostile_userday_lines import (
    GOOD_HLL,
    bad,
    build_file,
    embedded_newline,
    good,
    with_spans,
)

BAD_CASES = [
    ("lat", "nan"),
    ("lon", "180.5"),
    ("hll", "\\xzz"),
    ("fields", "3"),
    ("open_quote", ""),
    ("unterminated_guid", ""),
    ("blank", ""),
    ("header", ""),
    ("empty_guid", ""),
    ("guid_bytes", b"\xff"),
]


def hostile_file(n: int, seed: int) -> bytes:
    """About ``n`` sorted lines, one in eight hostile (bad values, quoting, quoted line breaks),
    plus a quoted line break whose two halves sort in neighbouring ranges (``7z`` / ``8a``)."""
    rng = np.random.default_rng(seed)
    guids = iter(f"{v:08x}" for v in np.sort(rng.choice(2**32, 2 * n, replace=False)))
    lines = []
    for i in range(n):
        hll = GOOD_HLL[i % 3]  # short values: a small file with many lines
        kind = rng.integers(0, 8)
        if kind == 0:
            case, value = BAD_CASES[rng.integers(0, len(BAD_CASES))]
            lines.append(bad(next(guids), case, value, hll))
        elif kind == 1:
            lines.extend(embedded_newline(next(guids), next(guids), hll, bool(rng.integers(0, 2))))
        else:
            quote = tuple(bool(q) for q in rng.integers(0, 2, 4))
            lines.append(good(next(guids), "", "52.5", "13.4", (hll, hll), quote))
    # The span across the 7/8 boundary, right before the first guid of range 8.
    # A record first, so that no earlier span runs into it and the boundary falls right before it.
    at = next(i for i, line in enumerate(lines) if line.data[:1] in (b"8", b'"8'))
    before = good("7zzzzzzy", "", "52.5", "13.4", (GOOD_HLL[1], GOOD_HLL[1]), (False,) * 4)
    lines[at:at] = [before, *embedded_newline("7zzzzzzz", "8", GOOD_HLL[1], keyless_tail=False)]
    lines = with_spans(lines)
    eols = [b"\r\n" if i % 7 == 0 else b"\n" for i in range(len(lines))]
    return build_file(lines, eols, bom=True, final_eol=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory, s3_server):
    """The same hostile file (about 600 kB, so the binary search seeks) on disk and in S3."""
    data = hostile_file(8_000, seed=11)
    local = tmp_path_factory.mktemp("reader") / "userdays.csv"
    local.write_bytes(data)
    url = f"s3://{s3_server.bucket('reader')}/in/userdays.csv"
    s3_server.upload(local, url)
    return local, url, data


class FetchCounter:
    """Bytes s3fs fetched by ranged GETs while installed."""

    def __init__(self, monkeypatch):
        self.bytes = 0
        self.requests = 0
        original = s3fs.core.S3File._fetch_range

        def counting(file, start, end):
            self.bytes += end - start
            self.requests += 1
            return original(file, start, end)

        monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", counting)


def _outcome(read) -> tuple[pd.DataFrame, pd.DataFrame, tuple]:
    return read.rows, read.quarantine, (read.start, read.end, read.first_line, read.n_lines, read.fingerprint)


def test_every_range_reads_the_same_from_s3_as_from_disk(s3, files):
    local, url, _data = files
    whole = read_range(local, None, None)
    lines = 0
    for r in user_ranges(16):
        start, end = find_byte_range(local, r.lo, r.hi)
        assert find_byte_range(url, r.lo, r.hi) == (start, end), r.key
        got = read_range(url, r.lo, r.hi, chunk_bytes=20_000)
        first, n = got.first_line, got.n_lines
        assert (got.start, got.end, first) == (start, end, line_number_at(local, start)), r.key
        assert got.fingerprint == slice_fingerprint(local, start, end)
        # The rows and quarantined lines of the whole local file that fall in this slice.
        rows = whole.rows[whole.rows["line_number"].between(first, first + n - 1)]
        bad_ = whole.quarantine[whole.quarantine["line_number"].between(first, first + n - 1)]
        pd.testing.assert_frame_equal(got.rows, rows.reset_index(drop=True), check_dtype=bool(len(rows)))
        pd.testing.assert_frame_equal(
            got.quarantine, bad_.reset_index(drop=True), check_dtype=bool(len(bad_))
        )
        lines += n
    assert lines == whole.n_lines == len(whole.rows) + len(whole.quarantine)
    assert whole.n_lines > 8_000 and len(whole.quarantine) > 1000


def test_the_span_across_a_range_boundary_stays_whole_over_s3(s3, files):
    _local, url, data = files
    opening = data.index(b'7zzzzzzz,"50.')
    low, high = [r for r in user_ranges(16) if r.key in ("7", "8")]
    assert find_byte_range(url, low.lo, low.hi)[1] == opening == find_byte_range(url, high.lo, high.hi)[0]
    got = read_range(url, high.lo, high.hi, chunk_bytes=opening % 997 + 1)
    first = line_number_at(url, opening)
    assert got.quarantine.set_index("line_number").loc[[first, first + 1], "kind"].tolist() == [
        "unterminated_quote",
        "unterminated_quote",
    ]
    assert read_range(url, low.lo, low.hi).rows["user_guid"].iloc[-1] == "7zzzzzzy"


def test_a_range_is_read_by_ranged_requests_not_by_downloading_the_file(s3, tmp_path, monkeypatch):
    # 8 MB of plain sorted records; the first of 256 ranges is about 32 kB of it.
    guids = np.sort(np.random.default_rng(5).choice(2**32, 200_000, replace=False))
    body = "".join(f"{g:08x},52.5,13.4,{GOOD_HLL[1]}\n" for g in guids).encode()
    local = tmp_path / "plain.csv"
    local.write_bytes(b"user_guid,latitude,longitude,userday_hll\n" + body)
    url = f"s3://{s3.bucket('plain')}/plain.csv"
    s3.upload(local, url)
    first = user_ranges(256)[0]
    counter = FetchCounter(monkeypatch)
    got = read_range(url, first.lo, first.hi)
    assert len(got.rows) == (guids < 2**24).sum()
    # The slice, plus about two 64 KiB blocks for the header and each probe of the binary search.
    assert counter.bytes < (got.end - got.start) + 48 * (1 << 16), (counter.bytes, local.stat().st_size)
    assert counter.bytes < local.stat().st_size / 5


def test_fingerprints_over_s3_match_disk_and_follow_a_replaced_object(s3, files):
    local, url, data = files
    r = user_ranges(16)[5]
    start, end = find_byte_range(url, r.lo, r.hi)
    assert slice_fingerprint(url, start, end) == slice_fingerprint(local, start, end)
    copy = url.replace("userdays.csv", "copy.csv")
    s3.upload(local, copy)
    source = UserdaySource(path=copy)
    before = source.quick_fingerprint()
    assert source.quick_fingerprint() == before
    changed = local.with_name("changed.csv")
    changed.write_bytes(data[:-10] + b"9" * 10)
    s3.upload(changed, copy)
    assert source.quick_fingerprint() != before


def test_a_missing_object_is_named(s3, files):
    _, url, _ = files
    missing = url.replace("userdays.csv", "absent.csv")
    with pytest.raises(FileNotFoundError, match=r"absent\.csv: userday file not found"):
        UserdaySource(path=missing).quick_fingerprint()
    with pytest.raises(FileNotFoundError):
        read_range(missing, None, None)
