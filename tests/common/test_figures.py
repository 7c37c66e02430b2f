"""Pictures small enough for Dagster's UI to show inline (Markdown under 1000 characters)."""

import base64
import io

import numpy as np
import pytest

from common.figures import DAGSTER_INLINE_MARKDOWN_LIMIT, figure_markdown, inline_figure_markdown, plt

NAMES = ["Retired Homeowners", "Urban Renters", "Students", "Families", "Rural Workers"]


def _bar_chart(n: int = 5):
    fig, ax = plt.subplots(figsize=(3, 1.6))
    ax.barh(NAMES[:n], [1264, 800, 500, 300, 120][:n], color=plt.cm.tab10.colors[:n])
    ax.set_xlabel("Output Areas")
    fig.tight_layout()
    return fig


def _decoded(markdown: str):
    from PIL import Image

    head, _, payload = markdown.partition("](data:image/png;base64,")
    assert head.startswith("![") and payload.endswith(")")
    return Image.open(io.BytesIO(base64.b64decode(payload[:-1])))


def test_a_labelled_bar_chart_fits_under_the_inline_limit():
    markdown = inline_figure_markdown(_bar_chart(), "supergroup sizes")
    assert len(markdown) < DAGSTER_INLINE_MARKDOWN_LIMIT
    image = _decoded(markdown)
    assert image.format == "PNG" and image.mode == "P"
    # Still a picture, not a smudge: at least 90 px wide and tall enough for five labelled bars.
    assert image.width >= 90 and image.height >= 48
    assert len(plt.get_fignums()) == 0


def test_the_same_chart_at_full_size_would_be_folded():
    assert len(figure_markdown(_bar_chart(), "supergroup sizes")) >= DAGSTER_INLINE_MARKDOWN_LIMIT


def test_a_tighter_limit_gives_a_smaller_picture_and_an_impossible_one_raises():
    loose = _decoded(inline_figure_markdown(_bar_chart(), "sizes"))
    tight_md = inline_figure_markdown(_bar_chart(), "sizes", max_chars=700)
    assert len(tight_md) <= 700
    assert _decoded(tight_md).width < loose.width
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.scatter(*rng.normal(size=(2, 5000)), c=rng.integers(0, 5, 5000), cmap="tab10", s=2)
    with pytest.raises(ValueError, match=r"'OA map' does not fit in 999 characters"):
        inline_figure_markdown(fig, "OA map")
    assert len(plt.get_fignums()) == 0


@pytest.mark.parametrize("alt", ["", "a]b", "two\nlines"])
def test_alt_text_that_would_break_the_markdown_is_refused(alt):
    with pytest.raises(ValueError, match="alt text"):
        inline_figure_markdown(_bar_chart(), alt)
    assert len(plt.get_fignums()) == 0
