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
