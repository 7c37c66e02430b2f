"""Silhouette benchmark: every k of a clustergram in one pass against scikit-learn's call per k.

    python -m benchmarks.bench_silhouette [--size liverpool|uk|both] [--quick] [--no-write]

The diagnostics asset scores k = 2..9 by the mean silhouette. A user would call
`sklearn.metrics.silhouette_score(X, labels, sample_size=..., random_state=507)` once per k
(on a 10,000-row sample above 10,000 rows, as the asset does); `choose_k.silhouettes` scores
every k from one pass over the distances. Both sides run in the same process on the same
labels (our k-means, k = 2..9), ours first, three repetitions each, the best kept; the table
gives both times, their ratio and the largest difference between the two sides' values.
Writes the "## Silhouette" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.matrices import benchmark_matrix
from benchmarks.report import RESULTS, publish, table_section
from geodem_assets import choose_k
from geodem_assets.kmeans import fast_kmeans_range

SECTION = "## Silhouette"
KS = list(range(2, 10))
REPEATS = 3


def best_of(fn, repeats: int = REPEATS) -> tuple[object, float]:
    """fn()'s result and its best wall time over `repeats` runs."""
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return out, min(times)


def measure(size: str, quick: bool, log=print) -> list[str]:
    """Table rows (Markdown) for one matrix size."""
    from sklearn.metrics import silhouette_score

    X, how = benchmark_matrix(size, quick=quick)
    log(f"[{size}] {X.shape[0]:,} x {X.shape[1]}: k-means k = 2..9 for the labels ...")
    labels = {k: f.labels for k, f in fast_kmeans_range(X, KS, seed=507).items()}
    sample = choose_k.SCORE_SAMPLE if X.shape[0] > choose_k.SCORE_SAMPLE else None
    ours, our_s = best_of(lambda: choose_k.silhouettes(X, labels, sample_size=sample, seed=507))
    theirs, their_s = best_of(
        lambda: {
            k: float(silhouette_score(X, y, sample_size=sample, random_state=507)) for k, y in labels.items()
        }
    )
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    diff = max(abs(ours[k] - theirs[k]) for k in KS)
    log(f"[{size}] ours {our_s:.2f} s, scikit-learn {their_s:.2f} s, largest difference {diff:.1e}")
    rows_scored = f"{sample:,} sampled" if sample else "all"
    return [
        f"| {size} ({X.shape[0]:,} x {X.shape[1]}; {how}) | {rows_scored} | {their_s:.2f} | {our_s:.2f} "
        f"| **{their_s / our_s:.1f}x** | {diff:.1e} |"
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["liverpool", "uk", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="small synthetic matrices: a smoke test")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sizes = ["liverpool", "uk"] if args.size == "both" else [args.size]
    rows = [row for size in sizes for row in measure(size, args.quick)]
    command = "python -m benchmarks.bench_silhouette" + (
        "" if args.size == "both" else f" --size {args.size}"
    )
    intro = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`"
        + (" (--quick: small synthetic matrices)" if args.quick else "")
        + ". The mean silhouette of k = 2..9 (our k-means labels): scikit-learn's "
        "`silhouette_score` once per k, as a user would call it, against `choose_k.silhouettes`, "
        "every k from one pass over the distances (the diagnostics asset's call). Same process, "
        f"same labels and rows, best of {REPEATS} each, library thread defaults."
    )
    header = [
        "matrix",
        "rows scored",
        "scikit-learn, 8 calls (s)",
        "ours, one call (s)",
        "speed-up",
        "largest difference",
    ]
    section = table_section(SECTION, intro, header, ["---", "---", "---:", "---:", "---:", "---:"], rows)
    publish(args.output, SECTION, section, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
