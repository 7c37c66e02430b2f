"""Per-range Parquet files of the home-location pipeline: GEODEM_OUTPUT_DIR/homeloc/<table>/<range>.parquet."""

from __future__ import annotations

import os

import pandas as pd

from resources.output_store import OutputStore


def write(outputs: OutputStore, table: str, key: str, df: pd.DataFrame) -> None:
    """Write atomically: a re-run replaces the range's file, a killed run leaves the old one."""
    folder = outputs.folder("homeloc", table)
    tmp = folder / f".{key}.parquet.tmp"
    df.to_parquet(tmp, index=False)
    os.replace(tmp, folder / f"{key}.parquet")


def read(outputs: OutputStore, table: str, key: str, columns: list[str] | None = None) -> pd.DataFrame:
    path = outputs.folder("homeloc", table) / f"{key}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: materialise the upstream asset for range {key} first")
    return pd.read_parquet(path, columns=columns)
