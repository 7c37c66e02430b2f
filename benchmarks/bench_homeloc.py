"""Home-location benchmarks: our set-based pipeline against the reference per-user loop, and at scale.

    python -m benchmarks.bench_homeloc --database-url URL [--users 100000] [--scale-users 6300000] [--quick]

URL names a database with the ``hll`` extension. Part 1 (throughput) times the reference loop
(``benchmarks.homeloc_reference``) on the first ``--reference-users`` users of a generated
file and ours (read_range -> assign_countries -> HLL backend -> infer_home, over every user
range) on the whole file, with the PostgreSQL and the embedded backend, and checks the homes
agree. Part 2 (scale) runs each user range of larger files in a fresh subprocess and records
its peak RSS. Generated files go to ``--out`` (git-ignored ``benchmarks/out`` by default) and
are reused; the ``## Home location`` section of ``--results`` is rewritten, other sections kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2

from benchmarks import bench_borders, report
from benchmarks.homeloc_reference import run_reference
from benchmarks.report import peak_rss_bytes, reset_peak_rss
from homeloc_assets.countries import CountryIndex, assign_countries, load_countries
from homeloc_assets.inference import classify, infer_home, users_without, with_rounded_userdays
from homeloc_assets.reader import read_range
from partitions.user_ranges import range_by_key, user_ranges
from resources.hll_backends import EmbeddedHLLBackend, PostgresHLLBackend
from sample_data.userdays import write_sample_userdays

SECTION = "## Home location"
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
DEFAULT_RESULTS = report.RESULTS
MAX_OFFSHORE_KM = 25.0  # the pipeline's default (UserdaySource.max_offshore_km)
GIB = 1 << 30


# ---- measuring ------------------------------------------------------------------------------


def server_cpu_seconds(database_url: str) -> float | None:
    """CPU seconds of the PostgreSQL postmaster and its finished backends; None unless the server is local and readable.

    A backend's time reaches the postmaster's counters when its session ends, so the
    difference across a run covers the run's sessions (and any other session ended meanwhile).
    """
    try:
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("SHOW data_directory")
            data_dir = Path(cur.fetchone()[0])
        conn.close()
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError, psycopg2.Error):
        return None
    # Fields after the command name start at "state"; utime, stime, cutime, cstime follow at 11..14.
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _delta(after, before):
    return None if after is None or before is None else after - before


# ---- files ----------------------------------------------------------------------------------


def sample_file(out_dir, n_users: int, seed: int = 0) -> Path:
    """Path of a generated userday file of ``n_users`` users in ``out_dir``, written unless present."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"userdays_{n_users}_seed{seed}.csv"
    meta = path.with_suffix(".json")
    if meta.exists() and path.exists() and json.loads(meta.read_text())["n_bytes"] == path.stat().st_size:
        return path
    print(f"generating {n_users:,} users into {path} ...", file=sys.stderr, flush=True)
    s = write_sample_userdays(path, n_users, seed=seed)
    meta.write_text(
        json.dumps({"n_users": s.n_users, "n_rows": s.n_rows, "n_bytes": s.n_bytes, "seconds": s.seconds})
    )
    return path


# ---- ours -----------------------------------------------------------------------------------


@dataclass
class RangeResult:
    """One user range through our pipeline."""

    homes: pd.DataFrame  # infer_home columns + offshore (a point placed by the nearest-country rule)
    n_rows: int
    n_quarantined: int
    n_bytes: int
    stages: dict[str, float]


def process_range(
    path,
    user_range,
    backend,
    index: CountryIndex,
    max_offshore_km: float = MAX_OFFSHORE_KM,
    outputs: Path | None = None,
) -> RangeResult:
    """Homes of one range's users: read_range -> assign_countries -> backend.aggregate -> infer_home.

    With ``outputs`` (a folder), each step's result is also written as the assets write it, one
    Parquet file per table and range (``outputs/homeloc/<table>/<range>.parquet``, by pandas'
    ``to_parquet`` as ``OutputStore.write_parquet`` does, without importing Dagster for it),
    timed as the stage ``write``; the assets' DuckDB copies of the quarantine, the range
    statistics and the homes are not.
    """
    written = 0.0

    def write(table: str, df: pd.DataFrame) -> None:
        nonlocal written
        assert outputs is not None
        t = time.perf_counter()
        folder = Path(outputs) / "homeloc" / table
        folder.mkdir(parents=True, exist_ok=True)
        df.to_parquet(folder / f"{user_range.key}.parquet", index=False)
        written += time.perf_counter() - t

    t0 = time.perf_counter()
    read = read_range(path, user_range.lo, user_range.hi)
    rows = read.rows
    t1 = time.perf_counter()
    country, how = assign_countries(
        rows["latitude"].to_numpy(), rows["longitude"].to_numpy(), index, max_offshore_km
    )
    t2 = time.perf_counter()
    if outputs is not None:
        write("user_locations", rows.assign(country=country, located=how))
    has_country = pd.notna(country)  # as user_country_userdays selects them
    # What the assets keep between steps: the stored rows' columns (strings in Arrow, as
    # Parquet gives them back), each step reading only what it needs, so the rows and their
    # HLL values are not held while the next stage runs.
    located = rows.loc[has_country, ["user_guid", "userday_hll"]].assign(
        country=pd.Series(country[has_country], index=rows.index[has_country], dtype="str")
    )
    guids = rows["user_guid"]
    n_rows, n_quarantined, n_bytes = len(rows), len(read.quarantine), read.end - read.start
    del rows, read
    per_country, per_user = backend.aggregate(located)
    del located
    if outputs is not None:
        stored_country, stored_user = with_rounded_userdays(per_country, per_user)
        write("user_country_userdays", stored_country)
        write("user_total_userdays", stored_user)
    t3 = time.perf_counter()
    written_by_t3 = written
    homes = infer_home(per_country, per_user, users_without(guids, per_user))
    if outputs is not None:
        write("user_home_country", homes)
    offshore = guids[how == "nearest"].unique()
    homes["offshore"] = homes["user_guid"].isin(offshore).to_numpy()
    t4 = time.perf_counter()
    # The writes fall inside the aggregate and home intervals: counted once, as "write".
    stages = {
        "read": t1 - t0,
        "countries": t2 - t1,
        "aggregate": t3 - t2 - written_by_t3,
        "home": t4 - t3 - (written - written_by_t3),
    }
    if outputs is not None:
        stages["write"] = written
    return RangeResult(
        homes=homes,
        n_rows=n_rows,
        n_quarantined=n_quarantined,
        n_bytes=n_bytes,
        stages=stages,
    )


@dataclass
class OursRun:
    """Every range of a file through our pipeline in this process."""

    backend: str
    homes: pd.DataFrame
    n_users: int
    n_rows: int
    seconds: float
    stages: dict[str, float]
    peak_rss: int | None

    @property
    def users_per_second(self) -> float:
        return self.n_users / self.seconds


def run_ours(
    path,
    backend,
    *,
    n_ranges: int = 16,
    index: CountryIndex | None = None,
    max_offshore_km: float = MAX_OFFSHORE_KM,
) -> OursRun:
    """Homes of every user of ``path``, range by range; the country index is built inside the timing when not given."""
    reset_peak_rss()
    t0 = time.perf_counter()
    index = CountryIndex(load_countries()) if index is None else index
    parts, stages, n_rows = [], {}, 0
    for r in user_ranges(n_ranges):
        res = process_range(path, r, backend, index, max_offshore_km)
        parts.append(res.homes)
        n_rows += res.n_rows
        for k, v in res.stages.items():
            stages[k] = stages.get(k, 0.0) + v
    homes = pd.concat(parts, ignore_index=True)
    seconds = time.perf_counter() - t0
    return OursRun(type(backend).__name__, homes, len(homes), n_rows, seconds, stages, peak_rss_bytes())


# ---- agreement ------------------------------------------------------------------------------


@dataclass
class Agreement:
    """Reference homes against ours for the users the reference processed."""

    n_users: int
    n_offshore: int  # excluded: ours placed a point by the nearest-country rule, the reference drops it
    n_compared: int
    n_same_home: int
    n_same_userdays: int
    n_ties: int  # compared users whose top two estimates are equal (both break ties by country name)
    n_offshore_same_home: int
    mismatches: list[dict] = field(default_factory=list)  # first 20 compared users with another home
    userday_differences: list[dict] = field(
        default_factory=list
    )  # first 20 with the same home, other user-days

    @property
    def identical(self) -> bool:
        return self.n_compared > 0 and self.n_same_home == self.n_compared


def compare_homes(reference: pd.DataFrame, ours: pd.DataFrame) -> Agreement:
    """Compare home country (None = no country) and its user-days, user by user.

    ``reference``: ``homeloc_reference.COLUMNS``. ``ours``: ``infer_home`` columns plus ``offshore``.
    A reference user missing from ours counts as a mismatch.
    """
    m = reference.merge(ours, on="user_guid", how="left", suffixes=("_ref", ""), indicator=True)
    found = (m["_merge"] == "both").to_numpy()
    offshore = found & m["offshore"].fillna(False).astype(bool).to_numpy()
    ref_home = m["home_country_ref"].fillna("").astype(str).to_numpy()
    our_home = m["home_country"].fillna("").astype(str).to_numpy()
    same_home = found & (ref_home == our_home)
    same_days = same_home & (
        m["home_userdays_ref"].to_numpy(dtype=float) == m["home_userdays"].to_numpy(dtype=float)
    )
    tie = (
        found
        & (m["n_countries"].fillna(0).to_numpy() > 1)
        & (m["home_userdays"].to_numpy(dtype=float) == m["runner_up_userdays"].to_numpy(dtype=float))
    )
    inland = ~offshore
    bad = inland & ~same_home
    cols = [
        "user_guid",
        "home_country_ref",
        "home_userdays_ref",
        "home_country",
        "home_userdays",
        "runner_up_country",
        "status",
    ]

    def records(mask):
        shown = m.loc[mask, cols].head(20).astype(object)
        return shown.where(shown.notna(), None).to_dict("records")

    return Agreement(
        n_users=len(m),
        n_offshore=int(offshore.sum()),
        n_compared=int(inland.sum()),
        n_same_home=int((same_home & inland).sum()),
        n_same_userdays=int((same_days & inland).sum()),
        n_ties=int((tie & inland).sum()),
        n_offshore_same_home=int((same_home & offshore).sum()),
        mismatches=records(bad),
        userday_differences=records(inland & same_home & ~same_days),
    )


def compare_backends(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Whether two of our runs gave the same home, user-days and status for every user."""
    m = a.merge(b, on="user_guid", how="outer", suffixes=("_a", "_b"), indicator=True)
    both = (m["_merge"] == "both").to_numpy()
    same = (
        both
        & (m["home_country_a"].fillna("").to_numpy() == m["home_country_b"].fillna("").to_numpy())
        & (m["home_userdays_a"].to_numpy() == m["home_userdays_b"].to_numpy())
        & (m["status_a"].astype(str).to_numpy() == m["status_b"].astype(str).to_numpy())
    )
    return {"n_users": len(m), "n_identical": int(same.sum())}


# ---- part 1: throughput ---------------------------------------------------------------------


def throughput_benchmark(path, database_url: str, reference_users: int) -> dict:
    """Reference loop on a prefix, ours (PostgreSQL, then embedded) on the whole file; one process."""
    countries = load_countries()
    out = {"file": str(path), "reference_users": reference_users}
    out["load_before"] = os.getloadavg()
    print(f"reference loop on the first {reference_users:,} users ...", file=sys.stderr, flush=True)
    reset_peak_rss()
    cpu, server = time.process_time(), server_cpu_seconds(database_url)
    ref = run_reference(path, database_url, countries, max_users=reference_users)
    out["reference"] = {
        "users": ref.n_users,
        "rows": ref.n_rows,
        "groups": ref.n_groups,
        "seconds": ref.seconds,
        "cpu_seconds": time.process_time() - cpu,
        "server_cpu_seconds": _delta(server_cpu_seconds(database_url), server),
        "users_per_second": ref.users_per_second,
        "peak_rss": peak_rss_bytes(),
        "load_after": os.getloadavg(),
    }
    runs = {}
    for name, backend in (("postgres", PostgresHLLBackend(database_url)), ("embedded", EmbeddedHLLBackend())):
        print(f"ours ({name}) on the whole file ...", file=sys.stderr, flush=True)
        cpu, server = time.process_time(), server_cpu_seconds(database_url)
        run = run_ours(path, backend)
        runs[name] = run
        out[name] = {
            "users": run.n_users,
            "rows": run.n_rows,
            "seconds": run.seconds,
            "users_per_second": run.users_per_second,
            "cpu_seconds": time.process_time() - cpu,
            "server_cpu_seconds": _delta(server_cpu_seconds(database_url), server),
            "stages": run.stages,
            "peak_rss": run.peak_rss,
            "load_after": os.getloadavg(),
            "ratio": run.users_per_second / ref.users_per_second,
            "status": run.homes["status"].value_counts().to_dict(),
        }
    agreement = compare_homes(ref.homes, runs["postgres"].homes)
    out["agreement"] = {**asdict(agreement), "identical": agreement.identical}
    out["backends_agree"] = compare_backends(runs["postgres"].homes, runs["embedded"].homes)
    return out


# ---- part 2: scale, one subprocess per range ------------------------------------------------


def range_worker(
    path,
    key: str,
    n_ranges: int,
    database_url: str,
    max_offshore_km: float,
    backend: str = "postgres",
    outputs_root: str | None = None,
) -> dict:
    """Run one range (the body of a ``--range-worker`` subprocess) with the ``postgres`` or ``embedded``
    HLL backend; with ``outputs_root``, its results are written there as the assets write them."""
    t0 = time.perf_counter()
    index = CountryIndex(load_countries())
    res = process_range(
        path,
        range_by_key(key, user_ranges(n_ranges)),
        PostgresHLLBackend(database_url) if backend == "postgres" else EmbeddedHLLBackend(),
        index,
        max_offshore_km,
        Path(outputs_root) if outputs_root else None,
    )
    classes = classify(res.homes)["classification"].value_counts().to_dict()
    return {
        "key": key,
        "users": len(res.homes),
        "rows": res.n_rows,
        "bytes": res.n_bytes,
        "quarantined": res.n_quarantined,
        "stages": res.stages,
        "seconds_in_worker": time.perf_counter() - t0,
        "classes": classes,
        "status": res.homes["status"].value_counts().to_dict(),
        "vmhwm": peak_rss_bytes(),
    }


def run_ranges(
    path,
    database_url: str,
    n_ranges: int,
    *,
    keys: list[str] | None = None,
    jobs: int = 1,
    max_offshore_km: float = MAX_OFFSHORE_KM,
    backend: str = "postgres",
    outputs_root: str | None = None,
) -> dict:
    """Each range (``keys``, default all) in a fresh subprocess, ``jobs`` at a time; peak RSS per run
    is the worker's own VmHWM (wait4's ru_maxrss where /proc is missing). With ``outputs_root``
    each range writes its results there, as the assets do (``process_range``).

    ``backend`` is ``postgres`` (``database_url``) or ``embedded``; the server's CPU is only counted for ``postgres``.
    """
    keys = [r.key for r in user_ranges(n_ranges)] if keys is None else keys
    todo, running, done = list(keys), {}, []
    server = server_cpu_seconds(database_url) if backend == "postgres" else None
    t0 = time.perf_counter()
    while todo or running:
        while todo and len(running) < jobs:
            key = todo.pop(0)
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.bench_homeloc",
                "--range-worker",
                key,
                "--file",
                str(path),
                "--ranges",
                str(n_ranges),
                "--database-url",
                database_url,
                "--max-offshore-km",
                str(max_offshore_km),
                "--backend",
                backend,
                *(["--outputs", outputs_root] if outputs_root else []),
            ]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            running[proc.pid] = (proc, key, time.perf_counter())
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        proc, key, started = running.pop(pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
        text = proc.stdout.read()
        proc.stdout.close()
        if proc.returncode != 0:
            raise RuntimeError(
                f"range {key} of {path} failed in its subprocess (exit code {proc.returncode})"
            )
        rec = json.loads(text.strip().splitlines()[-1])
        rec["seconds"] = time.perf_counter() - started
        # The worker's own VmHWM: wait4's ru_maxrss also carries this (large) process's peak,
        # which Linux keeps across fork and exec.
        rec["peak_rss"] = rec.get("vmhwm") or usage.ru_maxrss * 1024  # KiB on Linux
        rec["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        done.append(rec)
        print(
            f"  range {key}: {rec['users']:,} users, {rec['seconds']:.1f} s, peak {rec['peak_rss'] / GIB:.2f} GiB",
            file=sys.stderr,
            flush=True,
        )
    wall = time.perf_counter() - t0
    server = _delta(server_cpu_seconds(database_url), server) if backend == "postgres" else None
    users = sum(r["users"] for r in done)
    return {
        "file": str(path),
        "backend": backend,
        "n_ranges": n_ranges,
        "ranges_run": len(done),
        "jobs": jobs,
        "wall_seconds": wall,
        "users": users,
        "rows": sum(r["rows"] for r in done),
        "bytes": sum(r["bytes"] for r in done),
        "users_per_second": users / wall,
        "cpu_seconds": sum(r["cpu_seconds"] for r in done),
        "server_cpu_seconds": server,
        "peak_rss_max": max(r["peak_rss"] for r in done),
        "peak_rss_mean": float(np.mean([r["peak_rss"] for r in done])),
        "max_range_rows": max(r["rows"] for r in done),
        "max_range_bytes": max(r["bytes"] for r in done),
        "classes": _sum_dicts(r["classes"] for r in done),
        "stages": _sum_dicts(r["stages"] for r in done),
        "load_after": os.getloadavg(),
        "ranges": done,
    }


def _rest(run: dict) -> str:
    """Where the ranges' process time outside the stages went, from each worker's record:
    the process's own start (interpreter, imports) and, inside the worker, the country index and
    the summary of its result. Empty for records without those times."""
    ranges = run.get("ranges") or []
    if not ranges or any("seconds_in_worker" not in r for r in ranges):
        return ""
    start = sum(r["seconds"] - r["seconds_in_worker"] for r in ranges)
    setup = sum(r["seconds_in_worker"] - sum(r["stages"].values()) for r in ranges)
    total = sum(r["seconds"] for r in ranges)
    return (
        f"; outside them, {start:.0f} s starting each process (interpreter, imports) and {setup:.0f} s "
        f"building the country index and summarising the result, of {total:.0f} s of range processes "
        f"in all ({run['jobs']} at a time)"
    )


def _sum_dicts(dicts) -> dict:
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _spread(keys: list[str], k: int) -> list[str]:
    """``k`` keys spread evenly over ``keys`` (all when k <= 0 or k >= len)."""
    if k <= 0 or k >= len(keys):
        return keys
    return [keys[i] for i in np.linspace(0, len(keys) - 1, k).round().astype(int)]


def scale_benchmark(
    out_dir,
    database_url: str,
    scale_users: int,
    small_users: int,
    fine_ranges: int,
    fine_sample: int,
    jobs: int,
) -> dict:
    """16 ranges of the small and the large file, then ``fine_ranges`` ranges of the large one (a sample of them),
    with the PostgreSQL backend; then the large file's 16 ranges again with the embedded backend. Each
    range writes its results as the assets do, into a temporary folder of ``out_dir``."""
    small, large = sample_file(out_dir, small_users), sample_file(out_dir, scale_users)
    runs = []
    plan = (
        (small, 16, 0, "postgres"),
        (large, 16, 0, "postgres"),
        (large, fine_ranges, fine_sample, "postgres"),
        (large, 16, 0, "embedded"),
    )
    for path, n, sample, backend in plan:
        keys = _spread([r.key for r in user_ranges(n)], sample)
        print(f"scale: {path.name}, {len(keys)} of {n} ranges, {backend} ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(dir=out_dir, prefix="range-outputs-") as written:
            run = run_ranges(
                path, database_url, n, keys=keys, jobs=jobs, backend=backend, outputs_root=written
            )
        run["file_users"] = json.loads(path.with_suffix(".json").read_text())["n_users"]
        runs.append(run)
    return {"runs": runs}


# ---- machine and report ---------------------------------------------------------------------


def machine_info(database_url: str) -> dict:
    """Cores, CPU model, RAM, PostgreSQL and hll extension versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) * 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = None
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'hll'")
        hll = cur.fetchone()
    conn.close()
    if hll is None:
        raise SystemExit("the database has no 'hll' extension: run CREATE EXTENSION hll; in it first")
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_bytes": mem,
        "postgresql": pg,
        "hll": hll[0],
        "python": platform.python_version(),
        "load_start": os.getloadavg(),
    }


def _gib(b) -> str:
    return "n/a" if b is None else f"{b / GIB:.2f} GiB"


def _cpu(r: dict, per: float = 1.0, unit: str = "s") -> str:
    server = r.get("server_cpu_seconds")
    return f"{r['cpu_seconds'] / per:.1f} / " + ("n/a" if server is None else f"{server / per:.1f} {unit}")


def _load(t) -> str:
    return " / ".join(f"{x:.1f}" for x in t)


def render(results: dict) -> str:
    """The ``## Home location`` section (markdown) from the results of ``main``."""
    m = results["machine"]
    lines = [
        SECTION,
        "",
        f"Measured {results['date']} on {m['cores']} cores ({m['cpu']}), {_gib(m['ram_bytes'])} RAM, "
        f"PostgreSQL {m['postgresql']} with hll {m['hll']}, Python {m['python']}. The machine was shared with other "
        f"jobs: load average (1/5/15 min) {_load(m['load_start'])} at the start, so absolute times are pessimistic; "
        "the reference and ours ran in the same process one after the other, so their ratio is the figure to read.",
        "",
        "```",
        results["command"],
        "```",
        "",
    ]
    t = results.get("throughput")
    if t:
        ref, pg, emb, ag = t["reference"], t["postgres"], t["embedded"], t["agreement"]
        lines += [
            "### Throughput against the reference per-user loop",
            "",
            f"File: {pg['users']:,} generated users, {pg['rows']:,} rows. The reference loop (one user at a time: "
            "geopandas `sjoin(within)` in ESRI:54009, then per country a `hll_union_agg` and a `hll_cardinality` "
            f"round trip) ran on the first {ref['users']:,} users; ours ran on every user over 16 ranges.",
            "",
            "| run | users | rows | wall time | CPU time client / server | users/s | ratio to reference | peak RSS of the step | load after |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| reference loop (PostgreSQL, {ref['groups']:,} user-countries, {2 * ref['groups']:,} round trips) | "
            f"{ref['users']:,} | {ref['rows']:,} | {ref['seconds']:.1f} s | {_cpu(ref)} | {ref['users_per_second']:,.1f} | 1 | "
            f"{_gib(ref['peak_rss'])} | {_load(ref['load_after'])} |",
        ]
        for name, r in (("ours, PostgreSQL backend", pg), ("ours, embedded backend", emb)):
            lines.append(
                f"| {name} | {r['users']:,} | {r['rows']:,} | {r['seconds']:.1f} s | {_cpu(r)} | {r['users_per_second']:,.0f} | "
                f"{r['ratio']:,.0f}× | {_gib(r['peak_rss'])} | {_load(r['load_after'])} |"
            )
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in pg["stages"].items())
        estages = ", ".join(f"{k} {v:.1f} s" for k, v in emb["stages"].items())
        lines += [
            "",
            f"Where ours spends its time: PostgreSQL backend {stages}; embedded {estages}.",
            "",
            f"Identical homes: **{'yes' if ag['identical'] else 'NO'}** — {ag['n_same_home']:,} of {ag['n_compared']:,} "
            f"compared users have the same home country (user-days also equal for {ag['n_same_userdays']:,}; "
            f"{ag['n_ties']:,} of them are exact ties, which both break by country name). Excluded from the check: "
            f"{ag['n_offshore']:,} users with a point outside every polygon that ours placed in the nearest country "
            f"(≤ {MAX_OFFSHORE_KM:g} km, the pipeline's rule) while the reference drops it; "
            f"{ag['n_offshore_same_home']:,} of them still agree. The PostgreSQL and embedded backends gave the same "
            f"home, user-days and status for {t['backends_agree']['n_identical']:,} of "
            f"{t['backends_agree']['n_users']:,} users.",
        ]
        for key, title in (
            ("mismatches", "First users with another home"),
            ("userday_differences", "Users with the same home but other home user-days"),
        ):
            if ag.get(key):
                lines += ["", f"{title}:", "", "```", *[json.dumps(x) for x in ag[key][:5]], "```"]
        goal = pg["ratio"] >= 100
        lines += [
            "",
            f"Goal ≥ 100× the reference's users/s: **{'reached' if goal else 'not reached'}** "
            f"({pg['ratio']:,.0f}× with PostgreSQL, {emb['ratio']:,.0f}× embedded).",
            "",
        ]
    s = results.get("scale")
    if s:
        lines += [
            "### Scale, one subprocess per range",
            "",
            "Peak RSS is each range subprocess's own high-water mark (its `VmHWM`), "
            "interpreter and imports included; the PostgreSQL server's memory is not in it. "
            "Input MB/s is the bytes of the ranges' slices (together the file) over the wall time.",
            "",
            "| backend | file users | ranges | ranges run (jobs) | users run | rows | slice bytes (max) | rows per range (max) | "
            "wall time | CPU time client / server | users/s | input MB/s | peak RSS per range (max / mean) | load after |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in s["runs"]:
            backend = r.get("backend", "postgres")
            mbs = r["bytes"] / r["wall_seconds"] / 1e6
            lines.append(
                f"| {'PostgreSQL' if backend == 'postgres' else 'embedded'} | "
                f"{r['file_users']:,} | {r['n_ranges']} | {r['ranges_run']} ({r['jobs']}) | {r['users']:,} | {r['rows']:,} | "
                f"{r['max_range_bytes'] / 2**20:,.1f} MiB | {r['max_range_rows']:,} | {r['wall_seconds'] / 60:.1f} min | "
                f"{_cpu(r, 60, 'min')} | "
                f"{r['users_per_second']:,.0f} | {mbs:,.1f} | {_gib(r['peak_rss_max'])} / {_gib(r['peak_rss_mean'])} | "
                f"{_load(r['load_after'])} |"
            )
        full = [
            r
            for r in s["runs"]
            if r["ranges_run"] == r["n_ranges"] and r.get("backend", "postgres") == "postgres"
        ]
        big = max(full, key=lambda r: r["file_users"]) if full else None
        if big:
            c = big["classes"]
            ratio = c.get("Tourist", 0) / c["Local"] if c.get("Local") else float("nan")
            lines += [
                "",
                f"Largest full run: {big['file_users']:,} users in {big['wall_seconds'] / 60:.1f} min "
                f"(goal ≤ 15 min: **{'reached' if big['wall_seconds'] <= 900 else 'not reached'}**); "
                f"peak RSS per range {_gib(big['peak_rss_max'])} (goal ≤ 2 GiB: "
                f"**{'reached' if big['peak_rss_max'] <= 2 * GIB else 'not reached'}**). "
                f"Classified {c.get('Local', 0):,} Local and {c.get('Tourist', 0):,} Tourist users "
                f"(1:{ratio:.2f}), {c.get('Unclassified', 0):,} Unclassified.",
            ]
        embedded = [
            r for r in s["runs"] if r.get("backend") == "embedded" and r["ranges_run"] == r["n_ranges"]
        ]
        emb = max(embedded, key=lambda r: r["file_users"]) if embedded else None
        if emb:
            lines += [
                "",
                f"Embedded backend: {emb['file_users']:,} users in {emb['wall_seconds']:.0f} s "
                f"(goal ≤ 60 s: **{'reached' if emb['wall_seconds'] <= 60 else 'not reached'}**), "
                f"{emb['bytes'] / 1e9:.2f} GB of input at {emb['bytes'] / emb['wall_seconds'] / 1e6:.1f} MB/s; "
                f"peak RSS per range {_gib(emb['peak_rss_max'])} (goal ≤ 1 GiB: "
                f"**{'reached' if emb['peak_rss_max'] <= GIB else 'not reached'}**).",
            ]
        lines += [
            "",
            "Stages: *read* the range's byte slice read, parsed and validated (bad lines quarantined); "
            "*countries* each point's country (the polygon join, then the nearest country offshore); "
            "*aggregate* the HLL unions and cardinalities per (user, country) and per user; *home* the "
            "home inference; *write* each step's Parquet file, as the assets write it (the assets' "
            "DuckDB copies of the quarantine, range statistics and homes are not in these figures).",
        ]
        for shown in [r for r in (big, emb) if r] or [s["runs"][-1]]:
            name = "PostgreSQL" if shown.get("backend", "postgres") == "postgres" else "embedded"
            lines += [
                "",
                f"Stage seconds summed over the ranges of the {shown['file_users']:,}-user, {shown['n_ranges']}-range "
                f"run ({name}): "
                + ", ".join(f"{k} {v:.0f} s" for k, v in shown["stages"].items())
                + _rest(shown)
                + ".",
            ]
    notes = results.get("notes")
    if notes:
        lines += ["", "### Not reached, and why", "", *[f"- {n}" for n in notes]]
    return "\n".join(lines).rstrip() + "\n"


def write_section(results_path, section: str) -> None:
    """Replace (or append) the ``## Home location`` section of ``results_path``, keeping every other section verbatim."""
    report.write_section(Path(results_path), SECTION, section)


# ---- command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_homeloc", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--database-url", help="a PostgreSQL database with the hll extension (required unless --render-from)"
    )
    p.add_argument("--users", type=int, default=100_000, help="users of the throughput file")
    p.add_argument(
        "--reference-users", type=int, default=5_000, help="users the reference loop processes (a prefix)"
    )
    p.add_argument("--scale-users", type=int, default=6_300_000, help="users of the large scale file")
    p.add_argument(
        "--small-scale-users",
        type=int,
        default=None,
        help="users of the small scale file (default a quarter)",
    )
    p.add_argument("--fine-ranges", type=int, default=64, help="ranges of the large file's second run")
    p.add_argument("--fine-sample", type=int, default=8, help="how many of those ranges to run (0 = all)")
    p.add_argument("--jobs", type=int, default=1, help="range subprocesses at a time")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-scale", action="store_true")
    p.add_argument(
        "--skip-borders",
        action="store_true",
        help="skip the country-layer comparison (benchmarks.bench_borders)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, to check the benchmark itself")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="folder for generated files and the JSON results")
    p.add_argument(
        "--results",
        default=None,
        help="markdown file whose '## Home location' section is rewritten "
        "(default benchmarks/RESULTS.md; not written with --quick unless given)",
    )
    p.add_argument(
        "--note", action="append", default=[], help="a line for 'Not reached, and why' (repeatable)"
    )
    p.add_argument(
        "--render-from", metavar="JSON", help="only rewrite the section from a saved homeloc_results.json"
    )
    p.add_argument("--range-worker", metavar="KEY", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--ranges", type=int, default=16, help=argparse.SUPPRESS)
    p.add_argument("--max-offshore-km", type=float, default=MAX_OFFSHORE_KM, help=argparse.SUPPRESS)
    p.add_argument("--backend", choices=["postgres", "embedded"], default="postgres", help=argparse.SUPPRESS)
    p.add_argument("--outputs", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> dict | None:
    args = _parser().parse_args(argv)
    if args.range_worker:
        print(
            json.dumps(
                range_worker(
                    args.file,
                    args.range_worker,
                    args.ranges,
                    args.database_url,
                    args.max_offshore_km,
                    args.backend,
                    args.outputs,
                )
            )
        )
        return None
    if args.render_from:
        results = json.loads(Path(args.render_from).read_text())
        results["notes"] = results.get("notes", []) + list(args.note)
        section = render(results)
        print(section)
        write_section(args.results or DEFAULT_RESULTS, section)
        return results
    if not args.database_url:
        raise SystemExit("--database-url is required: a PostgreSQL database with the hll extension")
    if args.quick:
        args.users, args.reference_users = min(args.users, 5_000), min(args.reference_users, 300)
        args.scale_users, args.fine_sample = min(args.scale_users, 40_000), min(args.fine_sample, 4) or 4
    results_path = args.results or (None if args.quick else DEFAULT_RESULTS)
    out = Path(args.out)
    shown = [a if "://" not in a else "URL" for a in (argv if argv is not None else sys.argv[1:])]
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine_info(args.database_url),
        "command": "python -m benchmarks.bench_homeloc " + " ".join(shown),
        "notes": list(args.note),
    }
    if not args.skip_throughput:
        results["throughput"] = throughput_benchmark(
            sample_file(out, args.users), args.database_url, args.reference_users
        )
        (out / "homeloc_throughput.json").write_text(json.dumps(results["throughput"], indent=1, default=str))
    if not args.skip_scale:
        small = args.small_scale_users or args.scale_users // 4
        results["scale"] = scale_benchmark(
            out, args.database_url, args.scale_users, small, args.fine_ranges, args.fine_sample, args.jobs
        )
        (out / "homeloc_scale.json").write_text(json.dumps(results["scale"], indent=1, default=str))
    (out / "homeloc_results.json").write_text(json.dumps(results, indent=1, default=str))
    section = render(results)
    print(section)
    if results_path:
        write_section(results_path, section)
    if not args.skip_borders:
        # The country layers side by side: its own "## Country layers" section.
        bench_borders.main(
            ["--out", str(out)]
            + (["--quick"] if args.quick else [])
            + (["--results", str(results_path)] if results_path else [])
        )
    return results


if __name__ == "__main__":
    main()
