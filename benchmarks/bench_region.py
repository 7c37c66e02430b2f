"""Whole-region benchmark: every geodemographic asset of one region partition, offline names.

    python -m benchmarks.bench_region --size liverpool|uk [--detail] [--reference] [--work DIR]

Generates the synthetic census for the size (once, kept in --work), ingests it in one
subprocess, then runs the region's partition of `geodem_region_job` in fresh subprocesses, as
Dagster runs them in production: first with an empty numba cache (what the first run on a new
machine pays: compiling the k-means and UMAP kernels), then with the cache that run left (every
later run). With --reference, once more with the reference workflow's k-means calls
(method "reference"), in the same way. Reports wall time per asset and each process's peak
resident memory (its `VmHWM`), and writes the "## Whole region" section of RESULTS.md.
With --detail the census has realistic boundaries (`geodem sample census --detail`: tens to
thousands of vertices per OA) and the section is the region's "detailed boundaries" one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import RESULTS, machine_lines, peak_rss_bytes, write_section

SECTION = "## Whole region"
PROFILE_ENV = "BENCH_REGION_PROFILE_DIR"  # cProfile every child run into this folder
SIZES = {"liverpool": ("liverpool-city-region", 60.0), "uk": ("uk", 600.0)}  # partition, wall-time goal (s)
CLUSTER_OPS = ("cluster_diagnostics", "supergroups", "subgroups")
# Warm runs with another cluster_embedding run config (--variant NAME, repeatable).
VARIANTS = {
    "parallel-umap": {"deterministic": False},
    "umap-200-epochs": {"n_epochs": 200},
    "umap-500-epochs": {"n_epochs": 500},
}
ASSET_ORDER = [
    "region_output_areas",
    "region_census",
    "region_matrix",
    "cluster_diagnostics",
    "supergroups",
    "subgroups",
    "cluster_embedding",
    "cluster_profiles",
    "cluster_names",
    "classification_exports",
]


# ---- child: one Dagster run in this process ----------------------------------------------------


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    """Seconds from STEP_START to STEP_SUCCESS (or failure) of each step of the run."""
    import dagster as dg

    started, out = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            out[event.step_key] = entry.timestamp - started.get(event.step_key, entry.timestamp)
    return out


def child(job: str, partition: str | None, method: str, embedding: dict | None = None) -> dict:
    started = time.perf_counter()
    import dagster as dg

    from definitions import defs

    imported = time.perf_counter() - started
    run_config = {"ops": {op: {"config": {"method": method}} for op in CLUSTER_OPS}} if partition else {}
    if partition and embedding:
        run_config["ops"]["cluster_embedding"] = {"config": embedding}
    instance = dg.DagsterInstance.ephemeral()
    profile_dir = os.environ.get(PROFILE_ENV)
    profiler = None
    if profile_dir:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, run_config=run_config, raise_on_error=False
    )
    if profiler is not None:
        profiler.disable()
        name = "-".join(x for x in (job, partition, method, *(embedding or {})) if x)
        profiler.dump_stats(str(Path(profile_dir) / f"{name}.prof"))
    return {
        "success": result.success,
        "wall": time.perf_counter() - started,
        "import": imported,
        "steps": _step_seconds(instance, result.run_id),
        # VmHWM starts afresh at exec; ru_maxrss keeps the peak of the process this one was
        # started from, so it is only the fallback where /proc is missing.
        "peak_rss": peak_rss_bytes() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
    }


# ---- parent ---------------------------------------------------------------------------------


def _run_child(
    work: Path,
    numba_cache: Path,
    job: str,
    partition: str | None,
    method: str = "fast",
    embedding: dict | None = None,
) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEODEM_", "OPENAI_", "DAGSTER_"))}
    env.update(
        GEODEM_CENSUS_DIR=str(work / "census"),
        GEODEM_OUTPUT_DIR=str(work / "outputs"),
        GEODEM_WAREHOUSE=str(work / "warehouse.duckdb"),
        NUMBA_CACHE_DIR=str(numba_cache),
        DAGSTER_HOME=str(work / "dagster_home"),
    )
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.bench_region", "--child", job, "--method", method]
    if partition:
        cmd += ["--partition", partition]
    if embedding:
        cmd += ["--embedding", json.dumps(embedding)]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1]
    )
    if proc.returncode != 0:
        raise SystemExit(f"{job} {partition or ''} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall"] = time.perf_counter() - started
    if not out["success"]:
        raise SystemExit(f"{job} {partition or ''} did not succeed:\n{proc.stderr[-4000:]}")
    return out


def _run_warmup(numba_cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "geodem_assets.warmup"],
        env=env,
        check=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return {"process_wall": time.perf_counter() - started}


def boundary_stats(path: Path) -> dict:
    """Size of the OA GeoPackage (bytes) and its vertices per OA (median, 99th percentile, max)."""
    import numpy as np
    import pyogrio
    import shapely

    table = pyogrio.read_dataframe(path, columns=[], read_geometry=True)
    counts = shapely.get_num_coordinates(table.geometry.to_numpy())
    return {
        "bytes": path.stat().st_size,
        "vertices_median": float(np.median(counts)),
        "vertices_p99": float(np.quantile(counts, 0.99)),
        "vertices_max": int(counts.max()),
        "vertices_over_2000": int((counts > 2000).sum()),
    }


def measure(
    size: str, work: Path, reference: bool, variants: list[str], cold: bool = True, detail: bool = False
) -> dict:
    from sample_data.census import OA_FILE, write_sample_census

    partition, goal = SIZES[size]
    census = work / "census"
    if not (census / "input_data").exists():
        t = time.perf_counter()
        if size == "uk":
            write_sample_census(census, uk=True, seed=0, detail=detail)
        else:
            write_sample_census(census, regions=[partition], seed=0, detail=detail)
        print(f"sample census written in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    boundaries = boundary_stats(census / "input_data" / OA_FILE)
    cache = work / "numba-cache"
    if cold:
        shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    print("ingesting the census release", file=sys.stderr)
    runs = {"census_release": _run_child(work, cache, "census_release_job", None)}
    if cold:
        print("region run, empty numba cache", file=sys.stderr)
        runs["cold"] = _run_child(work, cache, "geodem_region_job", partition)
    print("region run, numba cache warm", file=sys.stderr)
    runs["warm"] = _run_child(work, cache, "geodem_region_job", partition)
    # Compiling is a small part of a UK run; a fourth 10-minute run would tell little. With
    # --skip-cold the numba cache of an earlier run is kept, so the first-run figure is skipped too.
    if size != "uk" and cold:
        print("region run after `make install`'s warm-up", file=sys.stderr)
        installed = work / "numba-cache-installed"
        shutil.rmtree(installed, ignore_errors=True)
        installed.mkdir(parents=True)
        runs["warm_up"] = _run_warmup(installed)
        runs["installed"] = _run_child(work, installed, "geodem_region_job", partition)
    for name in variants:
        print(f"region run, {name}", file=sys.stderr)
        runs[name] = _run_child(work, cache, "geodem_region_job", partition, embedding=VARIANTS[name])
    if reference:
        print("region run, reference k-means calls", file=sys.stderr)
        runs["reference"] = _run_child(work, cache, "geodem_region_job", partition, method="reference")
    import pyarrow.parquet as pq

    oas = pq.ParquetFile(census / "input_data" / "uk_census_data.parquet").metadata.num_rows
    return {
        "size": size,
        "partition": partition,
        "goal": goal,
        "census_oas": oas,
        "detail": detail,
        "boundaries": boundaries,
        "runs": runs,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def title(result: dict) -> str:
    return f"{SECTION}: {result['partition']}" + (", detailed boundaries" if result.get("detail") else "")


def _boundary_lines(r: dict) -> list[str]:
    b = r.get("boundaries")
    if not b:
        return []
    kind = (
        "detailed (`geodem sample census --detail`)"
        if r.get("detail")
        else "Voronoi cells (`geodem sample census`)"
    )
    return [
        f"OA boundaries: {kind}, {b['bytes'] / 1e6:.0f} MB GeoPackage, vertices per OA median "
        f"{b['vertices_median']:.0f}, 99th percentile {b['vertices_p99']:.0f}, max {b['vertices_max']:,}"
        + (f" ({b['vertices_over_2000']:,} OAs above 2,000)." if "vertices_over_2000" in b else "."),
        "",
    ]


def render(r: dict) -> str:
    """The section of one size (its own '## ' heading, so sizes can be re-run one at a time)."""
    lines = [
        title(r),
        "",
        "`python -m benchmarks.bench_region --size liverpool --reference` and `--size uk`: one region partition of "
        "`geodem_region_job` (every geodemographic asset, offline names, default run config) in a fresh Python "
        "process, as a Dagster run is. *Cold*: empty numba cache, so the k-means and UMAP kernels are compiled "
        "in the run; *installed*: an empty cache filled by `make install`'s warm-up (`python -m geodem_assets.warmup`) "
        "before the run (the first run after installing); *warm*: the cache the cold run left (every later run); "
        "*reference*: warm, with the reference workflow's k-means calls (`method: reference`). "
        "Wall time is the process's, imports included; peak memory is its own `VmHWM` (`ru_maxrss` would also carry the peak of the benchmark process that started it, which Linux keeps across fork and exec).",
        "",
        *machine_lines(),
        "",
    ]
    runs = r["runs"]
    names = [n for n in ("cold", "installed", "warm", *VARIANTS, "reference") if n in runs]
    lines += [
        f"Measured {r['date']} with `{r['command']}`." if "command" in r else f"Measured {r['date']}.",
        "",
        f"Census release ingested (`census_release_job`, {r['census_oas']:,} OAs): "
        f"{runs['census_release']['process_wall']:.1f} s"
        + (f" ({runs['census_release']['cpu']:.0f} s CPU)" if "cpu" in runs["census_release"] else "")
        + f", peak {runs['census_release']['peak_rss'] / 2**30:.2f} GiB.",
        "",
        *_boundary_lines(r),
        "| asset | " + " | ".join(f"{n} s" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for asset in ASSET_ORDER:
        lines.append(
            f"| {asset} | "
            + " | ".join(f"{runs[n]['steps'].get(asset, float('nan')):.1f}" for n in names)
            + " |"
        )
    lines.append(
        "| imports (Dagster, definitions) | " + " | ".join(f"{runs[n]['import']:.1f}" for n in names) + " |"
    )
    lines.append(
        "| **process wall time** | " + " | ".join(f"**{runs[n]['process_wall']:.1f}**" for n in names) + " |"
    )
    lines.append(
        "| peak memory (GiB) | " + " | ".join(f"{runs[n]['peak_rss'] / 2**30:.2f}" for n in names) + " |"
    )
    if all("cpu" in runs[n] for n in names):  # on a shared machine the steadier figure
        lines.append("| process CPU time (s) | " + " | ".join(f"{runs[n]['cpu']:.0f}" for n in names) + " |")
    warm = runs["warm"]["process_wall"]
    verdict = "reached" if warm <= r["goal"] else "not reached"
    lines += ["", f"Goal ≤ {r['goal']:.0f} s per region run: **{verdict}** warm ({warm:.0f} s)"]
    if "cold" in runs:
        lines[-1] += f"; with an empty numba cache the run took {runs['cold']['process_wall']:.0f} s"
    if "installed" in runs:
        lines[-1] += (
            f", after `make install`'s warm-up ({runs['warm_up']['process_wall']:.0f} s, once) "
            f"{runs['installed']['process_wall']:.0f} s"
        )
    lines[-1] += "."
    if "reference" in runs:
        lines.append(
            f"With the reference workflow's k-means calls the same run took "
            f"{runs['reference']['process_wall']:.0f} s ({runs['reference']['process_wall'] / warm:.1f}× ours, warm)."
        )
    for name in VARIANTS:
        if name in runs:
            lines.append(
                f"*{name}*: warm, `cluster_embedding` run config {json.dumps(VARIANTS[name])}: "
                f"{runs[name]['process_wall']:.0f} s."
            )
    lines.append("")
    return "\n".join(lines)


def _shown_args(args: list[str]) -> list[str]:
    """The command line as recorded in RESULTS.md: folders and files as DIR / FILE, never a
    path of the machine it ran on."""
    shown, hide = [], {"--work": "DIR", "--profile": "DIR", "--output": "FILE"}
    for i, arg in enumerate(args):
        flag, _, value = arg.partition("=")
        if value and flag in hide:
            shown.append(f"{flag}={hide[flag]}")
        elif i and args[i - 1] in hide:
            shown.append(hide[args[i - 1]])
        else:
            shown.append(arg)
    return shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=[*SIZES, "both"], default="liverpool")
    parser.add_argument("--reference", action="store_true", help="also run with the reference k-means calls")
    parser.add_argument(
        "--work", type=Path, help="folder for the sample census, warehouse and outputs (kept)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        choices=list(VARIANTS),
        help="also a warm run with this cluster_embedding run config (repeatable)",
    )
    parser.add_argument(
        "--skip-cold",
        action="store_true",
        help="keep the numba cache of an earlier run in --work (or copy one there) and skip the cold "
        "and the after-install runs",
    )
    parser.add_argument(
        "--detail",
        action="store_true",
        help="a census with realistic boundaries (geodem sample census --detail), in its own section",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="also write a cProfile of every run (<job>-<partition>-<method>.prof) into this folder",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--partition", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="fast", help=argparse.SUPPRESS)
    parser.add_argument("--embedding", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.partition, args.method, args.embedding)))
        return 0
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ[PROFILE_ENV] = str(args.profile.resolve())
    sizes = list(SIZES) if args.size == "both" else [args.size]
    root = args.work or Path(tempfile.mkdtemp(prefix="geodem-bench-region-"))
    for size in sizes:
        work = root / (f"{size}-detail" if args.detail else size)
        result = measure(
            size,
            work,
            args.reference and size == "liverpool",
            args.variant,
            cold=not args.skip_cold,
            detail=args.detail,
        )
        result["command"] = "python -m benchmarks.bench_region " + " ".join(
            _shown_args(argv if argv is not None else sys.argv[1:])
        )
        (work / "result.json").write_text(json.dumps(result, indent=1))
        section = render(result)
        write_section(args.output, title(result), section)
        print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
