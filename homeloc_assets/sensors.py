"""Refresh on a changed userday file: re-run only the user ranges whose byte slice changed."""

import json

import dagster as dg

from homeloc_assets.jobs import homeloc_range_job
from homeloc_assets.slicing import range_slices, slice_fingerprint
from partitions.definitions import USER_RANGE_COUNT
from partitions.user_ranges import user_ranges
from resources.userday_source import UserdaySource

USERDAY_POLL_SECONDS = 300


def changed_ranges(path, previous: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Slice fingerprints of every range now, and the keys whose slice differs from `previous`."""
    current = {
        r.key: slice_fingerprint(path, start, end)
        for r, start, end in range_slices(path, user_ranges(USER_RANGE_COUNT))
    }
    return current, [k for k, fp in current.items() if previous.get(k) != fp]


@dg.sensor(
    job=homeloc_range_job,
    minimum_interval_seconds=USERDAY_POLL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches GEODEM_USERDAYS_CSV; when it changes, requests runs only for user ranges whose byte slice changed.",
)
def userday_file_sensor(context: dg.SensorEvaluationContext, userdays: UserdaySource):
    try:
        quick = userdays.quick_fingerprint()
    except FileNotFoundError as exc:
        return dg.SkipReason(str(exc))
    cursor = json.loads(context.cursor) if context.cursor else {}
    if cursor.get("quick") == quick:
        return dg.SkipReason("userday file unchanged")
    slices, changed = changed_ranges(userdays.path, cursor.get("slices", {}))
    context.update_cursor(json.dumps({"quick": quick, "slices": slices}))
    if not changed:
        return dg.SkipReason("userday file touched but no range's slice changed")
    return [
        dg.RunRequest(
            run_key=f"{key}-{slices[key]}", partition_key=key, tags={"homeloc/slice_fingerprint": slices[key]}
        )
        for key in changed
    ]


# After ranges re-run (sensor runs, single-range runs), the summary catches up by itself:
# its eager automation condition waits until no range is missing or in progress.
summary_automation = dg.AutomationConditionSensorDefinition(
    "homeloc_summary_automation",
    target=dg.AssetSelection.assets("locals_tourists_summary"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Re-materialises locals_tourists_summary once updated user ranges have finished.",
)

sensors = [userday_file_sensor, summary_automation]
