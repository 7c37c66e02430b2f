"""Sensors: a new census release and a changed userday file trigger exactly the runs they should."""

import os

import dagster as dg
import pandas as pd

from geodem_assets.sensors import census_release_sensor, regions_after_census_sensor
from homeloc_assets.sensors import userday_file_sensor
from partitions.definitions import user_range_partitions
from sample_data.census import write_sample_census
from sample_data.userdays import write_sample_userdays
from tests.pipelines.harness import make_defs, make_resources, run

REGION = "liverpool-city-region"


class Tick:
    def __init__(self, data):
        self.skip_message = data.skip_message


def tick(sensor, resources, instance, cursor=None):
    """One evaluation as the daemon does it: (run requests, the tick, the new cursor)."""
    repo = make_defs(resources).get_repository_def()
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=resources, repository_def=repo
    )
    data = sensor.evaluate_tick(context)
    return list(data.run_requests or []), Tick(data), data.cursor


def test_census_sensor_requests_each_release_once(tmp_path):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], seed=7, scale=0.05)
    resources = make_resources(tmp_path, census_dir=census)
    instance = dg.DagsterInstance.ephemeral()
    requests, _, cursor = tick(census_release_sensor, resources, instance)
    assert len(requests) == 1 and requests[0].run_key.startswith("census-")
    first_key = requests[0].run_key
    requests, result, cursor = tick(census_release_sensor, resources, instance, cursor)
    assert not requests and "unchanged" in result.skip_message
    pop = census / "input_data" / "oa_pop_data.csv"
    os.utime(pop, (1, 1))
    requests, result, cursor = tick(census_release_sensor, resources, instance, cursor)
    assert not requests and "content is unchanged" in result.skip_message
    df = pd.read_csv(pop)
    df.loc[0, "uk001001"] += 1
    df.to_csv(pop, index=False)
    new, _, _ = tick(census_release_sensor, resources, instance, cursor)
    assert len(new) == 1 and new[0].run_key != first_key


def test_new_release_refreshes_only_regions_already_classified(tmp_path):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], seed=7, scale=0.05)
    resources = make_resources(tmp_path, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    requests, result, cursor = tick(regions_after_census_sensor, resources, instance)
    assert not requests and "no region has been classified" in result.skip_message
    job = defs.resolve_job_def("geodem_region_job").get_subset(
        asset_selection={dg.AssetKey("region_output_areas")}
    )
    assert job.execute_in_process(instance=instance, partition_key=REGION).success
    assert run(defs, "census_release_job", instance).success
    requests, _, cursor = tick(regions_after_census_sensor, resources, instance, cursor)
    assert [r.partition_key for r in requests] == [REGION]
    again, _, _ = tick(regions_after_census_sensor, resources, instance, cursor)
    assert not again


def test_userday_sensor_reruns_only_changed_ranges(tmp_path):
    path = tmp_path / "userdays.csv"
    write_sample_userdays(path, 800, seed=9)
    resources = make_resources(tmp_path, userdays=path)
    instance = dg.DagsterInstance.ephemeral()
    requests, _, cursor = tick(userday_file_sensor, resources, instance)
    assert sorted(r.partition_key for r in requests) == sorted(user_range_partitions.get_partition_keys())
    requests, result, cursor = tick(userday_file_sensor, resources, instance, cursor)
    assert not requests and "unchanged" in result.skip_message
    lines = path.read_bytes().splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines[1:], 1) if line.startswith(b"f"))
    fields = lines[target].split(b",")
    fields[1] = b"52.52" if fields[1] != b"52.52" else b"52.51"
    lines[target] = b",".join(fields)
    path.write_bytes(b"".join(lines))
    requests, _, _ = tick(userday_file_sensor, resources, instance, cursor)
    assert [r.partition_key for r in requests] == ["f"]
