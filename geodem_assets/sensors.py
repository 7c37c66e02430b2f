"""Refresh on a new census release: ingest it once, then re-run every region already classified."""

import json

import dagster as dg

from geodem_assets.jobs import census_release_job, geodem_region_job
from resources.census_files import CensusError
from resources.census_source import CensusSource

CENSUS_POLL_SECONDS = 300


@dg.sensor(
    job=census_release_job,
    minimum_interval_seconds=CENSUS_POLL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches GEODEM_CENSUS_DIR; a new or changed release (content fingerprint) triggers one census_release run.",
)
def census_release_sensor(context: dg.SensorEvaluationContext, census: CensusSource):
    try:
        cursor = json.loads(context.cursor) if context.cursor else {}
        # File sizes and times (objects' ETags) are a cheap first test; only a change there pays for hashing the content.
        signature = census.signature()
        if cursor.get("signature") == signature:
            return dg.SkipReason(f"census release unchanged (fingerprint {cursor.get('fingerprint')})")
        fp = census.fingerprint()
        settled = census.signature() == signature
    except CensusError as exc:
        return dg.SkipReason(f"no readable census release: {exc}")
    except FileNotFoundError:
        settled = False
    if not settled:
        # Being replaced or written right now: the hash may mix two releases, so look again next tick.
        return dg.SkipReason(
            "census release changed while it was being fingerprinted; looking again at the next tick"
        )
    context.update_cursor(json.dumps({"signature": signature, "fingerprint": fp}))
    if cursor.get("fingerprint") == fp:
        return dg.SkipReason(f"census files touched but their content is unchanged (fingerprint {fp})")
    # The run key makes a restarted daemon or a re-enabled sensor ask for this release only once.
    return dg.RunRequest(run_key=f"census-{fp}", tags={"geodem/census_fingerprint": fp})


@dg.asset_sensor(
    asset_key=dg.AssetKey("census_release"),
    job=geodem_region_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="After census_release materialises, re-runs every region partition that had been classified before.",
)
def regions_after_census_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    materialization = asset_event.asset_materialization
    fp = (
        str(materialization.metadata["fingerprint"].value)
        if "fingerprint" in materialization.metadata
        else asset_event.run_id
    )
    regions = sorted(context.instance.get_materialized_partitions(dg.AssetKey("region_output_areas")))
    if not regions:
        return dg.SkipReason(f"census release {fp} ingested; no region has been classified yet")
    return [
        dg.RunRequest(run_key=f"{fp}-{slug}", partition_key=slug, tags={"geodem/census_fingerprint": fp})
        for slug in regions
    ]


sensors = [census_release_sensor, regions_after_census_sensor]
