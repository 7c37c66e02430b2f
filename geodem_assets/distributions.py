"""Looking at the data before clustering: every variable's distribution and their correlations.

The reference workshop's diagnostics (step 3): histograms of every variable, raw and after the
arcsinh/min-max transform, and an interactive correlation heatmap with the pairs above 0.95.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from common.figures import inline_figure_markdown, plt

if TYPE_CHECKING:  # plotly is imported where a figure is made
    import plotly.graph_objects as go

HISTOGRAMS_RAW = "histograms_raw.png"
HISTOGRAMS_TRANSFORMED = "histograms_transformed.png"
CORRELATION_HTML = "correlation_heatmap.html"
HISTOGRAM_COLUMNS = 8
HISTOGRAM_BINS = 30


def _short(text: str, width: int = 34) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def write_histogram_grid(path: Path, values: pd.DataFrame, labels: dict[str, str], title: str) -> None:
    """A PNG grid of one histogram per column of `values` (OAs × variables), `HISTOGRAM_COLUMNS`
    across, each titled with the variable's code and name (`labels`: code -> name, shortened to
    fit). Missing values are left out of each histogram. Raises ValueError for no columns.

    Drawn for speed with ~60 panels (a region run pays for two grids): one filled step artist
    per panel, three value ticks and no count ticks (the shape is what is read), and a fixed
    layout; matplotlib's tight_layout and tick text were 85 % of the time."""
    if values.shape[1] == 0:
        raise ValueError(f"{title}: no variables to draw")
    from matplotlib.ticker import MaxNLocator

    cols = HISTOGRAM_COLUMNS
    rows = math.ceil(values.shape[1] / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 1.9 * rows), squeeze=False)
    try:
        for ax, code in zip(axes.flat, values.columns):
            data = values[code].to_numpy(dtype=float)
            counts, edges = np.histogram(data[np.isfinite(data)], bins=HISTOGRAM_BINS)
            ax.stairs(counts, edges, fill=True, color="#4c72b0")
            ax.set_title(_short(f"{code} {labels.get(code, '')}".strip()), fontsize=6.5)
            ax.set_yticks([])
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.tick_params(labelsize=5)
        for ax in list(axes.flat)[values.shape[1] :]:
            ax.set_axis_off()
        height = fig.get_figheight()  # inches: the title and the first row's titles above the axes
        fig.suptitle(title, fontsize=11, y=1 - 0.08 / height, va="top")
        top = 1 - 0.62 / height
        fig.subplots_adjust(left=0.02, right=0.99, bottom=0.03, top=top, wspace=0.15, hspace=0.55)
        fig.savefig(path, format="png", dpi=80)
    finally:
        plt.close(fig)


def correlation_figure(matrix: pd.DataFrame, labels: dict[str, str], threshold: float = 0.95) -> go.Figure:
    """A Plotly figure: the Pearson correlation heatmap of `matrix`'s columns (names of both
    variables and r on hover), above a table of the pairs with |r| > `threshold`, strongest first
    (the reference workshop's screening threshold)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from geodem_assets.transform import correlated_pairs

    codes = list(matrix.columns)
    corr = np.corrcoef(matrix.to_numpy(dtype=float), rowvar=False).reshape(len(codes), len(codes))
    names = [f"{c} {labels.get(c, '')}".strip() for c in codes]
    hover = [
        [f"{names[i]}<br>{names[j]}<br>r = {corr[i, j]:.3f}" for j in range(len(codes))]
        for i in range(len(codes))
    ]
    pairs = correlated_pairs(matrix, threshold)
    fig = make_subplots(
        rows=2,
        cols=1,
        row_heights=[0.8, 0.2],
        vertical_spacing=0.06,
        specs=[[{"type": "heatmap"}], [{"type": "table"}]],
        subplot_titles=(
            "Pearson correlation of the transformed variables",
            f"{len(pairs)} pairs with |r| > {threshold}",
        ),
    )
    fig.add_trace(
        go.Heatmap(
            z=corr,
            x=codes,
            y=codes,
            text=hover,
            hoverinfo="text",
            colorscale="RdBu",
            reversescale=True,
            zmin=-1,
            zmax=1,
            colorbar={"title": "r", "len": 0.75, "y": 0.62},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Table(
            header={"values": ["variable 1", "variable 2", "r"]},
            cells={
                "values": [
                    [names[codes.index(a)] for a, _, _ in pairs] or ["none"],
                    [names[codes.index(b)] for _, b, _ in pairs] or [""],
                    [f"{r:.3f}" for _, _, r in pairs] or [""],
                ]
            },
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(height=1200, width=1100)
    return fig


def write_correlation_html(
    path: Path, matrix: pd.DataFrame, labels: dict[str, str], threshold: float = 0.95
) -> None:
    """`correlation_figure` as a self-contained HTML page (plotly.js inlined)."""
    correlation_figure(matrix, labels, threshold).write_html(path, include_plotlyjs=True, full_html=True)


def correlation_distribution_markdown(matrix: pd.DataFrame, threshold: float = 0.95) -> str:
    """A small inline picture (< 1000 characters of Markdown, shown without a click in the
    Dagster UI): the histogram of every pair's Pearson r, with the screening threshold marked.
    Raises ValueError (from `inline_figure_markdown`) if it cannot be made small enough."""
    corr = np.corrcoef(matrix.to_numpy(dtype=float), rowvar=False)
    r = corr[np.triu_indices(matrix.shape[1], k=1)]
    fig, ax = plt.subplots(figsize=(3, 1.6))
    ax.hist(r[np.isfinite(r)], bins=20, range=(-1, 1), color="#4c72b0")
    ax.axvline(threshold, color="red", lw=1)
    ax.axvline(-threshold, color="red", lw=1)
    ax.set_title(f"r of {len(r)} pairs", fontsize=8)
    ax.tick_params(labelsize=6)
    return inline_figure_markdown(fig, "pairwise correlations")
