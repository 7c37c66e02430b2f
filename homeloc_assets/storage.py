"""Per-range Parquet files of the home-location pipeline: GEODEM_OUTPUT_DIR/homeloc/<table>/<range>.parquet."""

from __future__ import annotations

import pandas as pd

from homeloc_assets import columns
from resources.metadata import written_table_metadata
from resources.output_store import OutputStore


def write(outputs: OutputStore, table: str, key: str, df: pd.DataFrame) -> None:
    """Write whole: a re-run replaces the range's file (or object), a killed run leaves the old one."""
    outputs.write_parquet(df, "homeloc", table, f"{key}.parquet")


def written(outputs: OutputStore, table: str, key: str, df: pd.DataFrame) -> dict[str, object]:
    """Dagster's metadata of one range's file as `write` wrote it: every column described
    (`homeloc_assets.columns`), the row count and the file's URI."""
    return written_table_metadata(
        df, columns.describe(table, df.columns), uri=outputs.uri("homeloc", table, f"{key}.parquet")
    )


def read(outputs: OutputStore, table: str, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One range's file; FileNotFoundError naming it when the upstream asset has not written it."""
    try:
        return outputs.read_parquet("homeloc", table, f"{key}.parquet", columns=columns)
    except FileNotFoundError:
        where = outputs.location("homeloc", table, f"{key}.parquet")
        raise FileNotFoundError(f"{where}: materialise the upstream asset for range {key} first") from None
