"""Backfills through the Dagster webserver's GraphQL API, so the daemon runs them and the UI shows progress."""

from __future__ import annotations

import json
import time
import urllib.request

HOMELOC_RANGE_ASSETS = ("user_locations", "user_country_userdays", "user_home_country", "user_classification")
SUMMARY_ASSET = "locals_tourists_summary"
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}"""

STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id status numPartitions
      runs(limit: 10000) { runId status creationTime tags { key value } }
    }
    ... on PythonError { message }
  }
}"""


class BackfillError(RuntimeError):
    pass


def graphql(url: str, query: str, variables: dict, timeout: float = 60) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    req = urllib.request.Request(
        url.rstrip("/") + "/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        payload = json.load(resp)
    if payload.get("errors"):
        raise BackfillError("; ".join(e.get("message", str(e)) for e in payload["errors"]))
    return payload["data"]


def launch_asset_backfill(
    url: str,
    assets: list[str],
    partitions: list[str],
    title: str,
    unpartitioned: tuple[str, ...] = (),
    tags: dict[str, str] | None = None,
    run_config: dict | None = None,
) -> str:
    """An asset backfill of `partitions` of `assets`, plus unpartitioned downstream assets run after them.

    `tags` go on the backfill and on every run it launches; `run_config` is every run's config.
    """
    ranges = [{"start": k, "end": k} for k in partitions]
    by_asset = [{"assetKey": {"path": [a]}, "partitions": {"ranges": ranges}} for a in assets]
    by_asset += [{"assetKey": {"path": [a]}} for a in unpartitioned]
    params = {
        "partitionsByAssets": by_asset,
        "title": title,
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }
    if run_config:
        params["runConfigData"] = run_config
    result = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise BackfillError(f"{result['__typename']}: {result.get('message')}")
    return result["backfillId"]


def backfill_status(url: str, backfill_id: str) -> dict:
    result = graphql(url, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
    if result["__typename"] != "PartitionBackfill":
        raise BackfillError(f"{result['__typename']}: {result.get('message')}")
    return result


def partition_statuses(status: dict) -> dict[str, str]:
    """Status of the latest run of each partition of a backfill."""
    latest: dict[str, tuple[float, str]] = {}
    for r in status.get("runs") or []:
        key = next((t["value"] for t in r["tags"] if t["key"] == "dagster/partition"), None)
        if key is not None and (key not in latest or r["creationTime"] > latest[key][0]):
            latest[key] = (r["creationTime"], r["status"])
    return {k: v for k, (_, v) in sorted(latest.items())}


def failed_partitions(status: dict) -> list[str]:
    return [k for k, v in partition_statuses(status).items() if v in ("FAILURE", "CANCELED")]


def run_counts(status: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in status.get("runs") or []:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def wait(url: str, backfill_id: str, timeout_s: float, poll_s: float = 3.0, echo=print) -> dict:
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        status = backfill_status(url, backfill_id)
        line = f"backfill {backfill_id}: {status['status']} runs {run_counts(status)}"
        if line != last:
            echo(line)
            last = line
        if status["status"] in FINISHED:
            return status
        if time.monotonic() > deadline:
            raise BackfillError(
                f"backfill {backfill_id} not finished after {timeout_s:.0f} s ({status['status']})"
            )
        time.sleep(poll_s)
