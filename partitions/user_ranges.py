"""User-guid range partitions: contiguous key ranges in byte order that cover every string.

Key scheme. ``n`` must be a power of two, 1 <= n <= 4096. The boundaries are lowercase
hex prefixes of width ``w = max(1, ceil(log2(n) / 4))``; range ``i`` owns the prefixes
``i * s`` .. ``(i + 1) * s - 1`` with ``s = 16**w // n``. Its partition key is that prefix
span, written ``"<first>-<last>"`` (``"0-7"``, ``"8-f"`` for n = 2; ``"00-0f"`` … for n = 16;
``"00-07"`` … for n = 32), or the single prefix when the range owns exactly one (``"00"`` …
``"ff"`` for n = 256).

Coverage. Range ``i`` holds the strings ``lo <= guid < hi`` with ``lo`` its first prefix and
``hi`` the next range's first prefix, compared in byte order (UTF-8 code-unit order, which
is ``LC_ALL=C sort``'s order and Python's ``str`` order). The first range has no lower bound
and the last no upper bound, so every string, hex or not, lands in exactly one range.
Lowercase hex guids (md5 digests, UUID hex) spread evenly; strings that start below ``"0"``
fall in the first range, uppercase hex (``"A"``…``"F"`` sort between ``"9"`` and ``"a"``)
falls in the range whose upper bound is the first prefix above ``"9"``, and strings above
``"f"`` in the last range.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

MAX_RANGES = 4096


@dataclass(frozen=True)
class UserRange:
    """One partition: user guids ``lo <= guid < hi`` in byte order (None = unbounded)."""

    key: str
    lo: str | None
    hi: str | None

    def describe(self) -> str:
        """The range in words, for the UI: which user_guids a partition key stands for."""
        lo = f"'{self.lo}' <= " if self.lo is not None else ""
        hi = f" < '{self.hi}'" if self.hi is not None else ""
        if not lo and not hi:
            return "every user_guid"
        return f"user_guids {lo}guid{hi} in byte order (key {self.key!r}: the hex prefixes it owns)"

    def contains(self, guid: str) -> bool:
        """True when ``guid`` falls in this range."""
        return (self.lo is None or guid >= self.lo) and (self.hi is None or guid < self.hi)


def _check_n(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > MAX_RANGES or n & (n - 1):
        raise ValueError(
            f"number of user ranges must be a power of two between 1 and {MAX_RANGES}, got {n!r}"
        )


def user_ranges(n: int = 16) -> list[UserRange]:
    """The ``n`` ranges of the key scheme above, in byte order."""
    _check_n(n)
    bits = n.bit_length() - 1
    width = max(1, -(-bits // 4))
    step = 16**width // n

    def prefix(value: int) -> str:
        return f"{value:0{width}x}"

    ranges = []
    for i in range(n):
        first, last = i * step, (i + 1) * step - 1
        key = prefix(first) if step == 1 else f"{prefix(first)}-{prefix(last)}"
        lo = None if i == 0 else prefix(first)
        hi = None if i == n - 1 else prefix(last + 1)
        ranges.append(UserRange(key, lo, hi))
    return ranges


def partition_keys(n: int = 16) -> list[str]:
    """Partition keys of ``user_ranges(n)``, in order."""
    return [r.key for r in user_ranges(n)]


def range_for(guid: str, ranges: list[UserRange]) -> UserRange:
    """The range of ``ranges`` (as returned by ``user_ranges``) that holds ``guid``."""
    # ranges[i].hi == ranges[i + 1].lo, so the owner is the first range whose hi exceeds guid.
    his = [r.hi for r in ranges[:-1]]
    return ranges[bisect.bisect_right(his, guid)]


def range_by_key(key: str, ranges: list[UserRange]) -> UserRange:
    """The range whose partition key is ``key``; ValueError naming the key otherwise."""
    for r in ranges:
        if r.key == key:
            return r
    raise ValueError(
        f"unknown user-range partition key {key!r}; expected one of {ranges[0].key!r} … {ranges[-1].key!r}"
    )
