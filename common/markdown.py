"""Short Markdown tables for asset metadata."""

from __future__ import annotations

import pandas as pd


def markdown_table(df: pd.DataFrame, floatfmt: str = ".2f") -> str:
    """A frame as a Markdown table: one row per frame row, floats formatted with `floatfmt`."""
    header = "| " + " | ".join(map(str, df.columns)) + " |\n|" + "---|" * len(df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in r.tolist()]
        rows.append("| " + " | ".join(cells) + " |")
    return header + "\n" + "\n".join(rows)
