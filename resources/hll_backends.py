"""HLL user-day aggregation: hll_cardinality(hll_union_agg(...)) per (user, country) and per user.

Two interchangeable backends give identical numbers: EmbeddedHLLBackend (NumPy, in process)
and PostgresHLLBackend (PostgreSQL with the `hll` extension, one COPY and one GROUP BY).
"""

from __future__ import annotations

import io
import re
from typing import Protocol

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.errors
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from resources.hll import HLLError, HLLFormatError, HLLParameterMismatch
from resources.hll.column import decode_column
from resources.hll.column_input import RowError, column_buffer
from resources.hll.grouped import union_cardinalities

ROW_COLUMNS = ("user_guid", "country", "userday_hll")
PER_COUNTRY_COLUMNS = ["user_guid", "country", "userdays", "n_points"]
PER_USER_COLUMNS = ["user_guid", "total_userdays", "n_points"]


class HLLBackend(Protocol):
    def aggregate(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """rows: user_guid (str), country (str), userday_hll (bytes or '\\x…' str; None = NULL).

        Returns (per_country, per_user):
          per_country: user_guid, country, userdays (float64, hll_cardinality of the
            hll_union_agg of the user's rows in that country; NaN where SQL gives NULL), n_points (int64)
          per_user: user_guid, total_userdays (float64, cardinality of the union of all the
            user's rows, not a sum), n_points (int64)
        both sorted by user_guid (then country).
        """
        ...


class HLLBackendError(RuntimeError):
    """The database could not be reached or failed; the message never holds the password."""


class HLLExtensionMissing(HLLBackendError):
    """The database has no `hll` extension."""


class HLLInputError(ValueError):
    """PostgreSQL refused a value of the input rows; the message names its column and row.

    A ValueError like the input checks' own errors: no retry can change the data.
    """


def check_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The three input columns, after checking they exist and user_guid/country are non-null str."""
    missing = [c for c in ROW_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(
            f"rows lack column(s) {missing}; expected {list(ROW_COLUMNS)}, got {list(rows.columns)}"
        )
    rows = rows.loc[:, list(ROW_COLUMNS)]
    for name in ("user_guid", "country"):
        values = rows[name]
        if _text_dtype(values.dtype):
            bad = values.isna().to_numpy()
        elif pd.api.types.infer_dtype(values, skipna=False) == "string":
            continue
        else:
            bad = np.fromiter((not isinstance(v, str) for v in values), dtype=bool, count=len(values))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"rows[{name!r}] must be non-null strings; row {_label(rows.index[i])!r} holds {values.iloc[i]!r}"
            )
    for name in ("user_guid", "country"):
        _refuse_nul(rows, name)
    return rows


def _text_dtype(dtype: object) -> bool:
    """A dtype that holds only strings and missing values: "str", "string" (either storage), or Arrow's string types."""
    if isinstance(dtype, pd.StringDtype):
        return True
    return isinstance(dtype, pd.ArrowDtype) and (
        pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    )


def _first_nul(values: pd.Series) -> int | None:
    """Position of the first string holding a NUL character, or None (values are all str)."""
    if _text_dtype(values.dtype):
        hits = values.str.contains("\x00", regex=False).to_numpy(dtype=bool, na_value=False)
    else:
        texts = values.to_numpy(dtype=object)
        if "\x00" not in "".join(texts):  # one pass in C; the per-value scan only when needed
            return None
        hits = np.fromiter(("\x00" in t for t in texts), dtype=bool, count=len(texts))
    return int(np.argmax(hits)) if hits.any() else None


def _refuse_nul(rows: pd.DataFrame, name: str) -> None:
    """PostgreSQL text cannot hold NUL: refuse it here, in both backends, so they agree."""
    i = _first_nul(rows[name])
    if i is not None:
        raise ValueError(
            f"rows[{name!r}] must not contain NUL characters (PostgreSQL text cannot hold them); "
            f"row {_label(rows.index[i])!r} holds {rows[name].iloc[i]!r}"
        )


def _results(user, country, userdays, n_points, total_user, total_userdays, total_points):
    """The two result frames in their fixed column order, dtypes and sort order."""
    per_country = pd.DataFrame(
        {
            "user_guid": pd.Series(user, dtype="str"),
            "country": pd.Series(country, dtype="str"),
            "userdays": np.asarray(userdays, dtype=np.float64),
            "n_points": np.asarray(n_points, dtype=np.int64),
        }
    )
    per_user = pd.DataFrame(
        {
            "user_guid": pd.Series(total_user, dtype="str"),
            "total_userdays": np.asarray(total_userdays, dtype=np.float64),
            "n_points": np.asarray(total_points, dtype=np.int64),
        }
    )
    per_country = per_country.sort_values(["user_guid", "country"], kind="stable", ignore_index=True)
    per_user = per_user.sort_values("user_guid", kind="stable", ignore_index=True)
    return per_country[PER_COUNTRY_COLUMNS], per_user[PER_USER_COLUMNS]


def _label(label):
    """An index label as a plain Python value (numpy scalars print as np.int64(3) otherwise)."""
    return label.item() if isinstance(label, np.generic) else label


class _RowLabels:
    """Row labels for error messages, built only for the row that failed."""

    def __init__(self, rows: pd.DataFrame):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> str:
        return f"{_label(self.rows.index[i])!r} (user_guid={self.rows['user_guid'].iloc[i]!r})"

    def row_at_copy_line(self, line: int) -> int | None:
        """The 0-based row that COPY's 1-based ``line`` falls in, or None past the end.

        COPY counts physical lines, and a quoted user_guid or country holding newlines spans
        several (the hll text never does).
        """
        spans = 1 + sum(
            self.rows[name].astype(object).str.count("\n").to_numpy(dtype=np.int64)
            for name in ("user_guid", "country")
        )
        ends = np.cumsum(spans)
        row = int(np.searchsorted(ends, line))
        return row if line >= 1 and row < len(ends) else None

    def column_holding_nul(self, i: int) -> str | None:
        """The first text column whose value in row ``i`` holds a NUL character."""
        for name in ("user_guid", "country"):
            value = self.rows[name].iloc[i]
            if isinstance(value, str) and "\x00" in value:
                return name
        return None


class EmbeddedHLLBackend:
    """Unions and cardinalities in NumPy, bit-identical to PostgreSQL's."""

    def aggregate(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows = check_rows(rows)
        # Factorised as they come: Arrow-backed strings stay in Arrow, no Python object per row.
        users, user_names = pd.factorize(rows["user_guid"])
        countries, country_names = pd.factorize(rows["country"])
        pairs, pair_keys = pd.factorize(users.astype(np.int64) * max(len(country_names), 1) + countries)
        pair_user = pair_keys // max(len(country_names), 1)
        pair_country = pair_keys % max(len(country_names), 1)

        col = decode_column(rows["userday_hll"].to_numpy(dtype=object), _RowLabels(rows), "userday_hll")
        userdays = union_cardinalities(
            col,
            pairs,
            len(pair_keys),
            lambda g: f"user_guid={user_names[pair_user[g]]!r}, country={country_names[pair_country[g]]!r}",
        )
        totals = union_cardinalities(col, users, len(user_names), lambda g: f"user_guid={user_names[g]!r}")
        return _results(
            user_names[pair_user],
            country_names[pair_country],
            userdays,
            np.bincount(pairs, minlength=len(pair_keys)),
            user_names,
            totals,
            np.bincount(users, minlength=len(user_names)),
        )


# ---- PostgreSQL ----------------------------------------------------------------------------

_TABLE = sql.Identifier("geodem_hll_rows")
# PostgreSQL's CONTEXT of a COPY error: the line always, the column when a value's input
# function failed (not for an encoding error such as a NUL byte, found in the row instead).
_COPY_CONTEXT = re.compile(r"COPY \S+, line (\d+)(?:, column (\w+))?")


_COPY_BATCH_ROWS = 20_000  # rows encoded at a time: a few MB of COPY text
# ... and at most this many bytes of hll values (dense values are kilobytes each; the encoder
# holds about 15 bytes per value byte while it works)
_COPY_BATCH_BYTES = 2 << 20
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_PREFIX = np.frombuffer(b"\\x", dtype=np.uint8)


class _CopyPayload:
    """The COPY input (CSV: user_guid, country, '\\x' + hex, or nothing for NULL) as a stream of
    bytes, encoded a batch of rows at a time, so the whole payload never sits in memory.

    The hll values are validated up front (column_buffer, the embedded backend's check), so a bad
    value is reported naming its row before anything is sent. Each batch is written by Arrow's
    CSV writer (every string quoted, quotes doubled, as PostgreSQL's CSV format reads them) from
    Arrow columns: the hex text of a batch is made in NumPy, with no Python object per row.
    """

    def __init__(self, rows: pd.DataFrame, labels: _RowLabels, batch_rows: int | None = None):
        try:
            buffer, offsets, lengths, is_null = column_buffer(
                list(rows["userday_hll"].to_numpy(dtype=object))
            )
        except RowError as e:
            raise HLLFormatError(f"userday_hll at row {labels[e.row]}: {e.error}") from None
        self._bytes = np.frombuffer(buffer, dtype=np.uint8)
        self._offsets, self._lengths, self._null = offsets, lengths, np.asarray(is_null, dtype=bool)
        self._users = pa.array(rows["user_guid"], type=pa.large_string(), from_pandas=True)
        self._countries = pa.array(rows["country"], type=pa.large_string(), from_pandas=True)
        self._batch = batch_rows or _COPY_BATCH_ROWS
        # Bytes of hll values up to and including each row, to bound a batch by bytes as well.
        self._bytes_through = np.cumsum(np.where(self._null, 0, lengths))
        self._next = 0
        self._chunk = b""
        self._pos = 0

    def _hex_texts(self, start: int, stop: int) -> pa.Array:
        """'\\x' + lower-case hex of rows [start, stop)'s hll bytes, null where the value is."""
        null = self._null[start:stop]
        # A NULL row's offset and length mean nothing; the others' values may lie apart.
        offsets = self._offsets[start:stop][~null]
        sizes = self._lengths[start:stop][~null]
        lengths = np.where(null, 0, self._lengths[start:stop])
        packed = np.cumsum(sizes) - sizes  # where each value starts once the batch's are joined
        raw = self._bytes[np.repeat(offsets - packed, sizes) + np.arange(int(sizes.sum()))]
        digits = np.empty(2 * raw.size, dtype=np.uint8)
        digits[0::2] = _HEX_DIGITS[raw >> 4]
        digits[1::2] = _HEX_DIGITS[raw & 15]
        starts = 2 * packed
        text = np.insert(digits, np.repeat(starts, 2), np.tile(_HEX_PREFIX, starts.size))
        text_lengths = np.where(null, 0, 2 + 2 * lengths)
        ends = np.concatenate([[0], np.cumsum(text_lengths)]).astype(np.int64)
        validity = pa.py_buffer(np.packbits(~null, bitorder="little")) if null.any() else None
        return pa.LargeStringArray.from_buffers(
            stop - start, pa.py_buffer(ends), pa.py_buffer(text), validity
        )

    def _encode(self, start: int, stop: int) -> bytes:
        table = pa.table(
            {
                "user_guid": self._users[start:stop],
                "country": self._countries[start:stop],
                "userday_hll": self._hex_texts(start, stop),
            }
        )
        out = pa.BufferOutputStream()
        pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
        return out.getvalue().to_pybytes()

    def read(self, size: int = -1) -> bytes:
        """Up to size bytes (all that is left for size < 0); b"" at the end."""
        parts = []
        wanted = size if size >= 0 else float("inf")
        while wanted > 0:
            if self._pos >= len(self._chunk):
                if self._next >= len(self._users):
                    break
                before = int(self._bytes_through[self._next - 1]) if self._next else 0
                within = np.searchsorted(self._bytes_through, before + _COPY_BATCH_BYTES, side="right")
                stop = min(self._next + self._batch, max(int(within), self._next + 1), len(self._users))
                self._chunk, self._pos, self._next = self._encode(self._next, stop), 0, stop
            piece = self._chunk[self._pos : self._pos + int(min(wanted, len(self._chunk) - self._pos))]
            self._pos += len(piece)
            wanted -= len(piece)
            parts.append(piece)
        return b"".join(parts)


class PostgresHLLBackend:
    """COPY the rows into a temporary table, then one GROUP BY GROUPING SETS statement."""

    def __init__(self, database_url: str, connect_timeout: int = 10):
        self._url = database_url
        self._connect_timeout = connect_timeout

    def _secrets(self) -> list[str]:
        found = []
        try:
            password = parse_dsn(self._url).get("password")
            if password:
                found.append(password)
        except psycopg2.ProgrammingError:
            pass
        # A URL libpq cannot parse still carries its password between "user:" and "@".
        raw = re.search(r"://[^:/@]*:([^@]*)@", self._url)
        if raw and raw.group(1):
            found.append(raw.group(1))
        return found

    def _scrub(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def describe(self) -> str:
        """host:port/dbname of the URL, without user or password."""
        try:
            d = parse_dsn(self._url)
        except psycopg2.ProgrammingError:
            return "<unparsable database URL>"
        return f"{d.get('host', 'localhost')}:{d.get('port', '5432')}/{d.get('dbname', '?')}"

    def aggregate(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows = check_rows(rows)
        labels = _RowLabels(rows)
        payload = _CopyPayload(rows, labels)

        try:
            conn = psycopg2.connect(self._url, connect_timeout=self._connect_timeout)
        except psycopg2.Error as e:
            reason = self._scrub(str(e)).strip()
            raise HLLBackendError(f"cannot connect to PostgreSQL at {self.describe()}: {reason}") from None
        try:
            with conn.cursor() as cur:
                out = self._run(cur, payload)
            conn.rollback()  # the temporary table goes with the transaction
        except psycopg2.Error as e:
            raise self._translate(e, labels) from None
        finally:
            conn.close()
        return self._parse(out)

    def _run(self, cur, payload: _CopyPayload) -> io.StringIO:
        cur.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'hll'"
        )
        found = cur.fetchone()
        if found is None:
            raise HLLExtensionMissing(
                f"the database {self.describe()} has no 'hll' extension: run CREATE EXTENSION hll; in that "
                "database (the server needs the postgresql-hll package, e.g. postgresql-15-hll)"
            )
        schema = sql.Identifier(found[0])
        # hll_union_agg keeps a 128 KiB state per group; hashing many groups would exhaust memory.
        cur.execute("SET LOCAL hll.force_groupagg = on")
        cur.execute(
            sql.SQL(
                # Byte order ("C") for the grouping sort: no locale comparisons, and the result is re-sorted anyway.
                'CREATE TEMPORARY TABLE {t} (user_guid text COLLATE "C" NOT NULL, country text COLLATE "C" NOT NULL,'
                " userday_hll {s}.hll)"
                " ON COMMIT DROP"
            ).format(t=_TABLE, s=schema)
        )
        copy_in = sql.SQL(
            "COPY {t} (user_guid, country, userday_hll) FROM STDIN WITH (FORMAT csv, FORCE_NULL (userday_hll))"
        ).format(t=_TABLE)
        cur.copy_expert(copy_in.as_string(cur), payload, size=1 << 20)
        query = sql.SQL(
            "SELECT user_guid, country, GROUPING(country) AS is_total,"
            " {s}.hll_cardinality({s}.hll_union_agg(userday_hll)) AS userdays, count(*) AS n_points"
            " FROM {t} GROUP BY GROUPING SETS ((user_guid, country), (user_guid))"
        ).format(s=schema, t=_TABLE)
        out = io.StringIO()
        cur.copy_expert(sql.SQL("COPY ({q}) TO STDOUT WITH (FORMAT csv)").format(q=query).as_string(cur), out)
        out.seek(0)
        return out

    def _translate(self, e: psycopg2.Error, labels: _RowLabels) -> Exception:
        message = self._scrub((e.pgerror or str(e)).strip())
        first = message.splitlines()[0] if message else type(e).__name__
        reason = first.removeprefix("ERROR:").strip()
        if "does not match" in first:
            return HLLParameterMismatch(f"{reason} (in PostgreSQL at {self.describe()})")
        at = _COPY_CONTEXT.search(message)
        if at and isinstance(e, (psycopg2.DataError, psycopg2.errors.InvalidParameterValue)):
            return self._row_error(int(at.group(1)), at.group(2), reason, labels)
        if "number of registers too small" in first:
            return HLLError(reason)
        return HLLBackendError(f"PostgreSQL at {self.describe()} failed: {message}")

    @staticmethod
    def _row_error(line: int, column: str | None, reason: str, labels: _RowLabels) -> Exception:
        """The error for a value COPY refused on its 1-based ``line``: names the row, and
        ``column`` when PostgreSQL named it, else the text column that holds a NUL."""
        row = labels.row_at_copy_line(line)
        if row is None:
            return HLLInputError(
                f"line {line} of the rows copied to PostgreSQL (past the {len(labels)} rows sent): {reason}"
            )
        column = column or labels.column_holding_nul(row)
        if column == "userday_hll":
            return HLLFormatError(f"userday_hll at row {labels[row]}: {reason}")
        where = f"{column} at row" if column else "row"
        return HLLInputError(f"{where} {labels[row]}: {reason}")

    @staticmethod
    def _parse(out: io.StringIO) -> tuple[pd.DataFrame, pd.DataFrame]:
        if not out.getvalue():
            return _results([], [], [], [], [], [], [])
        res = pd.read_csv(
            out,
            header=None,
            names=["user_guid", "country", "is_total", "userdays", "n_points"],
            dtype={
                "user_guid": object,
                "country": object,
                "is_total": np.int64,
                "userdays": object,
                "n_points": np.int64,
            },
            keep_default_na=False,
        )
        # float() reads PostgreSQL's shortest round-trip text exactly, and its NaN/Infinity.
        userdays = np.fromiter(
            (float(v) if v else np.nan for v in res["userdays"]), dtype=np.float64, count=len(res)
        )
        total = res["is_total"].to_numpy() == 1
        detail = ~total
        return _results(
            res["user_guid"].to_numpy()[detail],
            res["country"].to_numpy()[detail],
            userdays[detail],
            res["n_points"].to_numpy()[detail],
            res["user_guid"].to_numpy()[total],
            userdays[total],
            res["n_points"].to_numpy()[total],
        )
