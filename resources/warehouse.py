"""The DuckDB warehouse: tables keyed by partition, replaced (never appended) on re-runs."""

from __future__ import annotations

import random
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

_LOCK_WORDS = ("lock", "Conflicting")


def _connect(path: str, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    # DuckDB lets one process write a file at a time; concurrent Dagster steps wait their turn.
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if not any(w in str(exc) for w in _LOCK_WORDS) or time.monotonic() > deadline:
                raise
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 1.0)


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {name!r}")
    return f'"{name}"'


def _ident_list(names: list[str]) -> str:
    """Several checked identifiers, comma-separated."""
    return ", ".join(_ident(n) for n in names)


def _where(only: tuple[str, list[str]] | None) -> str:
    """A WHERE clause keeping rows whose (checked) column is one of the values given as its parameter."""
    return "" if only is None else f" WHERE list_contains(?, {_ident(only[0])})"


def _where_params(only: tuple[str, list[str]] | None) -> list:
    """The parameter of `_where(only)`: the values, as text."""
    return [] if only is None else [[str(v) for v in only[1]]]


def _select(columns: list[str] | None, prefix: str = "") -> str:
    """The select list: checked column names (each after `prefix`, a checked alias), or every column."""
    return ", ".join(f"{prefix}{_ident(c)}" for c in columns) if columns else f"{prefix}*"


def _exclude(column: str | None) -> str:
    """Every column but one checked name."""
    return f"* EXCLUDE ({_ident(column)})" if column else "*"


def _type(kind: str) -> str:
    """A DuckDB column type as DESCRIBE prints it, checked before it goes into DDL."""
    if kind == '"NULL"':
        return "VARCHAR"
    if (
        not kind.replace("_", "")
        .replace("(", "")
        .replace(")", "")
        .replace(",", "")
        .replace(" ", "")
        .isalnum()
    ):
        raise ValueError(f"not a column type: {kind!r}")
    return kind


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Columns with no value to infer a type from are text, so no partition fixes a NULL type."""
    empty = [c for c in df.columns if df[c].dtype == object and df[c].isna().all()]
    return df.astype({c: "string" for c in empty}) if empty else df


class Warehouse(dg.ConfigurableResource):
    """DuckDB file holding the census release and every partition's tables."""

    path: str = Field(
        description="The DuckDB file (or, for the Parquet record, the folder or URL) holding the tables; GEODEM_WAREHOUSE."
    )
    lock_timeout_s: float = Field(
        default=600.0, description="Seconds to wait for another process's write lock on the DuckDB file."
    )

    @contextmanager
    def connect(self, read_only: bool = False):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if read_only and not Path(self.path).exists():
            read_only = False
        con = _connect(self.path, read_only, self.lock_timeout_s)
        try:
            yield con
        finally:
            con.close()

    def location_metadata(self, table: str) -> dict[str, str]:
        """Where `table` is, as keyword arguments of `resources.metadata.written_table_metadata`:
        its fully qualified DuckDB name `<database>.main.<table>` (the database is the file's
        stem) for Dagster's `dagster/table_name`."""
        return {"table_name": f"{Path(self.path).stem}.main.{table}"}

    def replace_table(self, table: str, df: pd.DataFrame) -> None:
        """Replace a whole table with df."""
        with self.connect() as con:
            con.register("_incoming", df)
            con.execute(f"CREATE OR REPLACE TABLE {_ident(table)} AS SELECT * FROM _incoming")

    def replace_partition(self, table: str, key_column: str, key: str, df: pd.DataFrame) -> None:
        """Delete the rows of one partition and insert df, in one transaction."""
        df = _typed(df.assign(**{key_column: key}))
        with self.connect() as con:
            con.register("_incoming", df)
            con.execute("BEGIN")
            con.execute(f"CREATE TABLE IF NOT EXISTS {_ident(table)} AS SELECT * FROM _incoming LIMIT 0")
            # A table first written by an empty or all-missing partition may hold untyped columns.
            untyped = con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND data_type = '\"NULL\"'",
                [table],
            ).fetchall()
            for (column,) in untyped:
                con.execute(f"ALTER TABLE {_ident(table)} ALTER {_ident(column)} TYPE VARCHAR")
            # Columns added since the table was created (a schema change) are added, NULL in older rows.
            have = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
                ).fetchall()
            }
            for column, kind in con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE _incoming)"
            ).fetchall():
                if column not in have:
                    con.execute(f"ALTER TABLE {_ident(table)} ADD COLUMN {_ident(column)} {_type(kind)}")
            con.execute(f"DELETE FROM {_ident(table)} WHERE {_ident(key_column)} = ?", [key])
            con.execute(f"INSERT INTO {_ident(table)} BY NAME SELECT * FROM _incoming")
            con.execute("COMMIT")

    def read(
        self,
        table: str,
        key_column: str | None = None,
        key: str | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """A whole table, or one partition's rows; only `columns` if given (a large blob column
        such as `geometry_wkb` is then never read)."""
        with self.connect(read_only=True) as con:
            if key_column is None:
                return con.execute(f"SELECT {_select(columns)} FROM {_ident(table)}").df()
            return con.execute(
                f"SELECT {_select(columns)} FROM {_ident(table)} WHERE {_ident(key_column)} = ?", [key]
            ).df()

    def read_matching(
        self, table: str, column: str, values, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Rows of `table` whose `column` is one of `values` (a semi-join inside DuckDB, so the
        other rows are never read into Python), sorted by `column`; only `columns` if given."""
        keys = pd.DataFrame({"key": pd.Series(pd.unique(pd.Series(values)), dtype=object)})
        with self.connect(read_only=True) as con:
            con.register("_keys", keys)
            return con.execute(
                f"SELECT {_select(columns, 't.')} FROM {_ident(table)} AS t SEMI JOIN _keys AS k ON t.{_ident(column)} = k.key "
                f"ORDER BY t.{_ident(column)}"
            ).df()

    def counts(
        self, table: str, columns: list[str], *, only: tuple[str, list[str]] | None = None
    ) -> pd.DataFrame:
        """Rows of `table` counted by `columns` (NULLs kept as a group): columns + n.

        ``only=(column, values)`` counts only the rows whose `column` is one of `values`
        (e.g. the current partition keys)."""
        with self.connect(read_only=True) as con:
            return con.execute(
                f"SELECT {_ident_list(columns)}, count(*) AS n FROM {_ident(table)}{_where(only)} "
                f"GROUP BY {_ident_list(columns)}",
                _where_params(only),
            ).df()

    def export_parquet(
        self,
        table: str,
        path,
        *,
        order_by: str,
        exclude: str | None = None,
        only: tuple[str, list[str]] | None = None,
    ) -> int:
        """Write a table to a Parquet file, sorted, without the `exclude` column; DuckDB streams
        it, so a table larger than memory can be written. ``only=(column, values)`` keeps the rows
        whose `column` is one of `values`. Replaces `path` atomically; returns rows written."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        params = _where_params(only)
        with self.connect(read_only=True) as con:
            rows = con.sql(
                f"SELECT {_exclude(exclude)} FROM {_ident(table)}{_where(only)} ORDER BY {_ident(order_by)}",
                params=params,
            )
            rows.write_parquet(str(partial))
            written = con.execute(f"SELECT count(*) FROM {_ident(table)}{_where(only)}", params).fetchone()[0]
        partial.replace(path)
        return int(written)

    def distinct(self, table: str, column: str) -> list[str]:
        """Sorted distinct non-NULL values of `column` (e.g. the partition keys a table holds);
        [] when the table does not exist."""
        if not self.has_table(table):
            return []
        with self.connect(read_only=True) as con:
            rows = con.execute(
                f"SELECT DISTINCT {_ident(column)} FROM {_ident(table)} WHERE {_ident(column)} IS NOT NULL "
                f"ORDER BY 1"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def delete_partitions(self, table: str, key_column: str, keys: list[str]) -> int:
        """Delete the rows of the partitions `keys` in one transaction; returns rows deleted."""
        if not keys or not self.has_table(table):
            return 0
        with self.connect() as con:
            con.execute("BEGIN")
            n = con.execute(
                f"SELECT count(*) FROM {_ident(table)} WHERE list_contains(?, {_ident(key_column)})",
                [list(keys)],
            ).fetchone()[0]
            con.execute(
                f"DELETE FROM {_ident(table)} WHERE list_contains(?, {_ident(key_column)})", [list(keys)]
            )
            con.execute("COMMIT")
        return int(n)

    def has_table(self, table: str) -> bool:
        with self.connect(read_only=True) as con:
            return bool(
                con.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
                ).fetchone()[0]
            )
