"""User-guid range partitions: coverage, order, keys."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partitions.user_ranges import partition_keys, range_by_key, range_for, user_ranges

SIZES = [1, 2, 4, 16, 32, 256, 512, 4096]
RANGES = {n: user_ranges(n) for n in SIZES}
guids = st.one_of(
    st.text(),
    st.text(alphabet="0123456789abcdef", min_size=0, max_size=40),
    st.text(alphabet="0123456789abcdefABCDEF-{}", min_size=1, max_size=8),
)


@pytest.mark.parametrize("n", SIZES)
def test_ranges_are_contiguous_and_open_at_both_ends(n):
    ranges = user_ranges(n)
    assert len(ranges) == n
    assert ranges[0].lo is None and ranges[-1].hi is None
    for a, b in itertools.pairwise(ranges):
        assert a.hi == b.lo and a.hi is not None
        assert a.lo is None or a.lo < a.hi
    assert len(set(partition_keys(n))) == n


@settings(max_examples=300, deadline=None)
@given(guid=guids)
def test_every_string_falls_in_exactly_one_range(guid):
    for ranges in RANGES.values():
        owners = [r for r in ranges if r.contains(guid)]
        assert len(owners) == 1
        assert range_for(guid, ranges) == owners[0]


@settings(max_examples=200, deadline=None)
@given(a=guids, b=guids)
def test_range_order_follows_byte_order(a, b):
    ranges = user_ranges(16)
    ia, ib = ranges.index(range_for(a, ranges)), ranges.index(range_for(b, ranges))
    if a.encode("utf-8") < b.encode("utf-8"):
        assert ia <= ib


def test_keys_are_readable_hex_spans():
    assert partition_keys(2) == ["0-7", "8-f"]
    assert partition_keys(16)[:3] == ["0", "1", "2"]
    assert partition_keys(32)[:2] == ["00-07", "08-0f"]
    assert partition_keys(256)[-1] == "ff"
    assert range_by_key("a", user_ranges(16)).lo == "a"
    with pytest.raises(ValueError, match="unknown user-range partition key 'zz'"):
        range_by_key("zz", user_ranges(16))


@pytest.mark.parametrize("n", [0, 3, 24, 8192, -2, 2.0, True])
def test_rejects_counts_that_are_not_powers_of_two_up_to_4096(n):
    with pytest.raises(ValueError, match="power of two"):
        user_ranges(n)


@pytest.mark.parametrize("n", [16, 256])
def test_md5_guids_spread_evenly(n):
    ranges = user_ranges(n)
    counts = {r.key: 0 for r in ranges}
    total = 64 * n
    for i in range(total):
        counts[range_for(hashlib.md5(str(i).encode()).hexdigest(), ranges).key] += 1
    assert min(counts.values()) > 0.5 * 64 and max(counts.values()) < 1.6 * 64


def test_each_range_says_in_words_which_guids_it_holds():
    from partitions.user_ranges import user_ranges

    first, second, *_, last = user_ranges(16)
    assert first.describe() == "user_guids guid < '1' in byte order (key '0': the hex prefixes it owns)"
    assert (
        second.describe() == "user_guids '1' <= guid < '2' in byte order (key '1': the hex prefixes it owns)"
    )
    assert last.describe() == "user_guids 'f' <= guid in byte order (key 'f': the hex prefixes it owns)"
    assert user_ranges(1)[0].describe() == "every user_guid"
    assert user_ranges(32)[1].describe().startswith("user_guids '08' <= guid < '10'")
