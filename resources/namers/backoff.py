"""Waits between retries of a failed API request: exponential, capped, with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Statuses worth another try: timeout, conflict, rate limit, server errors.
RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Backoff:
    """base * 2**attempt seconds, at most `cap`, scaled by a random factor in [0.5, 1].

    A server's Retry-After (seconds) is honoured up to `cap`.
    """

    base: float = 0.5
    cap: float = 8.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        wait = min(self.cap, self.base * (2.0**attempt)) * self.rng.uniform(0.5, 1.0)
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(self.cap, retry_after))
        return wait


def retry_after_seconds(headers) -> float | None:
    """Retry-After from response headers (retry-after-ms or retry-after in seconds), if given."""
    if headers is None:
        return None
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            return None  # an HTTP date: fall back to our own backoff
    return None
