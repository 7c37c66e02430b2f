"""The DuckDB warehouse: tables keyed by partition, replaced (never appended) on re-runs.

Each call opens the DuckDB file for itself and lets go of it before returning, so concurrent runs
(separate processes) take turns at DuckDB's one-writer file lock. ``duckdb.connect(path)`` per
call starts a whole DuckDB each time; instead, each process keeps one in-memory DuckDB per
warehouse file and ATTACHes the file for a call, DETACHing it after. The file lock is still
taken and released per call, as before, and opening costs several times less
(`make bench-warehouse`, benchmarks/RESULTS.md "Warehouse calls": 17.1 ms against 2.6 ms).
"""

from __future__ import annotations

import ctypes
import os
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

_LOCK_WORDS = ("lock", "Conflicting")
_ALIAS = "warehouse"  # the file's name in its process's DuckDB (attached once at a time)
_KEPT = 4  # idle in-memory DuckDBs a process keeps (one per warehouse file it used last)
# DuckDB keeps a little memory (a few hundred bytes) per ATTACH until the DuckDB is closed, so a
# long-lived process (a code server's sensors) renews its DuckDB after this many attachments.
_RENEW_AFTER_ATTACHES = 1000


def _attach_waiting(con: duckdb.DuckDBPyConnection, path: str, read_only: bool, deadline: float) -> None:
    # DuckDB lets one process write a file at a time; concurrent Dagster steps wait their turn.
    delay = 0.05
    while True:
        try:
            if read_only:
                con.execute(f"ATTACH ? AS {_ident(_ALIAS)} (READ_ONLY)", [path])
            else:
                con.execute(f"ATTACH ? AS {_ident(_ALIAS)}", [path])
            return
        except duckdb.IOException as exc:
            if not any(w in str(exc) for w in _LOCK_WORDS) or time.monotonic() > deadline:
                raise
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 1.0)


@dataclass
class _Attachment:
    """This process's in-memory DuckDB for one warehouse file, and the file's attachment to it:
    attached by the first call in flight, detached when the last one ends. Every field but
    `refs` is read and written under `changed`; `refs` under `_attachments_lock`."""

    path: str
    instance: duckdb.DuckDBPyConnection
    changed: threading.Condition = field(default_factory=threading.Condition)
    attached: bool = False
    attaching: bool = False  # one thread is waiting for the file's lock on behalf of all
    read_only: bool = True
    users: int = 0
    threads: dict[int, int] = field(default_factory=dict)  # thread id -> calls in flight
    readers: dict[int, int] = field(default_factory=dict)  # thread id -> read-only calls in flight
    writer: int | None = None  # the thread whose writing calls are in flight
    writes: int = 0
    writers_waiting: int = 0
    attaches: int = 0
    refs: int = 0


# Least recently used first. A DuckDB instance must not cross a fork: see the fork hooks below.
_attachments: dict[str, _Attachment] = {}
_attachments_lock = threading.Lock()
_inherited: list[duckdb.DuckDBPyConnection] = []


def _new_duckdb(path: str) -> duckdb.DuckDBPyConnection:
    # Spill files go where DuckDB puts them for the file itself, not into the working folder.
    return duckdb.connect(":memory:", config={"temp_directory": f"{path}.tmp"})


def _attachment(path: str) -> _Attachment:
    with _attachments_lock:
        found = _attachments.pop(path, None)
        if found is None:
            found = _Attachment(path, _new_duckdb(path))
        _attachments[path] = found
        found.refs += 1
        return found


def _close_idle(kept: int) -> None:
    """Close this process's idle DuckDBs beyond the `kept` most recently used (under _attachments_lock)."""
    idle = [k for k, a in _attachments.items() if a.refs == 0]
    for key in idle[: max(0, len(_attachments) - kept)]:
        _attachments.pop(key).instance.close()


def _release(at: _Attachment) -> None:
    with _attachments_lock:
        at.refs -= 1
        _close_idle(_KEPT)


def _before_fork() -> None:
    # No thread is between _attachments_lock's acquire and release while the process forks, and
    # the idle DuckDBs (threads of their own, which a child would not have) are closed first.
    _attachments_lock.acquire()
    _close_idle(0)


def _after_fork_in_parent() -> None:
    _attachments_lock.release()


def _after_fork_in_child() -> None:
    global _attachments_lock
    _attachments_lock = threading.Lock()
    # DuckDBs a call of another thread was using when the process forked: the child starts
    # afresh, and never destroys these copies (their worker threads exist only in the parent).
    for at in _attachments.values():
        _inherited.append(at.instance)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(at.instance))
    _attachments.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
    )


def _timed_out(path: str, timeout_s: float) -> duckdb.IOException:
    return duckdb.IOException(
        f"Could not use the warehouse {path}: other calls of this process held its lock for more "
        f"than {timeout_s:g} s (lock_timeout_s)"
    )


@contextmanager
def _attached(path: str, read_only: bool, timeout_s: float):
    """A DuckDB cursor whose default database is the file at ``path``, attached for this call.

    Calls in flight at once in one process (threads, or a call made inside another) share one
    attachment, as ``duckdb.connect`` shared one instance. Read-only calls run together and
    alongside a writing one; writing calls of different threads take turns (two transactions of
    one DuckDB writing the same table fail with a write-write conflict; processes already take
    turns at the file lock), and a waiting writer goes before read-only calls that arrive after
    it. Raises RuntimeError for a writing call inside a read-only one of the same thread (which
    ``duckdb.connect`` refused too, as a different configuration of the same file), and
    duckdb.IOException naming the lock when the call could not start within ``timeout_s``
    seconds, whether another process or other calls of this one held the file.
    """
    at = _attachment(path)
    try:
        with _attached_to(at, read_only, timeout_s) as con:
            yield con
    finally:
        _release(at)


@contextmanager
def _attached_to(at: _Attachment, read_only: bool, timeout_s: float):
    me = threading.get_ident()
    deadline = time.monotonic() + timeout_s
    with at.changed:
        if not read_only and at.readers.get(me):
            raise RuntimeError(
                f"the warehouse {at.path} is open read-only by a call in progress in this thread; "
                "a writing call cannot run inside it"
            )
        attach = False
        at.writers_waiting += not read_only
        try:
            while True:
                if not at.attaching:
                    if not at.attached:
                        attach = at.attaching = True
                        break
                    if read_only and (not at.read_only or not at.writers_waiting or at.threads.get(me)):
                        break  # join the readers, or a writer's attachment
                    if not read_only and not at.read_only and at.writer in (None, me):
                        break  # join a writable attachment no other thread is writing through
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _timed_out(at.path, timeout_s)
                at.changed.wait(remaining)
        finally:
            at.writers_waiting -= not read_only
    if attach:
        try:
            _attach_waiting(at.instance, at.path, read_only, deadline)
        except BaseException:
            with at.changed:
                at.attaching = False
                at.changed.notify_all()
            raise
    with at.changed:
        if attach:
            at.attaching, at.attached, at.read_only = False, True, read_only
            at.changed.notify_all()
        at.users += 1
        at.threads[me] = at.threads.get(me, 0) + 1
        if read_only:
            at.readers[me] = at.readers.get(me, 0) + 1
        else:
            at.writer, at.writes = me, at.writes + 1
    try:
        con = at.instance.cursor()
        try:
            con.execute(f"USE {_ident(_ALIAS)}")
            yield con
        finally:
            con.close()
    finally:
        with at.changed:
            _leave(at, me, read_only)


def _leave(at: _Attachment, me: int, read_only: bool) -> None:
    """One call of thread `me` ends (under at.changed); the last one detaches the file."""
    at.users -= 1
    for counts in (at.threads, at.readers) if read_only else (at.threads,):
        counts[me] -= 1
        if not counts[me]:
            del counts[me]
    if not read_only:
        at.writes -= 1
        if not at.writes:
            at.writer = None
    try:
        if at.users == 0:
            at.attached = False
            at.instance.execute(f"DETACH {_ident(_ALIAS)}")
            at.attaches += 1
            if at.attaches >= _RENEW_AFTER_ATTACHES:  # no cursor is open: nobody uses it now
                at.instance.close()
                at.instance, at.attaches = _new_duckdb(at.path), 0
    except duckdb.Error:
        # The file's state in this DuckDB is unknown: the next call starts with a new one.
        with _attachments_lock:
            if _attachments.get(at.path) is at:
                del _attachments[at.path]
        raise
    finally:
        at.changed.notify_all()


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
        """A DuckDB cursor on the warehouse file, which is attached for the call (see the module
        docstring); a missing file is created. Raises duckdb.IOException naming the lock when the
        call cannot start within ``lock_timeout_s`` (another process, or other calls of this one,
        holding the file), and RuntimeError for a writing call inside a read-only one of the same
        thread."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if read_only and not Path(self.path).exists():
            read_only = False
        with _attached(str(Path(self.path).resolve()), read_only, self.lock_timeout_s) as con:
            yield con

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
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() AND table_name = ? AND data_type = '\"NULL\"'",
                [table],
            ).fetchall()
            for (column,) in untyped:
                con.execute(f"ALTER TABLE {_ident(table)} ALTER {_ident(column)} TYPE VARCHAR")
            # Columns added since the table was created (a schema change) are added, NULL in older rows.
            have = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() AND table_name = ?",
                    [table],
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
                    "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() AND table_name = ?",
                    [table],
                ).fetchone()[0]
            )
