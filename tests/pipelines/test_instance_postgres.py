"""The repo's dagster.yaml on a real PostgreSQL: runs, events and asset status land in its tables."""

import shutil
import uuid

import dagster as dg
import psycopg2
import pytest

from resources.settings import PROJECT_ROOT
from sample_data.userdays import write_sample_userdays
from tests.pipelines.harness import make_defs, make_resources, run


@pytest.fixture
def dagster_pg(pg_server_url, tmp_path, monkeypatch):
    """A DAGSTER_HOME holding the repo's dagster.yaml, pointed at a fresh database."""
    name = f"dagster_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = pg_server_url.rsplit("/", 1)[0] + "/" + name
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        yield home, url
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_dagster_yaml_stores_runs_events_and_asset_status_in_postgres(dagster_pg, tmp_path):
    home, url = dagster_pg
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled
        path = tmp_path / "userdays.csv"
        write_sample_userdays(path, 300, seed=5)
        defs = make_defs(make_resources(tmp_path, userdays=path))
        result = run(defs, "homeloc_range_job", instance, "a")
        assert result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("user_home_country")) is not None
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE run_id = %s", [result.run_id])
        assert cur.fetchone()[0] == 1
        cur.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            [result.run_id],
        )
        assert cur.fetchone()[0] == 4
        cur.execute("SELECT asset_key FROM asset_keys")
        keys = {row[0] for row in cur.fetchall()}
        assert '["user_home_country"]' in keys
        cur.execute("SELECT count(*) FROM dynamic_partitions")  # the schema is dagster-postgres's own
        cur.execute("SELECT count(*) FROM asset_event_tags")
