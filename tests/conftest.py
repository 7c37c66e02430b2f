"""Shared fixtures: a PostgreSQL server with the hll extension, temporary project settings."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.pgcluster import ThrowawayCluster


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With GEODEM_FORBID_SKIPS=1 (make test, CI) a skipped test counts as failed."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("GEODEM_FORBID_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but GEODEM_FORBID_SKIPS=1 forbids skips: {report.longrepr}"


@pytest.fixture(scope="session")
def pg_server_url():
    """Admin URL of a PostgreSQL server: $GEODEM_TEST_DATABASE_URL, else a throwaway cluster."""
    url = os.environ.get("GEODEM_TEST_DATABASE_URL")
    if url:
        yield url
        return
    cluster = ThrowawayCluster()
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.destroy()


def _with_db(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture
def hll_database_url(pg_server_url):
    """A fresh database with the hll extension, dropped after the test."""
    import psycopg2

    dbname = f"geodem_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_db(pg_server_url, dbname)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS hll")
    conn.close()
    try:
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a loopback port for the session (tests/objectstore/s3.py)."""
    from geodem_cli.local_s3 import local_s3

    with local_s3() as s3:
        yield s3


@pytest.fixture
def s3(s3_server, monkeypatch):
    """The local S3, with AWS_ENDPOINT_URL and its test credentials in the environment."""
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    return s3_server
