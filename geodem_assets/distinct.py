"""Distinct rows of a matrix, and the error raised when there are fewer than the clusters asked for."""

from __future__ import annotations

import numpy as np


class TooFewDistinctRows(ValueError):
    """k clusters asked of a matrix with fewer than k distinct rows: some cluster would be empty
    or a copy of another. Carries k, the distinct rows found, the rows and the level clustered."""

    def __init__(self, k: int, distinct: int, rows: int, level: str = "k-means"):
        self.k, self.distinct, self.rows, self.level = k, distinct, rows, level
        super().__init__(
            f"{level}: k={k} asked, but the {rows} rows hold only {distinct} distinct "
            f"row{'s' if distinct != 1 else ''}, so {k - distinct} cluster(s) would be empty"
        )


def count_distinct_rows(X: np.ndarray, at_most: int | None = None) -> int:
    """Number of distinct rows of X (n, p), counting stops once at_most is reached.

    Rows are compared exactly (bitwise, with -0.0 taken as 0.0). With at_most = k the cost is
    about k rows on ordinary data, since its first rows already differ.
    """
    X = np.asarray(X)
    limit = X.shape[0] if at_most is None else at_most
    seen: set[bytes] = set()
    step = max(limit, 1024)
    for b in range(0, X.shape[0], step):
        # One block at a time (+ 0.0 turns -0.0 into 0.0): with at_most = k, ordinary data
        # stop after the first block, without a copy of the whole matrix.
        block = np.ascontiguousarray(X[b : b + step], dtype=np.float64) + 0.0
        for row in block:
            seen.add(row.tobytes())
        if len(seen) >= limit:
            return min(len(seen), limit) if at_most is not None else len(seen)
    return len(seen)


def check_distinct(X: np.ndarray, k: int, level: str = "k-means") -> None:
    """Raise TooFewDistinctRows when X (n, p) has fewer than k distinct rows."""
    found = count_distinct_rows(X, at_most=k)
    if found < k:
        raise TooFewDistinctRows(k, count_distinct_rows(X), X.shape[0], level)
