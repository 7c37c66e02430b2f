"""Fixtures of the HLL tests: a database without the hll extension."""

from __future__ import annotations

import uuid

import psycopg2
import pytest


@pytest.fixture
def database_without_hll_url(pg_server_url):
    """A fresh database where `CREATE EXTENSION hll` was not run; dropped after the test."""
    name = f"geodem_nohll_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"{pg_server_url.rpartition('/')[0]}/{name}"
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
