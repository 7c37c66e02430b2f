"""`geodem`: generate samples and materialise partitions through Dagster on the instance in DAGSTER_HOME."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from common.locations import is_url, join
from resources.settings import PROJECT_ROOT, Settings

DEMO_USERS = 20_000


def _instance():
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(PROJECT_ROOT / ".dagster_home")
        os.environ["DAGSTER_HOME"] = home
    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def _console(run_config: dict | None = None) -> dict:
    """Run config with the console logger at INFO: step events, not every DEBUG line."""
    return {**(run_config or {}), "loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _parse_counts(text: str | None, flag: str = "--subgroups") -> list[int] | None:
    if not text:
        return None
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise SystemExit(f"{flag} must be comma-separated integers, got {text!r}") from None


def cmd_sample_census(args) -> int:
    from sample_data.census import write_sample_census

    regions = args.regions.split(",") if args.regions else None
    summary = write_sample_census(
        Path(args.out), regions=regions, uk=args.uk, seed=args.seed, detail=args.detail
    )
    print(summary)
    return 0


def cmd_sample_userdays(args) -> int:
    from sample_data.userdays import write_sample_userdays

    summary = write_sample_userdays(
        Path(args.out), args.users, seed=args.seed, study_country=args.study_country
    )
    print(summary)
    return 0


LAUNCHED_BY = "geodem/launched_by"


def _tags(launched_by: str) -> dict[str, str]:
    """Run tags saying which command started a run (the UI otherwise shows every run as manual)."""
    return {LAUNCHED_BY: launched_by}


def materialize_ranges(
    keys: list[str], *, summary: bool = True, instance=None, launched_by: str = "cli"
) -> bool:
    """Run each user range (one run per range), then the summary over all ranges."""
    from definitions import defs

    instance = instance or _instance()
    ok = True
    job = defs.resolve_job_def("homeloc_range_job")
    for key in keys:
        result = job.execute_in_process(
            instance=instance,
            partition_key=key,
            run_config=_console(),
            raise_on_error=False,
            tags=_tags(launched_by),
        )
        print(f"range {key}: {'ok' if result.success else 'FAILED'}")
        ok &= result.success
    if summary and ok:
        ok = (
            defs.resolve_job_def("homeloc_summary_job")
            .execute_in_process(
                instance=instance, run_config=_console(), raise_on_error=False, tags=_tags(launched_by)
            )
            .success
        )
    return ok


def materialize_region(
    slug: str,
    *,
    k: int | None = None,
    subgroups: list[int] | None = None,
    depth: int | None = None,
    groups: list[int] | None = None,
    instance=None,
    launched_by: str = "cli",
) -> bool:
    """Ingest the census release if it changed, then run the region's partition of the geodem graph."""
    from definitions import defs
    from partitions.regions import get_region
    from resources.defaults import resources_from_env

    get_region(slug)  # fails early, naming the known regions
    instance = instance or _instance()
    resources = resources_from_env()
    warehouse = resources["warehouse"]
    current = resources["census"].fingerprint()
    loaded = (
        str(warehouse.read("census_release_info")["fingerprint"].iloc[0])
        if warehouse.has_table("census_release_info")
        else None
    )
    if loaded != current:
        print(f"census release {current} is new: ingesting it")
        result = defs.resolve_job_def("census_release_job").execute_in_process(
            instance=instance, run_config=_console(), raise_on_error=False, tags=_tags(launched_by)
        )
        if not result.success:
            return False
    given = (("k", k), ("subgroups", subgroups), ("depth", depth), ("groups", groups))
    cluster = {k_: v for k_, v in given if v is not None}
    run_config = (
        {"ops": {name: {"config": cluster} for name in ("supergroups", "subgroups")}} if cluster else {}
    )
    result = defs.resolve_job_def("geodem_region_job").execute_in_process(
        instance=instance,
        partition_key=slug,
        run_config=_console(run_config),
        raise_on_error=False,
        tags=_tags(launched_by),
    )
    return result.success


NAMED_ASSETS = ("cluster_names", "classification_exports")


def materialize_names(slug: str, *, instance=None, launched_by: str = "cli") -> bool:
    """Re-run only the region's cluster_names and classification_exports (after reviewed names changed)."""
    import dagster as dg

    from definitions import defs

    result = defs.resolve_job_def("geodem_region_job").execute_in_process(
        instance=instance or _instance(),
        partition_key=slug,
        asset_selection=[dg.AssetKey(name) for name in NAMED_ASSETS],
        run_config=_console(),
        raise_on_error=False,
        tags=_tags(launched_by),
    )
    return result.success


def cmd_names_import(args) -> int:
    from geodem_assets import assets
    from geodem_cli.names import import_answer
    from partitions.regions import get_region
    from resources.defaults import resources_from_env
    from resources.namers.chat_answer import AnswerError

    region = get_region(args.region)
    answer = Path(args.answer)
    try:
        text = answer.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"{answer}: cannot read the answer: {exc}") from None
    overrides_file = assets.OVERRIDES_DIR / f"{region.slug}.yaml"
    try:
        entries = import_answer(region.slug, text, resources_from_env()["warehouse"], overrides_file)
    except AnswerError as exc:
        print(f"{answer}: not imported, nothing written; {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(entries)} reviewed names for {', '.join(sorted(entries))} stored in {overrides_file}")
    ok = materialize_names(region.slug)
    out = join(Settings.from_env().output_dir, "geodem", region.slug)
    print(
        f"{'done' if ok else 'FAILED'}: cluster_names and classification_exports of {region.slug}; exports in {out}"
    )
    return 0 if ok else 1


def cmd_materialize(args) -> int:
    if args.pipeline == "geodem":
        if not args.region:
            raise SystemExit("geodem materialize geodem needs --region SLUG")
        ok = materialize_region(
            args.region,
            k=args.k,
            subgroups=_parse_counts(args.subgroups),
            depth=args.depth,
            groups=_parse_counts(args.groups, "--groups"),
        )
        s = Settings.from_env()
        print(
            f"{'done' if ok else 'FAILED'}: region {args.region}; exports in {join(s.output_dir, 'geodem', args.region)}"
        )
        return 0 if ok else 1
    if args.pipeline == "homeloc":
        from partitions.definitions import user_range, user_range_partitions

        if args.all:
            keys = user_range_partitions.get_partition_keys()
        elif args.range:
            keys = [user_range(args.range).key]
        else:
            raise SystemExit("geodem materialize homeloc needs --range KEY or --all")
        ok = materialize_ranges(keys, summary=bool(args.all))
        print(f"{'done' if ok else 'FAILED'}: outputs in {join(Settings.from_env().output_dir, 'homeloc')}")
        return 0 if ok else 1
    raise SystemExit(f"unknown pipeline {args.pipeline!r}")


def cmd_backfill(args) -> int:
    from geodem_cli import backfill
    from partitions.definitions import user_range_partitions

    keys = user_range_partitions.get_partition_keys()
    if args.failed:
        status = backfill.backfill_status(args.url, args.failed)
        keys = backfill.failed_partitions(status)
        if not keys:
            print(f"backfill {args.failed} has no failed ranges")
            return 0
    elif args.ranges:
        keys = args.ranges.split(",")
    assets = list(backfill.HOMELOC_RANGE_ASSETS)
    backfill_id = backfill.launch_asset_backfill(
        args.url,
        assets,
        keys,
        title=f"homeloc: {len(keys)} user ranges",
        unpartitioned=(backfill.SUMMARY_ASSET,),
        tags=_tags("cli"),
    )
    print(f"launched backfill {backfill_id} of {len(keys)} ranges; progress in the UI under Runs > Backfills")
    if not args.wait:
        return 0
    status = backfill.wait(args.url, backfill_id, args.timeout)
    ok = status["status"] in ("COMPLETED", "COMPLETED_SUCCESS") and not backfill.failed_partitions(status)
    if not ok:
        print(f"some ranges failed: retry them alone with `geodem backfill homeloc --failed {backfill_id}`")
    return 0 if ok else 1


def cmd_prune_stale(args) -> int:
    """List (--dry-run) or delete the results of user ranges that are not current partitions."""
    from homeloc_assets.stale_ranges import find_stale, prune_stale
    from partitions.definitions import USER_RANGE_COUNT, user_range_partitions
    from resources.defaults import resources_from_env

    warehouse = resources_from_env()["warehouse"]
    folder = join(Settings.from_env().output_dir, "homeloc")
    current = user_range_partitions.get_partition_keys()
    stale = find_stale(warehouse, folder, current)
    print(f"current definition: {USER_RANGE_COUNT} user ranges (GEODEM_USER_RANGES)")
    if not stale.keys:
        print("no stale user ranges")
        return 0
    print(f"stale user ranges ({len(stale.keys)}): {', '.join(stale.keys)}")
    if args.dry_run:
        for where, keys in {**stale.in_tables, **stale.in_folders}.items():
            print(f"  {where}: {', '.join(keys)}")
        return 0
    for where, n in prune_stale(warehouse, folder, current).items():
        print(f"  removed from {where}: {n}")
    print("re-materialise locals_tourists_summary to refresh the totals and combined files")
    return 0


def cmd_warehouse_rebuild(args) -> int:
    """Copy every table of the Parquet record (GEODEM_OUTPUT_DIR/warehouse) into one DuckDB file."""
    from resources.defaults import resources_from_env
    from resources.parquet_warehouse import ParquetWarehouse, local_warehouse_from_record

    record = resources_from_env()["warehouse"]
    if not isinstance(record, ParquetWarehouse):
        print(
            "the warehouse is a DuckDB file already (GEODEM_WAREHOUSE); the Parquet record is used when "
            "GEODEM_WAREHOUSE=parquet or GEODEM_OUTPUT_DIR is a URL",
            file=sys.stderr,
        )
        return 1
    tables = local_warehouse_from_record(record, Path(args.target))
    print(f"{len(tables)} tables from {record.path} in {args.target}: {', '.join(tables)}")
    return 0


# What a user should know before opening the demo's maps.
MAP_NOTES = {
    "map.html": "  (Kepler.gl: needs internet, loads its viewer from a CDN)",
    "output_areas_map_kepler.html": "  (Kepler.gl: needs internet, loads its viewer from a CDN)",
    "map_offline.html": "  (Plotly, self-contained: opens offline)",
}


def cmd_demo(args) -> int:
    from sample_data.census import write_sample_census

    s = Settings.from_env()
    if any(is_url(where) for where in (s.census_dir, s.userdays_csv, s.output_dir)):
        raise SystemExit(
            "the demo generates its inputs on this machine: unset GEODEM_CENSUS_DIR, GEODEM_USERDAYS_CSV "
            "and GEODEM_OUTPUT_DIR (or point them at local folders)"
        )
    census_dir, userdays_csv, output_dir = (Path(s.census_dir), Path(s.userdays_csv), Path(s.output_dir))
    if not (census_dir / "input_data").exists():
        print(f"generating the synthetic sample census in {census_dir}")
        write_sample_census(census_dir, regions=["liverpool-city-region"], seed=0)
    ok = materialize_region("liverpool-city-region", launched_by="demo")
    if not userdays_csv.exists():
        from sample_data.userdays import write_sample_userdays

        print(f"generating the synthetic userday sample in {userdays_csv}")
        write_sample_userdays(userdays_csv, DEMO_USERS, seed=0, study_country=s.study_country)
    from partitions.definitions import user_range_partitions

    ok = materialize_ranges(user_range_partitions.get_partition_keys(), launched_by="demo") and ok
    print()
    print(("demo finished" if ok else "demo FAILED") + f"; Dagster instance: {os.environ['DAGSTER_HOME']}")
    if ok:
        for f in sorted((output_dir / "geodem" / "liverpool-city-region").iterdir()):
            print(f"  {f}{MAP_NOTES.get(f.name, '')}")
        print(f"  {output_dir / 'homeloc' / 'user_home_country.parquet'}")
        print("open the UI with `make ui`, then http://127.0.0.1:3000")
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="geodem", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="write synthetic inputs in the real files' layout")
    sample_sub = sample.add_subparsers(dest="what", required=True)
    census = sample_sub.add_parser("census", help="a synthetic census release (input_data/ + planted truth)")
    census.add_argument("--out", required=True)
    group = census.add_mutually_exclusive_group()
    group.add_argument("--regions", help="comma-separated region slugs (default liverpool-city-region)")
    group.add_argument("--uk", action="store_true", help="the whole UK, about 239,000 OAs")
    census.add_argument("--seed", type=int, default=0)
    census.add_argument(
        "--detail",
        action="store_true",
        help="realistic boundaries: shared edges densified and roughened (median about 47 vertices per OA)",
    )
    census.set_defaults(func=cmd_sample_census)

    ud = sample_sub.add_parser("userdays", help="a synthetic sorted userday CSV (+ <stem>_truth.csv)")
    ud.add_argument("--users", type=int, required=True)
    ud.add_argument("--out", required=True)
    ud.add_argument("--seed", type=int, default=0)
    ud.add_argument("--study-country", default="Germany")
    ud.set_defaults(func=cmd_sample_userdays)

    mat = sub.add_parser("materialize", help="materialise a pipeline's partition through Dagster")
    mat.add_argument("pipeline", choices=["geodem", "homeloc"])
    mat.add_argument("--region")
    mat.add_argument("--range", help="one user-guid range partition key")
    mat.add_argument("--all", action="store_true", help="every user range, then the summary")
    mat.add_argument("--k", type=int)
    mat.add_argument(
        "--depth", type=int, choices=[2, 3], help="tiers: 2 (supergroup, subgroup) or 3 (+ group)"
    )
    mat.add_argument("--groups", help="depth 3: groups per supergroup, e.g. 3,3,3,3,2,3,2,2")
    mat.add_argument(
        "--subgroups", help="subgroups per supergroup (depth 2), e.g. 3,3,4,3,3, or per group (depth 3)"
    )
    mat.set_defaults(func=cmd_materialize)

    bf = sub.add_parser("backfill", help="backfill partitions through a running webserver and daemon")
    bf.add_argument("pipeline", choices=["homeloc"])
    bf.add_argument(
        "--url",
        default=os.environ.get("GEODEM_DAGSTER_URL", "http://127.0.0.1:3000"),
        help="the Dagster webserver",
    )
    bf.add_argument("--ranges", help="comma-separated range keys (default: all)")
    bf.add_argument(
        "--failed", metavar="BACKFILL_ID", help="re-run only the ranges that failed in this backfill"
    )
    bf.add_argument("--wait", action="store_true", help="wait and print progress until the backfill finishes")
    bf.add_argument("--timeout", type=float, default=6 * 3600)
    bf.set_defaults(func=cmd_backfill)

    hl = sub.add_parser("homeloc", help="maintenance of the home-location results")
    hl_sub = hl.add_subparsers(dest="what", required=True)
    prune = hl_sub.add_parser(
        "prune-stale",
        help="delete results of user ranges that are not partitions of the current GEODEM_USER_RANGES",
    )
    prune.add_argument("--dry-run", action="store_true", help="only list the stale ranges")
    prune.set_defaults(func=cmd_prune_stale)

    wh = sub.add_parser(
        "warehouse", help="the warehouse kept as Parquet (GEODEM_WAREHOUSE=parquet or URL outputs)"
    )
    wh_sub = wh.add_subparsers(dest="what", required=True)
    rebuild = wh_sub.add_parser(
        "rebuild", help="a local DuckDB file holding every table of the Parquet record"
    )
    rebuild.add_argument("target", help="DuckDB file to write (replaced)")
    rebuild.set_defaults(func=cmd_warehouse_rebuild)

    names = sub.add_parser("names", help="cluster names from a chat LLM (no API key)")
    names_sub = names.add_subparsers(dest="what", required=True)
    imp = names_sub.add_parser(
        "import",
        help="check a chat LLM's JSON answer to names_prompt*.txt, store it as reviewed names, re-run names and exports",
    )
    imp.add_argument("--region", required=True, help="region slug (partition key)")
    imp.add_argument(
        "answer", help="file holding the pasted answer (JSON, a ```json block, or prose around it)"
    )
    imp.set_defaults(func=cmd_names_import)

    demo = sub.add_parser(
        "demo", help="sample data, the geodem graph for liverpool-city-region and every user range"
    )
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyError as exc:  # unknown region and similar lookups
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
