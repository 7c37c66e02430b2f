"""The home-location backfill with its input and outputs on S3 (moto on loopback) against local disk.

    python -m benchmarks.bench_objectstore [--users 300000] [--ranges 16]

Every user range (``homeloc_range_job``) and then ``locals_tourists_summary`` run in this process
on an ephemeral instance, three ways: today's single-machine default (local file, local outputs,
one DuckDB file), the same local disk with the warehouse as the Parquet record
(``GEODEM_WAREHOUSE=parquet``), and everything on S3 (``s3://`` input and outputs, the record
under the bucket). The per-user results of the three must be equal. Bytes and requests that
s3fs fetched are counted per range. The ``## Object storage: home-location backfill`` section of
benchmarks/RESULTS.md is rewritten with the figures; the 10-node estimate below them is text.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks import report

SECTION = "## Object storage: home-location backfill"
MIB = 1 << 20


class _Fetches:
    """Bytes and requests of s3fs's ranged GETs while installed."""

    def __init__(self):
        import s3fs

        self.bytes = self.requests = 0
        original = s3fs.core.S3File._fetch_range

        def counting(file, start, end):
            self.bytes += end - start
            self.requests += 1
            return original(file, start, end)

        s3fs.core.S3File._fetch_range = counting


def _run_all(env: dict[str, str], fetches: _Fetches | None, only_first: bool = False) -> dict:
    """Every range (the first only with ``only_first``), then the summary, in process with
    resources from ``env``; timings and results."""
    import dagster as dg

    from homeloc_assets import defs as homeloc
    from partitions.definitions import user_range_partitions
    from resources.defaults import resources_from_env

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        resources = resources_from_env()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    defs = dg.Definitions(
        assets=homeloc.assets,
        asset_checks=homeloc.checks,
        jobs=homeloc.jobs,
        resources=resources,
        executor=dg.in_process_executor,
    )
    instance = dg.DagsterInstance.ephemeral()
    per_range, fetched = [], []
    started = time.perf_counter()
    keys = user_range_partitions.get_partition_keys()
    for key in keys[:1] if only_first else keys:
        before = (fetches.bytes, fetches.requests) if fetches else (0, 0)
        t = time.perf_counter()
        result = defs.resolve_job_def("homeloc_range_job").execute_in_process(
            instance=instance, partition_key=key, raise_on_error=True
        )
        assert result.success, key
        per_range.append(time.perf_counter() - t)
        if fetches:
            fetched.append((fetches.bytes - before[0], fetches.requests - before[1]))
    t = time.perf_counter()
    assert defs.resolve_job_def("homeloc_summary_job").execute_in_process(instance=instance).success
    summary = time.perf_counter() - t
    total = time.perf_counter() - started
    homes = resources["outputs"].read_parquet("homeloc", "user_home_country.parquet")
    return {"per_range": per_range, "summary": summary, "total": total, "homes": homes, "fetched": fetched}


def _row(name: str, got: dict) -> str:
    r = got["per_range"]
    return (
        f"| {name} | {got['total']:.1f} s | {statistics.median(r):.2f} s | {max(r):.2f} s | "
        f"{got['summary']:.2f} s |"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300_000)
    parser.add_argument("--ranges", type=int, default=16)
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    args = parser.parse_args(argv)
    os.environ["GEODEM_USER_RANGES"] = str(args.ranges)  # read when the partitions are imported
    for var in ("GEODEM_HLL_DATABASE_URL", "GEODEM_WAREHOUSE", "OPENAI_API_KEY"):
        os.environ.pop(var, None)

    from geodem_cli.local_s3 import local_s3
    from sample_data.userdays import write_sample_userdays

    machine = report.machine_lines()
    with tempfile.TemporaryDirectory(prefix="bench-objectstore-") as tmp:
        root = Path(tmp)
        csv = root / "userdays.csv"
        write_sample_userdays(csv, args.users, seed=7)
        size = csv.stat().st_size
        local = {
            "GEODEM_USERDAYS_CSV": str(csv),
            "GEODEM_OUTPUT_DIR": str(root / "local" / "out"),
            "GEODEM_WAREHOUSE": str(root / "local" / "warehouse.duckdb"),
        }
        record = {
            "GEODEM_USERDAYS_CSV": str(csv),
            "GEODEM_OUTPUT_DIR": str(root / "record" / "out"),
            "GEODEM_WAREHOUSE": "parquet",
        }
        # One range first, untimed: imports, the country index and numba's kernels warm up here,
        # not in whichever way runs first.
        _run_all(
            {
                **local,
                "GEODEM_OUTPUT_DIR": str(root / "warm" / "out"),
                "GEODEM_WAREHOUSE": str(root / "warm" / "w.duckdb"),
            },
            None,
            only_first=True,
        )
        results = {"local disk, DuckDB file (default)": _run_all(local, None)}
        results["local disk, Parquet record"] = _run_all(record, None)
        with local_s3() as s3:
            bucket = s3.bucket("bench")
            t = time.perf_counter()
            s3.upload(csv, f"s3://{bucket}/in/userdays.csv")
            upload = time.perf_counter() - t
            os.environ.update(s3.env)
            remote = {
                "GEODEM_USERDAYS_CSV": f"s3://{bucket}/in/userdays.csv",
                "GEODEM_OUTPUT_DIR": f"s3://{bucket}/out",
                "GEODEM_SCRATCH_DIR": str(root / "scratch"),
            }
            results["S3 (moto on loopback), Parquet record"] = _run_all(remote, _Fetches())
    homes = list(results.values())
    for other in homes[1:]:
        pd.testing.assert_frame_equal(other["homes"], homes[0]["homes"])

    s3_run = homes[-1]
    fetched = s3_run["fetched"]
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Every user range of a generated "
        f"userday file ({args.users:,} users, {size / MIB:.1f} MiB, {args.ranges} ranges), then "
        "`locals_tourists_summary`, run one after another in one process (`execute_in_process`, embedded HLL), "
        "three ways (after one untimed range that warms up imports and caches); the combined "
        "`user_home_country.parquet` of the three is identical.",
        "",
        "```",
        f"python -m benchmarks.bench_objectstore --users {args.users} --ranges {args.ranges}",
        "```",
        "",
        *machine,
        "",
        "| where | all ranges + summary | range run, median | range run, max | summary |",
        "|---|---:|---:|---:|---:|",
        *[_row(name, got) for name, got in results.items()],
        "",
        f"Uploading the file to moto took {upload:.1f} s. Over S3, the ranges fetched "
        f"{sum(b for b, _ in fetched) / MIB:.0f} MiB in {sum(n for _, n in fetched):,} ranged GETs for a "
        f"{size / MIB:.1f} MiB file ({sum(b for b, _ in fetched) / size:.1f}× the file): per range from "
        f"{min(b for b, _ in fetched) / MIB:.1f} MiB (the first) to {max(b for b, _ in fetched) / MIB:.1f} MiB "
        "(the last). Besides its slice, a range streams the bytes before it to number its lines "
        "(`line_number_at`), so the last range reads about the whole file and the ranges together about "
        "(ranges + 1) / 2 times it; the header and the binary search cost a few 64 KiB GETs. moto runs in this process (a server thread sharing the interpreter) and keeps objects in memory, so these times show the client-side "
        "cost of the object-store path (requests, copies, Parquet round trips), not a network.",
    ]
    report.write_section(args.results, SECTION, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
