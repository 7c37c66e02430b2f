"""The warehouse as a Parquet record: one object per table partition, in a folder or an object store.

Runs on different machines share no DuckDB file (one process may write a DuckDB file at a
time); each writes its own partitions' objects instead:

    <path>/<table>/<key_column>=<key>.parquet    one partition, written whole, replaced on re-run
    <path>/<table>/table.parquet                 a table written whole (the census release)

Reads are DuckDB queries over ``read_parquet`` of the current objects (``union_by_name``, so a
column added since older partitions were written reads as NULL there), through fsspec when
``path`` is a URL. A run that dies mid-write leaves the previous object: writes are one PUT (or a
rename on a local disk). `Warehouse` (one DuckDB file) stays the single-machine default; this
record is chosen by ``GEODEM_WAREHOUSE=parquet``, and is the default when ``GEODEM_OUTPUT_DIR``
is a URL (resources/settings.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, unquote

import duckdb
import pandas as pd
from pydantic import Field

from common.locations import (
    filesystem,
    is_url,
    join,
    list_files,
    local_path,
    put_file,
    remove,
    scratch_dir,
)
from resources.warehouse import (
    Warehouse,
    _exclude,
    _ident,
    _ident_list,
    _select,
    _typed,
    _where,
    _where_params,
)

WHOLE = "table.parquet"


def _key_of(name: str) -> tuple[str, str] | None:
    """(key column, key) of a partition object's name, None for a whole table's object."""
    if name == WHOLE or "=" not in name:
        return None
    column, key = name[: -len(".parquet")].split("=", 1)
    return column, unquote(key)


class ParquetWarehouse(Warehouse):
    """The Warehouse interface over Parquet objects under ``path`` (a folder or a URL).

    ``scratch`` is a local folder for files on their way to an object store (default
    ``$TMPDIR/geodem``). Every method keeps the meaning it has in `Warehouse`; a missing table
    raises duckdb.CatalogException naming the table and where it was looked for.
    """

    scratch: str = Field(
        default="", description="Local folder objects are staged in before an upload (empty: $TMPDIR/geodem)."
    )

    # ---- where things are ------------------------------------------------------------------

    def _table_dir(self, table: str) -> str:
        _ident(table)  # a checked name, as in SQL: it becomes a folder
        return join(self.path, table)

    def _partition(self, table: str, key_column: str, key: str) -> str:
        _ident(key_column)
        return join(self._table_dir(table), f"{key_column}={quote(str(key), safe='')}.parquet")

    def _names(self, table: str) -> list[str]:
        return list_files(self._table_dir(table), ".parquet")

    def _sources(self, table: str, only: tuple[str, list[str]] | None = None) -> list[str]:
        """The objects holding ``table``'s rows, those of the partitions in ``only`` when its
        column is the partition key (the query filters rows by ``only`` in any case)."""
        names = self._names(table)
        if not names:
            raise duckdb.CatalogException(
                f"Table with name {table} does not exist (no Parquet objects under {self._table_dir(table)})"
            )
        if only is not None:
            wanted = {str(v) for v in only[1]}
            kept = []
            for name in names:
                key = _key_of(name)
                if key is None or key[0] != only[0] or key[1] in wanted:
                    kept.append(name)
            names = kept or names[:1]  # one object keeps the schema when no partition matches
        return [join(self._table_dir(table), n) for n in names]

    @contextmanager
    def _duckdb(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB that reads ``path`` (through fsspec when it is a URL)."""
        con = duckdb.connect()
        try:
            if is_url(self.path):
                con.register_filesystem(filesystem(self.path)[0])
            yield con
        finally:
            con.close()

    def _write(self, con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, target: str) -> None:
        """Write a relation as one Parquet object at ``target``, replacing it whole."""
        if is_url(target):
            staged = scratch_dir(self.scratch or None) / f"{uuid.uuid4().hex}.parquet"
            try:
                relation.write_parquet(str(staged))
                put_file(staged, target)
            finally:
                staged.unlink(missing_ok=True)
            return
        path = local_path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            relation.write_parquet(str(staged))
            os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)

    # ---- the Warehouse interface --------------------------------------------------------------

    def location_metadata(self, table: str) -> dict[str, str]:
        """Where `table` is: the URI of its folder of Parquet objects (`dagster/uri`)."""
        folder = self._table_dir(table)
        return {"uri": folder if is_url(folder) else local_path(folder).resolve().as_uri()}

    @contextmanager
    def connect(self, read_only: bool = False):
        """An in-memory DuckDB connection that can read the record's objects (read_parquet)."""
        with self._duckdb() as con:
            yield con

    def replace_table(self, table: str, df: pd.DataFrame) -> None:
        """Replace a whole table with df (one object; partition objects of the table removed)."""
        with self._duckdb() as con:
            con.register("_incoming", df)
            self._write(con, con.sql("SELECT * FROM _incoming"), join(self._table_dir(table), WHOLE))
        for name in self._names(table):
            if name != WHOLE:
                remove(join(self._table_dir(table), name))

    def replace_partition(self, table: str, key_column: str, key: str, df: pd.DataFrame) -> None:
        """Replace the one object of a partition with df (the key column added)."""
        df = _typed(df.assign(**{key_column: key}))
        with self._duckdb() as con:
            con.register("_incoming", df)
            self._write(con, con.sql("SELECT * FROM _incoming"), self._partition(table, key_column, key))

    def read(
        self,
        table: str,
        key_column: str | None = None,
        key: str | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """A whole table, or one partition's rows (only its object is read); only `columns` if given."""
        only = None if key_column is None else (key_column, [str(key)])
        with self._duckdb() as con:
            return con.execute(
                f"SELECT {_select(columns)} FROM read_parquet(?, union_by_name = true){_where(only)}",
                [self._sources(table, only), *_where_params(only)],
            ).df()

    def read_matching(
        self, table: str, column: str, values, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Rows of `table` whose `column` is one of `values`, sorted by `column` (a semi-join in DuckDB)."""
        keys = pd.DataFrame({"key": pd.Series(pd.unique(pd.Series(values)), dtype=object)})
        with self._duckdb() as con:
            con.register("_keys", keys)
            return con.execute(
                f"SELECT {_select(columns, 't.')} FROM read_parquet(?, union_by_name = true) AS t "
                f"SEMI JOIN _keys AS k ON t.{_ident(column)} = k.key ORDER BY t.{_ident(column)}",
                [self._sources(table)],
            ).df()

    def counts(
        self, table: str, columns: list[str], *, only: tuple[str, list[str]] | None = None
    ) -> pd.DataFrame:
        """Rows of `table` counted by `columns` (NULLs kept as a group): columns + n; ``only``
        as in `Warehouse.counts` (the other partitions' objects are not read)."""
        with self._duckdb() as con:
            return con.execute(
                f"SELECT {_ident_list(columns)}, count(*) AS n FROM read_parquet(?, union_by_name = true)"
                f"{_where(only)} GROUP BY {_ident_list(columns)}",
                [self._sources(table, only), *_where_params(only)],
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
        """Write a table to one Parquet file or object at ``path`` (a path or URL), sorted, without
        the `exclude` column; streamed by DuckDB, replaced whole. Returns rows written."""
        params = [self._sources(table, only), *_where_params(only)]
        with self._duckdb() as con:
            rows = con.sql(
                f"SELECT {_exclude(exclude)} FROM read_parquet(?, union_by_name = true){_where(only)} "
                f"ORDER BY {_ident(order_by)}",
                params=params,
            )
            self._write(con, rows, str(path))
            return int(
                con.execute(
                    f"SELECT count(*) FROM read_parquet(?, union_by_name = true){_where(only)}", params
                ).fetchone()[0]
            )

    def distinct(self, table: str, column: str) -> list[str]:
        """Sorted distinct non-NULL values of `column`; for the partition key, the partitions
        whose objects exist (an empty partition included). [] when the table does not exist."""
        names = self._names(table)
        if not names:
            return []
        keys = [_key_of(n) for n in names]
        if all(k is not None and k[0] == column for k in keys):
            return sorted(k[1] for k in keys if k is not None)
        with self._duckdb() as con:
            rows = con.execute(
                f"SELECT DISTINCT {_ident(column)} FROM read_parquet(?, union_by_name = true) "
                f"WHERE {_ident(column)} IS NOT NULL ORDER BY 1",
                [self._sources(table)],
            ).fetchall()
        return [str(r[0]) for r in rows]

    def delete_partitions(self, table: str, key_column: str, keys: list[str]) -> int:
        """Remove the objects of the partitions `keys`; returns the rows they held."""
        targets = [self._partition(table, key_column, k) for k in keys]
        present = {join(self._table_dir(table), n) for n in self._names(table)}
        targets = [t for t in targets if t in present]
        if not targets:
            return 0
        with self._duckdb() as con:
            n = con.execute(
                "SELECT count(*) FROM read_parquet(?, union_by_name = true)", [targets]
            ).fetchone()[0]
        for target in targets:
            remove(target)
        return int(n)

    def has_table(self, table: str) -> bool:
        return bool(self._names(table))


def local_warehouse_from_record(record: ParquetWarehouse, target: Path) -> list[str]:
    """Build a DuckDB warehouse file at ``target`` from the Parquet record (every table, every
    partition), replacing the file; returns the tables copied. A single machine can then query
    what many wrote."""
    tables = sorted(
        {n for n in _folders(record.path)} if is_url(record.path) else _local_folders(record.path)
    )
    target = Path(target)
    staged = target.with_name(f".{target.name}.tmp")
    staged.unlink(missing_ok=True)
    copied = []
    with record._duckdb() as con:
        con.execute("ATTACH ? AS out", [str(staged)])
        for table in tables:
            if not record.has_table(table):
                continue
            con.execute(
                f"CREATE TABLE out.{_ident(table)} AS SELECT * FROM read_parquet(?, union_by_name = true)",
                [record._sources(table)],
            )
            copied.append(table)
        con.execute("DETACH out")
    os.replace(staged, target)
    return copied


def _local_folders(root: str) -> list[str]:
    folder = local_path(root)
    return [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []


def _folders(url: str) -> list[str]:
    fs, path = filesystem(url)
    fs.invalidate_cache(path)
    try:
        entries = fs.ls(path, detail=True)
    except FileNotFoundError:
        return []
    return [e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == "directory"]
