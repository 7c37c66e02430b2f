"""Dagster table metadata from pandas frames (the pure conversion is in common.metadata)."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import pandas as pd

from common.metadata import DEFAULT_MAX_ROWS, frame_columns, frame_records


def table_schema(df: pd.DataFrame, descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    """A TableSchema of `df`'s columns (types from dtypes, optional descriptions), e.g. for `dagster/column_schema`.

    Raises ValueError for non-string, duplicated or undescribed-but-named columns (see common.metadata).
    """
    return dg.TableSchema(
        columns=[
            dg.TableColumn(c.name, c.type, description=c.description) for c in frame_columns(df, descriptions)
        ]
    )


def table_metadata(
    df: pd.DataFrame, descriptions: Mapping[str, str] | None = None, max_rows: int = DEFAULT_MAX_ROWS
) -> dg.TableMetadataValue:
    """`MetadataValue.table` of `df`'s rows with its `table_schema`; Dagster 1.13 shows it inline, every row.

    Raises ValueError above `max_rows` rows (see common.metadata.frame_records).
    """
    return dg.MetadataValue.table(
        records=[dg.TableRecord(r) for r in frame_records(df, max_rows)],
        schema=table_schema(df, descriptions),
    )


def written_table_metadata(
    df: pd.DataFrame,
    descriptions: Mapping[str, str],
    *,
    table_name: str | None = None,
    uri: str | None = None,
) -> dict[str, object]:
    """Dagster's standard metadata for a table an asset wrote: `dagster/column_schema` (every
    column described), `dagster/row_count`, and where it is: `dagster/table_name` (e.g.
    "warehouse.main.supergroups" in DuckDB) and/or `dagster/uri` (a file:// or s3:// URL, as
    Dagster's UriMetadataSet takes it: a string).

    Raises ValueError when a column of `df` has no description, or a description names no
    column, or neither table_name nor uri is given.
    """
    undescribed = [c for c in df.columns if not descriptions.get(c)]
    if undescribed:
        raise ValueError(f"columns without a description: {undescribed}")
    if table_name is None and uri is None:
        raise ValueError("give the table's name or its URI")
    meta: dict[str, object] = {
        "dagster/column_schema": table_schema(df, descriptions),
        "dagster/row_count": len(df),
    }
    if table_name is not None:
        meta["dagster/table_name"] = table_name
    if uri is not None:
        meta["dagster/uri"] = uri
    return meta
