"""No shared disk: runs on two separate worker processes that share only a broker, PostgreSQL and S3.

The webserver and daemon launch runs through dagster-celery's `CeleryRunLauncher` onto a
RabbitMQ queue of their own; two Celery workers take the runs, one at a time each, and execute
them in process. Each worker has its own empty folder (DAGSTER_HOME for its compute logs, the
scratch folder, TMPDIR, HOME, the working directory); inputs and outputs are on S3 (moto on a
loopback port) and the warehouse is the Parquet record there, so a run can land on either
worker and still see what the others wrote. What is shared: the broker, the Dagster PostgreSQL
storage (run queue, pools, event log) and the bucket.

`make bench-distributed` runs it on generated inputs and prints the timings; the test
(tests/objectstore/test_no_shared_disk.py) checks the results and the files written.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from geodem_cli import backfill
from geodem_cli.local_s3 import LocalS3, local_s3
from geodem_cli.stack import UiStack, dagster_database, running_stack
from geodem_cli.webserver import Service

BROKER = "amqp://guest:guest@127.0.0.1:5672//"
RANGES = "4"  # GEODEM_USER_RANGES of the stack and the workers: few runs, every code path
# Parts of the repository that the interpreter or the checkout writes, not the platform.
_NOT_DATA = {".git", ".venv", ".pytest_cache", ".ruff_cache", ".hypothesis"}


@dataclass
class Cluster:
    """The running stack, its workers, the bucket and what each was started with."""

    stack: UiStack
    workers: list[Service]
    worker_dirs: list[Path]
    s3: LocalS3
    bucket: str
    queue: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def outputs(self) -> str:
        return f"s3://{self.bucket}/out"


def _settings(s3: LocalS3, bucket: str, scratch: Path) -> dict[str, str]:
    """GEODEM_* and AWS_* of the webserver and daemon (workers get their own scratch): inputs and
    outputs on S3, nothing else configured."""
    return {
        "GEODEM_SCRATCH_DIR": str(scratch),
        "GEODEM_CENSUS_DIR": f"s3://{bucket}/inputs/census",
        "GEODEM_USERDAYS_CSV": f"s3://{bucket}/inputs/userdays.csv",
        "GEODEM_OUTPUT_DIR": f"s3://{bucket}/out",
        "GEODEM_USER_RANGES": RANGES,
        **s3.env,
    }


def _instance_overrides(queue: str) -> dict:
    return {
        "run_launcher": {
            "module": "dagster_celery.launcher",
            "class": "CeleryRunLauncher",
            "config": {"broker": BROKER, "backend": "rpc://", "default_queue": queue},
        }
    }


def _start_worker(name: str, root: Path, stack: UiStack, queue: str) -> Service:
    """A Celery worker on ``queue`` whose every file goes under ``root``."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copyfile(Path(stack.env["DAGSTER_HOME"]) / "dagster.yaml", home / "dagster.yaml")
    for sub in ("scratch", "tmp", "home"):
        (root / sub).mkdir()
    env = dict(stack.env)
    env.update(
        DAGSTER_HOME=str(home),
        GEODEM_SCRATCH_DIR=str(root / "scratch"),
        TMPDIR=str(root / "tmp"),
        HOME=str(root / "home"),
        MPLCONFIGDIR=str(root / "home" / "matplotlib"),
        XDG_CACHE_HOME=str(root / "home" / "cache"),
        DAGSTER_CELERY_BROKER_HOST="127.0.0.1",
    )
    args = ["celery", "-A", "dagster_celery.app", "worker", "-Q", queue, "-n", f"{name}@%h"]
    args += ["--concurrency", "1", "--prefetch-multiplier", "1", "--loglevel", "INFO"]
    args += ["--without-gossip", "--without-mingle"]
    return Service(args, env, root, root / "worker.log")


def tree_snapshot(root: Path, skip: set[Path] = frozenset()) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under ``root``, bytecode and the folders in ``skip`` left out."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if d not in _NOT_DATA and here / d not in skip]
        for name in filenames:
            if name.endswith(".pyc"):
                continue
            path = here / name
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            found[str(path)] = (st.st_size, st.st_mtime_ns)
    return found


def changed(before: dict, after: dict) -> list[str]:
    """Files added or modified between two snapshots."""
    return sorted(p for p, v in after.items() if before.get(p) != v)


@contextmanager
def running_cluster(pg_url: str, root: Path, census: Path, userdays: Path) -> Iterator[Cluster]:
    """S3 with the inputs, a fresh Dagster database, webserver + daemon, and two workers.

    Raises ConnectionError at once when the broker does not answer (runs would wait for ever)."""
    _check_broker()
    with ExitStack() as stack_:
        s3 = stack_.enter_context(local_s3())
        bucket = s3.bucket("distributed")
        s3.upload(census, f"s3://{bucket}/inputs/census")
        s3.upload(userdays, f"s3://{bucket}/inputs/userdays.csv")
        database = stack_.enter_context(dagster_database(pg_url, prefix="geodem_distributed"))
        # A queue of its own: other users of this broker never take these runs, nor these workers theirs.
        queue = f"geodem-{uuid.uuid4().hex[:8]}"
        control = root / "control"
        control.mkdir()
        started = time.monotonic()
        stack = stack_.enter_context(
            running_stack(
                database,
                control,
                _settings(s3, bucket, control / "scratch"),
                control / "logs",
                _instance_overrides(queue),
            )
        )
        workers, dirs = [], []
        for name in ("worker-a", "worker-b"):
            dirs.append(root / name)
            workers.append(_start_worker(name, root / name, stack, queue))
        try:
            yield Cluster(stack, workers, dirs, s3, bucket, queue, {"start": time.monotonic() - started})
        finally:
            for worker in workers:
                worker.stop(grace=20)
            _delete_queue(queue)


def _check_broker() -> None:
    import kombu

    try:
        with kombu.Connection(BROKER, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
    except Exception as exc:
        raise ConnectionError(
            f"RabbitMQ at 127.0.0.1:5672 does not answer ({exc}); start it (rabbitmq-server -detached)"
        ) from exc


def _delete_queue(queue: str) -> None:
    """Remove this cluster's queue from the broker (it outlives its consumers otherwise)."""
    import kombu

    with kombu.Connection(BROKER) as conn:
        conn.default_channel.queue_delete(queue)


def wait_for_runs(url: str, backfill_id: str, n_runs: int, timeout_s: float = 900) -> dict:
    """The backfill's status once it has finished, or once ``n_runs`` of its runs have all
    succeeded (the daemon marks a backfill done on a later tick; the runs are what count here).
    A failed run ends the wait too."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = backfill.backfill_status(url, backfill_id)
        runs = [r["status"] for r in status.get("runs") or []]
        done = len(runs) >= n_runs and all(r == "SUCCESS" for r in runs)
        if status["status"] in backfill.FINISHED or done or "FAILURE" in runs:
            return status
        if time.monotonic() > deadline:
            raise backfill.BackfillError(f"backfill {backfill_id}: {runs} after {timeout_s:.0f} s")
        time.sleep(1.0)


def succeeded(status: dict) -> bool:
    """Every run of the backfill succeeded and none of its partitions failed."""
    runs = [r["status"] for r in status.get("runs") or []]
    return bool(runs) and all(r == "SUCCESS" for r in runs) and not backfill.failed_partitions(status)


def run_backfills(cluster: Cluster, regions: list[str], region_run_config: dict) -> dict[str, dict]:
    """census_release, then the regions and every user range (with the summary) at once; each a backfill."""
    from geodem_assets.defs import assets as geodem_assets

    url = cluster.stack.base_url
    region_assets = [a.key.path[-1] for a in geodem_assets if a.partitions_def is not None]
    ranges = _range_keys()
    out = {}
    t = time.monotonic()
    census_id = backfill.launch_asset_backfill(url, [], [], "census release", ("census_release",))
    out["census"] = wait_for_runs(url, census_id, 1)
    cluster.timings["census_release"] = time.monotonic() - t
    t = time.monotonic()
    regions_id = backfill.launch_asset_backfill(
        url, region_assets, regions, "regions", run_config=region_run_config
    )
    ranges_id = backfill.launch_asset_backfill(
        url, list(backfill.HOMELOC_RANGE_ASSETS), ranges, "user ranges", (backfill.SUMMARY_ASSET,)
    )
    out["ranges"] = wait_for_runs(url, ranges_id, len(ranges) + 1)
    cluster.timings["ranges_and_summary"] = time.monotonic() - t
    out["regions"] = wait_for_runs(url, regions_id, len(regions))
    cluster.timings["regions_and_ranges"] = time.monotonic() - t
    return out


def _range_keys() -> list[str]:
    from partitions.user_ranges import user_ranges

    return [r.key for r in user_ranges(int(RANGES))]


def tasks_taken(worker_dir: Path) -> int:
    """Runs a worker took, from its log: the distinct ``execute_job`` tasks it received.

    Received, not finished: Celery logs a task's "succeeded" line only after the run inside it
    has recorded its success in the Dagster storage, so a count of finished tasks taken as soon
    as every run has succeeded can miss the last one.
    """
    text = (worker_dir / "worker.log").read_text(errors="replace")
    return len(set(re.findall(r"Task execute_job\[([0-9a-f-]+)\] received", text)))


def main(argv=None) -> int:
    from sample_data.census import write_sample_census
    from sample_data.userdays import write_sample_userdays

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=20_000)
    args = parser.parse_args(argv)
    regions = ["liverpool-city-region", "greater-manchester"]
    config = {"ops": {"cluster_diagnostics": {"config": {"max_k": 6}}, "supergroups": {"config": {"k": 5}}}}
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        root = Path(tmp)
        write_sample_census(root / "census", regions=regions, seed=1, scale=0.1)
        write_sample_userdays(root / "userdays.csv", args.users, seed=3)
        with running_cluster(args.pg_url, root, root / "census", root / "userdays.csv") as cluster:
            results = run_backfills(cluster, regions, config)
            taken = [tasks_taken(d) for d in cluster.worker_dirs]
        for name, status in results.items():
            print(
                f"{name}: {'all runs succeeded' if succeeded(status) else 'FAILED'} {backfill.run_counts(status)}"
            )
        print(f"runs per worker: {taken}")
        for name, seconds in cluster.timings.items():
            print(f"{name}: {seconds:.1f} s")
        print(yaml.safe_dump({"users": args.users, "regions": regions, "ranges": int(RANGES)}).strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
