"""Clustering benchmark: fast_kmeans against the reference workflow's scikit-learn calls.

Supergroups: KMeans(5, init="random", n_init=1000, random_state=507) against fast_kmeans(X, 5).
Diagnostics: Clustergram(range(1, 10), n_init=100, random_state=507) against
fast_kmeans_range(X, range(1, 10)). Both sides run in this process, one after the other, and
the inertias of both are recomputed the same way (exact sum of squared distances).

    python -m benchmarks.bench_clustering --size liverpool|uk|both [--quick] [--threads 1,2]

Writes the "## Clustering" section of benchmarks/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.matrices import benchmark_matrix
from benchmarks.report import RESULTS, machine_lines, write_section
from geodem_assets.kmeans import fast_kmeans, fast_kmeans_range

SECTION = "## Clustering"
SEED = 507
SUPERGROUP_K = 5
SUPERGROUP_STARTS = 1000  # the reference's n_init for supergroups
CLUSTERGRAM_KS = range(1, 10)
CLUSTERGRAM_STARTS = 100  # the reference's n_init per k
TIME_GOAL = 10.0  # ours must take at most 1/10 of the reference's time
INERTIA_RTOL = 1e-4  # and reach an inertia no worse than the reference's, relatively


@dataclass
class Timed:
    wall: float  # seconds
    cpu: float  # process CPU seconds (all threads)


@dataclass
class Comparison:
    """One task, ours against the reference; reference times scaled to its full number of starts."""

    task: str
    ref_call: str
    ref_starts_run: int
    ref_starts_full: int
    ref: Timed
    ours: Timed
    ref_inertia: dict[int, float]
    our_inertia: dict[int, float]
    notes: list[str] = field(default_factory=list)

    @property
    def scale(self) -> float:
        return self.ref_starts_full / self.ref_starts_run

    @property
    def ratio(self) -> float:
        """How many times faster ours is than the (extrapolated) reference, by wall time."""
        return self.ref.wall * self.scale / self.ours.wall

    def rel(self, k: int) -> float:
        return (self.our_inertia[k] - self.ref_inertia[k]) / self.ref_inertia[k]

    @property
    def inertia_ok(self) -> bool:
        return all(self.rel(k) <= INERTIA_RTOL for k in self.ref_inertia)

    @property
    def passed(self) -> bool:
        return self.inertia_ok and self.ratio >= TIME_GOAL


def inertia(X: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> float:
    """Exact sum of squared distances of rows to the centres of their labels, in blocks."""
    total = 0.0
    for b in range(0, X.shape[0], 65_536):
        diff = X[b : b + 65_536] - centres[np.asarray(labels[b : b + 65_536], dtype=np.int64)]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def timed(fn):
    """fn() and its wall and CPU time."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, Timed(time.perf_counter() - w, time.process_time() - c)


def thread_limit(threads: int | None):
    """A context that caps BLAS and OpenMP threads for the reference (no-op for library defaults)."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return nullcontext() if threads is None else threadpool_limits(limits=threads)


def run_supergroups(
    X: np.ndarray,
    ref_starts: int,
    threads: int | None,
    full_starts: int = SUPERGROUP_STARTS,
    k: int = SUPERGROUP_K,
) -> Comparison:
    """KMeans(k, init='random', n_init=ref_starts) against fast_kmeans(X, k)."""
    from sklearn.cluster import KMeans

    ours, t_ours = timed(lambda: fast_kmeans(X, k, seed=SEED, threads=threads))
    with thread_limit(threads):
        model, t_ref = timed(
            lambda: KMeans(n_clusters=k, init="random", n_init=ref_starts, random_state=SEED).fit(X)
        )
    return Comparison(
        task=f"supergroups (k = {k})",
        ref_call=f'KMeans(n_clusters={k}, init="random", n_init={ref_starts}, random_state={SEED})',
        ref_starts_run=ref_starts,
        ref_starts_full=full_starts,
        ref=t_ref,
        ours=t_ours,
        ref_inertia={k: inertia(X, model.labels_, model.cluster_centers_)},
        our_inertia={k: inertia(X, ours.labels, ours.centers)},
    )


def run_clustergram(
    X: np.ndarray,
    ref_starts: int,
    threads: int | None,
    full_starts: int = CLUSTERGRAM_STARTS,
    ks=CLUSTERGRAM_KS,
) -> Comparison:
    """Clustergram(ks, n_init=ref_starts) against fast_kmeans_range(X, ks)."""
    from clustergram import Clustergram

    ours, t_ours = timed(lambda: fast_kmeans_range(X, ks, seed=SEED, threads=threads))
    with thread_limit(threads):
        gram, t_ref = timed(
            lambda: Clustergram(ks, n_init=ref_starts, random_state=SEED, verbose=False).fit(X)
        )
    return Comparison(
        task=f"clustergram (k = {min(ks)}..{max(ks)})",
        ref_call=f"Clustergram(range({min(ks)}, {max(ks) + 1}), n_init={ref_starts}, random_state={SEED})",
        ref_starts_run=ref_starts,
        ref_starts_full=full_starts,
        ref=t_ref,
        ours=t_ours,
        ref_inertia={
            k: inertia(X, np.asarray(gram.labels[k]), np.asarray(gram.cluster_centers[k])) for k in ks
        },
        our_inertia={k: inertia(X, ours[k].labels, ours[k].centers) for k in ks},
    )


LIBRARY_KS = (5, 8)


def library_defaults(X: np.ndarray, threads: int | None, ks=LIBRARY_KS) -> list[str]:
    """What a data engineer would call today, beside ours: KMeans(k, n_init=10) (k-means++, ten
    starts) and KMeans(k) (n_init="auto": one k-means++ start); Markdown lines."""
    from sklearn.cluster import KMeans

    lines = [
        "**The library calls a user would pick** (scikit-learn's k-means++; positive inertia "
        "differences mean the library's partition is worse than ours)",
        "",
        "| k | call | its wall s | our wall s | its time / ours | its inertia vs ours |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for k in ks:
        ours, t_ours = timed(lambda k=k: fast_kmeans(X, k, seed=SEED, threads=threads))
        ours_inertia = inertia(X, ours.labels, ours.centers)
        for label, kwargs in (
            (f"KMeans({k}, n_init=10, random_state={SEED})", {"n_init": 10}),
            (f"KMeans({k}, random_state={SEED})", {}),
        ):
            with thread_limit(threads):
                model, t_ref = timed(
                    lambda k=k, kwargs=kwargs: KMeans(n_clusters=k, random_state=SEED, **kwargs).fit(X)
                )
            theirs = inertia(X, model.labels_, model.cluster_centers_)
            lines.append(
                f"| {k} | `{label}` | {t_ref.wall:.2f} | {t_ours.wall:.2f} | "
                f"{t_ref.wall / t_ours.wall:.2f}x | {(theirs - ours_inertia) / ours_inertia:+.2e} |"
            )
    return lines + [""]


def peak_memory(fn) -> float:
    """Peak traced allocation of fn(), MiB (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def machine() -> list[str]:
    """Lines describing the machine and library versions, the clustergram package's included."""
    try:
        import clustergram

        version = clustergram.__version__
    except (ImportError, AttributeError):
        version = "not installed"
    return machine_lines() + [f"- clustergram {version}"]


def render_comparison(c: Comparison) -> list[str]:
    scaled = c.ref.wall * c.scale
    lines = [f"**{c.task}** — reference `{c.ref_call}`"]
    if c.scale != 1:
        lines.append(
            f"(reference run with {c.ref_starts_run} of its {c.ref_starts_full} starts; its time is "
            f"extrapolated linearly x{c.scale:g}; its inertia is the best of the starts actually run)"
        )
    lines += [
        "",
        "| | wall s | CPU s |",
        "|---|---:|---:|",
        f"| reference, as run | {c.ref.wall:.2f} | {c.ref.cpu:.2f} |",
    ]
    if c.scale != 1:
        lines.append(
            f"| reference, {c.ref_starts_full} starts (extrapolated) | {scaled:.2f} | "
            f"{c.ref.cpu * c.scale:.2f} |"
        )
    lines += [
        f"| ours | {c.ours.wall:.2f} | {c.ours.cpu:.2f} |",
        "",
        f"Speed-up (reference wall / ours): **{c.ratio:.1f}x** (goal >= {TIME_GOAL:g}x: "
        f"{'pass' if c.ratio >= TIME_GOAL else 'FAIL'})",
        "",
        "| k | reference inertia | our inertia | relative difference | no worse (rtol 1e-4) |",
        "|---:|---:|---:|---:|:---:|",
    ]
    for k in sorted(c.ref_inertia):
        lines.append(
            f"| {k} | {c.ref_inertia[k]:.6f} | {c.our_inertia[k]:.6f} | {c.rel(k):+.2e} | "
            f"{'yes' if c.rel(k) <= INERTIA_RTOL else 'NO'} |"
        )
    lines += [""] + c.notes + ([""] if c.notes else [])
    lines.append(f"Result: **{'PASS' if c.passed else 'FAIL'}**")
    return lines + [""]


def render(header: list[str], blocks: list[list[str]]) -> str:
    out = [SECTION, ""] + header + [""]
    for block in blocks:
        out += block
    return "\n".join(out).rstrip() + "\n"


@dataclass
class Plan:
    size: str
    supergroup_ref_starts: int
    clustergram_ref_starts: int
    supergroup_full: int = SUPERGROUP_STARTS
    clustergram_full: int = CLUSTERGRAM_STARTS


def plans(size: str, quick: bool, uk_supergroup_starts: int, uk_clustergram_starts: int) -> list[Plan]:
    if quick:
        # A smoke test: small matrices, the reference with few starts, nothing extrapolated.
        return [Plan(s, 20, 3, 20, 3) for s in (["liverpool", "uk"] if size == "both" else [size])]
    out = []
    if size in ("liverpool", "both"):
        out.append(Plan("liverpool", SUPERGROUP_STARTS, CLUSTERGRAM_STARTS))
    if size in ("uk", "both"):
        out.append(Plan("uk", uk_supergroup_starts, uk_clustergram_starts))
    return out


def run(plan: Plan, threads_modes: list[int | None], quick: bool, log=print) -> list[str]:
    """Benchmark one size under each thread setting; Markdown lines."""
    X, how = benchmark_matrix(plan.size, quick=quick)
    lines = [f"### {plan.size} ({X.shape[0]:,} x {X.shape[1]}; {how})", ""]
    for threads in threads_modes:
        mode = "library defaults" if threads is None else f"{threads} thread(s) on both sides"
        log(f"[{plan.size}] {mode}: supergroups ...")
        sup = run_supergroups(X, plan.supergroup_ref_starts, threads, plan.supergroup_full)
        log(
            f"[{plan.size}] {mode}: supergroups {sup.ratio:.1f}x, rel {sup.rel(SUPERGROUP_K):+.2e}; clustergram ..."
        )
        gram = run_clustergram(X, plan.clustergram_ref_starts, threads, plan.clustergram_full)
        worst = max(map(gram.rel, gram.ref_inertia))
        log(f"[{plan.size}] {mode}: clustergram {gram.ratio:.1f}x, worst rel {worst:+.2e}")
        log(f"[{plan.size}] {mode}: library defaults ...")
        lines += [f"#### Threads: {mode}", ""] + render_comparison(sup) + render_comparison(gram)
        lines += library_defaults(X, threads)
    from sklearn.cluster import KMeans

    ours_peak = peak_memory(
        lambda: (fast_kmeans(X, SUPERGROUP_K, seed=SEED), fast_kmeans_range(X, CLUSTERGRAM_KS, seed=SEED))
    )
    ref_peak = peak_memory(
        lambda: KMeans(n_clusters=SUPERGROUP_K, init="random", n_init=2, random_state=SEED).fit(X)
    )
    lines += [
        f"Peak traced memory (tracemalloc, separate untimed runs): ours (supergroups + clustergram) "
        f"{ours_peak:.0f} MiB; reference KMeans {ref_peak:.0f} MiB; the matrix itself "
        f"{X.nbytes / 2**20:.0f} MiB.",
        "",
    ]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["liverpool", "uk", "both"], default="liverpool")
    parser.add_argument("--quick", action="store_true", help="small matrices and few starts: a smoke test")
    parser.add_argument(
        "--threads",
        default="1,2",
        help="comma-separated thread settings to run: 'default' (library defaults) and/or numbers",
    )
    parser.add_argument(
        "--uk-supergroup-starts",
        type=int,
        default=10,
        help="reference starts actually run for UK supergroups (time extrapolated to 1000)",
    )
    parser.add_argument(
        "--uk-clustergram-starts",
        type=int,
        default=2,
        help="reference starts per k actually run for the UK clustergram (extrapolated to 100)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    modes = [None if t.strip() == "default" else int(t) for t in args.threads.split(",")]

    started = time.perf_counter()
    _, warm = timed(lambda: fast_kmeans(np.random.default_rng(0).random((200, 4)), 3, n_init=2))
    header = (
        machine()
        + (
            ["- QUICK SMOKE RUN: small matrices and a reference with few starts; the goals do not apply."]
            if args.quick
            else []
        )
        + [
            f"- One-off numba compile or cache load before timing: {warm.wall:.1f} s (not counted below).",
            f"- OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')} (PASSIVE keeps scikit-learn's OpenMP "
            "threads from spinning on a loaded 2-core machine; `make bench-clustering` sets it).",
            "- Times are single runs of each side in the same process, ours first; the machine is shared, so "
            "ratios are the figure to read. Inertias of both sides are recomputed exactly from labels and centres.",
            f"- Goals: at most 1/{TIME_GOAL:g} of the reference's wall time, and an inertia no worse than the "
            f"reference's best by more than a relative {INERTIA_RTOL:g} (every k for the clustergram).",
        ]
    )
    blocks = [
        run(plan, modes, args.quick)
        for plan in plans(args.size, args.quick, args.uk_supergroup_starts, args.uk_clustergram_starts)
    ]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    blocks.append(
        [
            f"Process peak resident memory (ru_maxrss): {usage.ru_maxrss / 1024:.0f} MiB; "
            f"benchmark took {time.perf_counter() - started:.0f} s.",
            "",
        ]
    )
    section = render(header, blocks)
    print(section)
    if not args.no_write:
        write_section(args.output, SECTION, section)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
