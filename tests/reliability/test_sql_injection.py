"""Hostile user_guid, country and partition values reach PostgreSQL and DuckDB as data, never as SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pytest

from resources.hll import HLL, hash_text
from resources.hll_backends import EmbeddedHLLBackend, PostgresHLLBackend
from resources.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = [
    "x'); DROP TABLE t; --",
    "'; DROP TABLE pg_class; --",
    "\\N",
    "a\tb",
    "back\\slash",
    "two\nlines",
    "cr\rlf\r\n",
    '"',
    '""',
    "',",
    "\\.",
    "\\.\n",
    "$$; DROP TABLE t; $$",
    "E'\\x27'",
    "); COPY t TO PROGRAM 'false'; --",
    "",
    " ",
    "NULL",
    "null",
    "\u2028",
    "\u00e9\u2603",
    "-- comment",
    "/* open",
    "%s",
    "%(x)s",
    "{t}",
    ";",
]


def _rows(rng: np.random.Generator) -> pd.DataFrame:
    """Every hostile value as a user and as a country, several rows each, with real HLLs."""
    guids, countries, hlls = [], [], []
    for i, guid in enumerate(HOSTILE):
        for j in range(3):
            country = HOSTILE[(i + j) % len(HOSTILE)] if j else "Germany"
            days = [f"1:{guid}:{d}" for d in rng.choice(4000, int(rng.integers(1, 30)), replace=False)]
            value = HLL.from_hashes(np.array([hash_text(d) for d in days], dtype=np.int64))
            guids.append(guid)
            countries.append(country)
            hlls.append(value.to_hex() if j % 2 else value.to_bytes())
    return pd.DataFrame({"user_guid": guids, "country": countries, "userday_hll": hlls})


def _tables(url: str) -> tuple[list[tuple], list[tuple]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT schemaname, tablename FROM pg_tables ORDER BY 1, 2")
            tables = cur.fetchall()
            cur.execute("SELECT id, note FROM t ORDER BY id")
            return tables, cur.fetchall()
    finally:
        conn.close()


@pytest.mark.postgres
def test_hostile_guids_are_data_in_postgresql(hll_database_url):
    conn = psycopg2.connect(hll_database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        cur.execute("INSERT INTO t VALUES (1, 'sentinel'), (2, %s)", (HOSTILE[0],))
    conn.close()
    before = _tables(hll_database_url)

    rows = _rows(np.random.default_rng(11))
    per_country, per_user = PostgresHLLBackend(hll_database_url).aggregate(rows)
    expected_country, expected_user = EmbeddedHLLBackend().aggregate(rows)

    assert _tables(hll_database_url) == before
    # Byte-identical guids and countries, and the embedded backend's numbers.
    assert sorted(per_user["user_guid"]) == sorted(HOSTILE)
    pd.testing.assert_frame_equal(per_user, expected_user)
    pd.testing.assert_frame_equal(per_country, expected_country)
    assert (per_user["total_userdays"] > 0).all()


def test_hostile_partition_keys_are_data_in_duckdb(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    wh.replace_table("t", pd.DataFrame({"id": [1, 2]}))
    for i, key in enumerate(HOSTILE):
        wh.replace_partition("parts", "key", key, pd.DataFrame({"i": [i, i]}))
    wh.replace_partition("parts", "key", HOSTILE[0], pd.DataFrame({"i": [99]}))  # a re-run replaces
    parts = wh.read("parts")
    assert len(parts) == 2 * len(HOSTILE) - 1
    for i, key in enumerate(HOSTILE):
        got = wh.read("parts", "key", key)
        assert got["key"].tolist() == [key] * len(got)
        assert got["i"].tolist() == ([99] if i == 0 else [i, i])
    assert wh.read("t")["id"].tolist() == [1, 2]


@pytest.mark.parametrize("name", ["t; DROP TABLE t", 't"', "t --", "t'", "", "a b", "t)"])
def test_hostile_table_and_column_names_are_refused(tmp_path, name):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    wh.replace_table("t", pd.DataFrame({"id": [1]}))
    with pytest.raises(ValueError, match="not a table name"):
        wh.read(name)
    with pytest.raises(ValueError, match="not a table name"):
        wh.replace_partition("t", name, "k", pd.DataFrame({"id": [2]}))
    assert wh.read("t")["id"].tolist() == [1]


SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|WITH|TRUNCATE|SET|GRANT)\b")
EXECUTORS = {"execute", "executemany", "copy_expert", "copy_from", "copy_to", "mogrify", "sql", "query"}
SAFE_CALLS = {
    "_ident",
    "_ident_list",
    "_select",
    "_where",
    "_exclude",
    "_type",
    "Identifier",
}  # each checks every name it is given


def _unsafe_parts(node: ast.AST) -> list[str]:
    """Interpolations of an f-string, %-format or .format() that are not whitelisted identifiers."""
    if isinstance(node, ast.JoinedStr):
        values = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        values = [node.right] if isinstance(node.left, ast.Constant) else [node.left, node.right]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        values = [*node.args, *(k.value for k in node.keywords)]
    else:
        return []
    unsafe = []
    for v in values:
        call = (
            v.func.attr
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
            else (v.func.id if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) else None)
        )
        if call not in SAFE_CALLS and not isinstance(v, ast.Constant):
            unsafe.append(ast.unparse(v))
    return unsafe


def _leading_text(node: ast.AST) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _leading_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _leading_text(node.func.value)
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def sql_built_from_data(source: str) -> list[tuple[int, str]]:
    """(line, expression) of SQL text built by interpolating anything but ``_ident(...)``/``Identifier(...)``:
    formatted strings passed to execute-like calls, or formatted strings that start like SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        candidates = []
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in EXECUTORS
            and node.args
        ):
            candidates.append(node.args[0])
        if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Call)) and SQL_START.match(_leading_text(node)):
            candidates.append(node)
        for c in candidates:
            for part in _unsafe_parts(c):
                found.append((c.lineno, part))
    return sorted(set(found))


def test_the_scanner_flags_data_in_sql_and_passes_identifiers():
    bad = (
        'cur.execute(f"DELETE FROM t WHERE k = \'{key}\'")\nq = "SELECT * FROM t WHERE k = %s" % key\n'
        'con.execute("DROP TABLE {}".format(name))\n'
    )
    good = (
        'con.execute(f"SELECT * FROM {_ident(table)} WHERE {_ident(col)} = ?", [key])\n'
        'log(f"selected {n} rows")\ncur.execute(sql.SQL("SELECT {t}").format(t=sql.Identifier(name)))\n'
    )
    assert [line for line, _ in sql_built_from_data(bad)] == [1, 2, 3]
    assert sql_built_from_data(good) == []


def test_product_sql_interpolates_only_whitelisted_identifiers():
    offenders = []
    for folder in ("resources", "homeloc_assets", "geodem_assets", "geodem_cli", "partitions"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, part in sql_built_from_data(path.read_text()):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {part}")
    assert not offenders, "SQL built from data:\n" + "\n".join(offenders)
