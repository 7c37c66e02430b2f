"""Pandas frames as plain table records and column specs, ready for Dagster's table metadata.

Dagster's UI (1.13.27) always renders a table metadata value inline, every row, with no
"[Show …]" click; column schemas are inline only below 5 columns. This module stays free of
Dagster: `resources.metadata` wraps its output in `TableMetadataValue` / `TableSchema`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Rows above this are refused: every row is stored in the event log and drawn on the page.
DEFAULT_MAX_ROWS = 200


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name, a Dagster table column type name and an optional description."""

    name: str
    type: str
    description: str | None = None


def column_type(dtype: np.dtype | pd.api.extensions.ExtensionDtype) -> str:
    """Dagster's table column type name for a pandas dtype: bool, int, float, datetime or string.

    Nullable integer and boolean dtypes map like their NumPy forms; categories, objects and
    strings map to "string".
    """
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def _check_columns(df: pd.DataFrame) -> None:
    names = list(df.columns)
    bad = [c for c in names if not isinstance(c, str) or not c]
    if bad:
        raise ValueError(f"table columns must be non-empty strings; got {bad!r}")
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:
        raise ValueError(f"table columns must be unique; duplicated: {duplicated}")


def frame_columns(df: pd.DataFrame, descriptions: Mapping[str, str] | None = None) -> list[ColumnSpec]:
    """One ColumnSpec per column of `df`, in order, typed by `column_type`.

    `descriptions` maps column name → description; a name that is not a column raises
    ValueError (naming it and the columns), so a renamed column cannot keep a stale description.
    """
    _check_columns(df)
    descriptions = dict(descriptions or {})
    unknown = sorted(set(descriptions) - set(df.columns))
    if unknown:
        raise ValueError(f"descriptions for columns not in the table: {unknown}; columns: {list(df.columns)}")
    return [ColumnSpec(str(c), column_type(df[c].dtype), descriptions.get(c)) for c in df.columns]


def _plain(value: Any, kind: str) -> str | int | float | bool | None:
    """A cell as str, int, float, bool or None (missing values → None)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if not isinstance(value, str) and pd.isna(value):
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "datetime":
        return pd.Timestamp(value).isoformat()
    return str(value)


def frame_records(
    df: pd.DataFrame, max_rows: int = DEFAULT_MAX_ROWS
) -> list[dict[str, str | int | float | bool | None]]:
    """The rows of `df` (index dropped) as dicts of plain Python values, typed as `frame_columns`.

    Missing values become None, datetimes ISO 8601 strings. Raises ValueError when `df` has more
    than `max_rows` rows (reset the index first to keep it; aggregate or page large tables).
    """
    _check_columns(df)
    if len(df) > max_rows:
        raise ValueError(
            f"table has {len(df)} rows, more than max_rows={max_rows}; the UI draws every row of table metadata"
        )
    kinds = {c: column_type(df[c].dtype) for c in df.columns}
    return [
        {c: _plain(v, kinds[c]) for c, v in zip(df.columns, row, strict=True)}
        for row in df.itertuples(index=False, name=None)
    ]
