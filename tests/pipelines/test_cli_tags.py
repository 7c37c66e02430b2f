"""Runs started by the CLI and the demo say so in their tags (the UI shows them as 'Manually launched' otherwise)."""

import sys

import dagster as dg

from geodem_cli.main import LAUNCHED_BY, materialize_ranges
from sample_data.userdays import write_sample_userdays


def test_cli_range_and_summary_runs_carry_the_launched_by_tag(tmp_path, monkeypatch):
    userdays = tmp_path / "userdays.csv"
    write_sample_userdays(userdays, 200, seed=5)
    monkeypatch.setenv("GEODEM_USERDAYS_CSV", str(userdays))
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("GEODEM_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.delenv("GEODEM_HLL_DATABASE_URL", raising=False)
    # The CLI builds its resources from the environment when it imports the Definitions.
    monkeypatch.delitem(sys.modules, "definitions", raising=False)
    instance = dg.DagsterInstance.ephemeral()
    from partitions.definitions import user_range_partitions

    keys = user_range_partitions.get_partition_keys()[:2]
    assert materialize_ranges(keys, instance=instance, launched_by="demo")
    runs = instance.get_runs()
    assert len(runs) == 3  # two ranges and the summary
    assert {r.tags.get(LAUNCHED_BY) for r in runs} == {"demo"}
    assert sorted(
        r.tags.get("dagster/partition") for r in runs if r.job_name == "homeloc_range_job"
    ) == sorted(keys)
