"""The OpenAI key and the database password never reach event storage, logs, outputs or the warehouse."""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pandas as pd
import pytest

from partitions.definitions import user_range_partitions
from resources.hll_backends import HLLBackendError, PostgresHLLBackend
from resources.hll_resource import PostgresHLLResource
from resources.namers.resource import ClusterNamerResource
from sample_data.census import write_sample_census
from sample_data.userdays import write_sample_userdays
from tests.namers.responses_server import Reply, ResponsesServer, answer
from tests.pgcluster import free_port
from tests.pipelines.harness import make_defs, make_resources, run

KEY = "sk-test-SECRET-5d0c7a9e1f3b"
PASSWORD = "pw-SECRET-xyz-8e2a4c"
REGION = "liverpool-city-region"
SMALL_RUN = {
    "ops": {
        "cluster_diagnostics": {"config": {"n_init": 2, "max_k": 4}},
        "supergroups": {"config": {"k": 3, "n_init": 3}},
        "subgroups": {"config": {"subgroups": [2, 2, 2], "n_init": 3}},
    }
}
WORDS = {"A": "Amber", "B": "Birch", "C": "Cedar", "1": "Upper", "2": "Lower"}
PORTRAIT = "Residents here are more often renting and working in services than across the region as a whole."


def leaks(root: Path, secret: str) -> list[str]:
    """Files under ``root`` whose bytes hold ``secret`` (as UTF-8 or UTF-16, as DuckDB or SQLite may store it)."""
    needles = [secret.encode(), secret.encode("utf-16-le")]
    return [
        str(p.relative_to(root))
        for p in sorted(root.rglob("*"))
        if p.is_file() and any(n in p.read_bytes() for n in needles)
    ]


def test_leak_search_finds_plain_and_utf16_copies(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"\0" + KEY.encode("utf-16-le") + b"\0")
    (tmp_path / "y.txt").write_text(f"key={KEY}")
    (tmp_path / "z.txt").write_text("nothing")
    assert leaks(tmp_path, KEY) == ["a/x.bin", "y.txt"]


def _answer_by_cluster(body: dict) -> Reply:
    code = re.search(r"^Cluster: \w+ (\w+)$", body["input"], re.MULTILINE).group(1)
    return answer(" ".join(WORDS[c] for c in code) + " Streets", PORTRAIT)


def test_openai_key_stays_out_of_every_file_and_log(tmp_path, instance, caplog, capfd):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], seed=1, scale=0.05)
    with ResponsesServer() as server:
        # Two failures whose error text echoes the key (as real APIs do), then answers.
        failures = [
            Reply("status", status=500, error_message=f"upstream broke for key {KEY}"),
            Reply(
                "status", status=429, error_message=f"rate limited: {KEY}", headers={"retry-after-ms": "10"}
            ),
        ]
        server.script = lambda body: failures.pop(0) if failures else _answer_by_cluster(body)
        namer = ClusterNamerResource(
            openai_api_key=KEY, base_url=server.base_url, cache_dir=str(tmp_path / "out" / "cache")
        )
        resources = make_resources(tmp_path, census_dir=census, namer=namer)
        defs = make_defs(resources)
        assert run(defs, "census_release_job", instance).success
        result = run(defs, "geodem_region_job", instance, REGION, SMALL_RUN)
        assert result.success
        auth = [{k.lower(): v for k, v in h.items()}.get("authorization") for h, _ in server.requests]
    # The key was really used, and the names really came from the API.
    assert auth == [f"Bearer {KEY}"] * len(auth) and len(auth) == 2 + 3 + 6
    names = resources["warehouse"].read("cluster_names", "region", REGION)
    assert set(names["source"]) == {"openai"} and len(names) == 9

    # The run's events are on disk in the instance folder (so the search below reads them).
    assert leaks(tmp_path / "dagster_home", result.run_id)
    assert leaks(tmp_path, KEY) == []
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err and KEY not in caplog.text
    events = instance.all_logs(result.run_id)
    assert KEY not in json.dumps([e.user_message for e in events])


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.postgres
def test_database_password_stays_out_of_every_file_and_log(
    tmp_path, instance, hll_database_url, caplog, capfd
):
    userdays = tmp_path / "userdays.csv"
    write_sample_userdays(userdays, 3000, seed=5, n_bad_rows=5)
    url = _with_password(hll_database_url, PASSWORD)  # trust authentication ignores it
    resources = make_resources(tmp_path, userdays=userdays, hll=PostgresHLLResource(database_url=url))
    defs = make_defs(resources)
    result = run(defs, "homeloc_range_job", instance, user_range_partitions.get_partition_keys()[0])
    assert result.success
    mat = instance.get_latest_materialization_event(
        dg.AssetKey("user_country_userdays")
    ).asset_materialization
    assert (
        mat.metadata["backend"].value == "PostgresHLLResource" and mat.metadata["dagster/row_count"].value > 0
    )

    assert leaks(tmp_path / "dagster_home", result.run_id)
    assert leaks(tmp_path, PASSWORD) == []
    out, err = capfd.readouterr()
    assert PASSWORD not in out and PASSWORD not in err and PASSWORD not in caplog.text


@pytest.mark.parametrize(
    "template",
    [
        "postgresql://postgres:{pw}@127.0.0.1:{port}/geodem",
        "postgresql://postgres:{pw}@127.0.0.1:{port}/geodem?connect_timeout=3&sslmode=disable",
        "postgresql://postgres:{pw}@127.0.0.1:{port}/geodem?sslmode=bogus",
        "postgresql://postgres:{pw}@127.0.0.1:notaport/geodem",
        "host=127.0.0.1 port={port} user=postgres password={pw} dbname=geodem",
        "host=127.0.0.1 port={port} password='{pw}' dbname='unterminated",
    ],
)
def test_unreachable_database_error_never_holds_the_password(template):
    url = template.format(pw=PASSWORD, port=free_port())
    rows = pd.DataFrame({"user_guid": ["u"], "country": ["Germany"], "userday_hll": ["\\x118b40"]})
    resource = PostgresHLLResource(database_url=url)
    with pytest.raises(HLLBackendError) as exc:
        resource.aggregate(rows)
    text = "".join(traceback.format_exception(exc.value))
    assert PASSWORD not in text and PASSWORD not in repr(exc.value)
    assert "PostgreSQL" in str(exc.value)
    with pytest.raises(HLLBackendError) as again:
        PostgresHLLBackend(url, connect_timeout=2).aggregate(rows)
    assert PASSWORD not in str(again.value)


def test_s3_credentials_stay_out_of_every_file_object_and_log(
    tmp_path, instance, s3, caplog, capfd, monkeypatch
):
    from geodem_cli.local_s3 import ACCESS_KEY, SECRET_KEY
    from resources.defaults import resources_from_env

    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], seed=1, scale=0.05)
    userdays = tmp_path / "userdays.csv"
    write_sample_userdays(userdays, 800, seed=5, n_bad_rows=5)
    bucket = s3.bucket("secrets")
    s3.upload(census, f"s3://{bucket}/in/census")
    s3.upload(userdays, f"s3://{bucket}/in/userdays.csv")
    for var in ("GEODEM_WAREHOUSE", "GEODEM_HLL_DATABASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GEODEM_CENSUS_DIR", f"s3://{bucket}/in/census")
    monkeypatch.setenv("GEODEM_USERDAYS_CSV", f"s3://{bucket}/in/userdays.csv")
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", f"s3://{bucket}/out")
    monkeypatch.setenv("GEODEM_SCRATCH_DIR", str(tmp_path / "scratch"))
    resources = resources_from_env()
    assert SECRET_KEY not in repr(resources) and ACCESS_KEY not in repr(resources)
    defs = make_defs(resources)
    assert run(defs, "census_release_job", instance).success
    result = run(defs, "homeloc_range_job", instance, user_range_partitions.get_partition_keys()[0])
    assert result.success
    # A failing read (a missing object) words its error without the credentials either.
    monkeypatch.setenv("GEODEM_USERDAYS_CSV", f"s3://{bucket}/in/absent.csv")
    failed = run(make_defs(resources_from_env()), "homeloc_range_job", instance, "1")
    assert not failed.success

    # The run really read and wrote S3: its objects are there, and now on disk for the search.
    got = s3.download(f"s3://{bucket}", tmp_path / "bucket")
    assert any("warehouse" in p.parts for p in got) and any("homeloc" in p.parts for p in got)
    assert leaks(tmp_path / "dagster_home", result.run_id)
    out, err = capfd.readouterr()
    for secret in (SECRET_KEY, ACCESS_KEY):
        assert leaks(tmp_path, secret) == []
        assert secret not in out and secret not in err and secret not in caplog.text
        for run_id in (result.run_id, failed.run_id):
            assert secret not in json.dumps([e.user_message for e in instance.all_logs(run_id)])
