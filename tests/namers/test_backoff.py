"""Backoff: exponential, capped, jittered waits; Retry-After honoured."""

from __future__ import annotations

import random

import pytest

from resources.namers.backoff import Backoff, retry_after_seconds


def test_waits_double_until_the_cap_with_jitter_in_the_upper_half():
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(7))
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        for _ in range(20):
            assert ceiling * 0.5 <= backoff.delay(attempt) <= ceiling


def test_jitter_spreads_the_waits():
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    assert len({round(backoff.delay(2), 6) for _ in range(10)}) > 5


def test_retry_after_lengthens_the_wait_up_to_the_cap():
    backoff = Backoff(base=0.1, cap=5.0, rng=random.Random(3))
    assert backoff.delay(0, retry_after=3.0) == 3.0
    assert backoff.delay(0, retry_after=60.0) == 5.0


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_header_is_read(headers, expected):
    assert retry_after_seconds(headers) == expected
