"""Variable distributions and correlations before clustering: files and the inline picture."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from PIL import Image

from common.figures import DAGSTER_INLINE_MARKDOWN_LIMIT
from geodem_assets import distributions

LABELS = {
    "v01": "Density (per km²)",
    "v02": "Aged 0 to 4 (%)",
    "v03": "Aged 5 to 14 (%)",
    "v04": "Social rented (%)",
}


def _matrix(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    a = rng.uniform(size=n)
    return pd.DataFrame(
        {
            "v01": a,
            "v02": a + rng.normal(scale=0.01, size=n),  # r > 0.95 with v01
            "v03": rng.uniform(size=n),
            "v04": rng.uniform(size=n),
        },
        index=[f"E{i:08d}" for i in range(n)],
    )


def test_histogram_grid_is_one_png_with_a_panel_per_variable(tmp_path):
    path = tmp_path / distributions.HISTOGRAMS_RAW
    values = pd.concat([_matrix()] * 1, axis=1)
    values = pd.concat([values, values.add_suffix("b")], axis=1)  # 8 variables: one full row of panels
    distributions.write_histogram_grid(path, values, LABELS, "raw")
    one_row = Image.open(path).size
    nine = pd.concat([values, _matrix()[["v01"]].add_suffix("c")], axis=1)
    distributions.write_histogram_grid(path, nine, LABELS, "raw")
    two_rows = Image.open(path).size
    assert two_rows[0] == one_row[0] and two_rows[1] > 1.5 * one_row[1]


def test_correlation_page_names_the_variables_and_lists_pairs_over_0_95(tmp_path):
    path = tmp_path / distributions.CORRELATION_HTML
    distributions.write_correlation_html(path, _matrix(), LABELS)
    html = path.read_text()
    assert '<script src="http' not in html and "Plotly.newPlot" in html
    for code, name in LABELS.items():
        assert json.dumps(f"{code} {name}")[1:-1] in html  # as the figure's JSON writes it
    fig = distributions.correlation_figure(_matrix(), LABELS)
    table = fig.data[1]
    assert list(table.cells.values[0]) == ["v01 Density (per km²)"]
    assert list(table.cells.values[1]) == ["v02 Aged 0 to 4 (%)"]
    assert float(table.cells.values[2][0]) > 0.95
    assert "v01 Density (per km²)<br>v02 Aged 0 to 4 (%)<br>r = 0.99" in fig.data[0].text[0][1]
    none = distributions.correlation_figure(_matrix()[["v01", "v03", "v04"]], LABELS)
    assert list(none.data[1].cells.values[0]) == ["none"]


def test_correlation_distribution_fits_inline():
    markdown = distributions.correlation_distribution_markdown(_matrix())
    assert markdown.startswith("![pairwise correlations](data:image/png;base64,")
    assert len(markdown) < DAGSTER_INLINE_MARKDOWN_LIMIT
