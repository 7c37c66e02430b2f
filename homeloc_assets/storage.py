"""Per-range Parquet files of the home-location pipeline: GEODEM_OUTPUT_DIR/homeloc/<table>/<range>.parquet."""

from __future__ import annotations

import pandas as pd

from resources.output_store import OutputStore


def write(outputs: OutputStore, table: str, key: str, df: pd.DataFrame) -> None:
    """Write whole: a re-run replaces the range's file (or object), a killed run leaves the old one."""
    outputs.write_parquet(df, "homeloc", table, f"{key}.parquet")


def read(outputs: OutputStore, table: str, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One range's file; FileNotFoundError naming it when the upstream asset has not written it."""
    try:
        return outputs.read_parquet("homeloc", table, f"{key}.parquet", columns=columns)
    except FileNotFoundError:
        where = outputs.location("homeloc", table, f"{key}.parquet")
        raise FileNotFoundError(f"{where}: materialise the upstream asset for range {key} first") from None
