"""matplotlib figures as base64 PNG inside Markdown, for asset pages.

Two forms:

- `figure_markdown`: a full-size PNG. Dagster's UI folds any Markdown value of 1000 characters
  or more behind "[Show Markdown]", so such a picture is seen only after a click.
- `inline_figure_markdown`: a small palette PNG whose whole Markdown stays under that limit, so
  the asset page shows it without a click (simple charts: bars, a few lines; not maps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # matplotlib itself is imported on first use
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

import base64
import io

# Dagster 1.13.27 (ui-core MetadataEntry.tsx): a Markdown metadata value is rendered inline on the
# asset overview, the Events view and a partition's detail only when `mdStr.length < 1000`
# (JavaScript string length, i.e. characters for ASCII); at 1000 it shows "[Show Markdown]".
# Measured in headless Chromium at 1600x1000: 999 characters inline, 1000 folded.
DAGSTER_INLINE_MARKDOWN_LIMIT = 1000


class _LazyPyplot:
    """matplotlib.pyplot on first use, with the Agg backend: the UI imports the asset modules often."""

    def __getattr__(self, name: str) -> Any:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot

        return getattr(matplotlib.pyplot, name)


plt = _LazyPyplot()


def figure_markdown(fig: Figure, alt: str) -> str:
    """Render and close a figure; return Markdown embedding it as a PNG data URI (90 dpi).

    Usually longer than `DAGSTER_INLINE_MARKDOWN_LIMIT`: the UI shows it behind "[Show Markdown]".
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f"![{alt}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def _png_markdown(alt: str, png: bytes) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def _palette_png(image: Image.Image, colors: int) -> bytes:
    from PIL import Image

    quantized = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    quantized.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def inline_figure_markdown(
    fig: Figure,
    alt: str,
    *,
    max_chars: int = DAGSTER_INLINE_MARKDOWN_LIMIT - 1,
    dpi: int = 60,
    min_dpi: int = 24,
    colors: tuple[int, ...] = (16, 8, 6, 4),
) -> str:
    """Render and close a figure as Markdown `![alt](data:image/png;base64,…)` of at most `max_chars` characters.

    Dagster 1.13.27 renders a Markdown metadata value inline only below 1000 characters
    (`DAGSTER_INLINE_MARKDOWN_LIMIT`, read in ui-core's MetadataEntry.tsx and measured in
    Chromium); a longer value hides behind "[Show Markdown]". That leaves about 700 bytes of PNG.
    The figure is rasterised at `dpi`, reduced to a palette of `colors[0]` colours without
    dithering and saved as an optimised PNG; while the Markdown is too long, fewer colours are
    tried, then a lower dpi (steps of 0.85×, down to `min_dpi`).

    Fits: a bar chart of 5-10 bars with labels, figsize (3, 1.6) → 180×96 px at 60 dpi, ~500-650
    bytes. Does not fit: scatter maps of thousands of points, heatmaps (>1 KB even at 90×90 px);
    give those a path/URL or `figure_markdown` behind the click.

    Raises ValueError (naming `alt`, the limit and the shortest length reached) when even
    `min_dpi` and the fewest colours give too long a string, and when `alt` holds "[", "]" or
    a newline (they would break the Markdown).
    """
    if any(c in alt for c in "[]\n") or not alt.strip():
        plt.close(fig)
        raise ValueError(f"alt text {alt!r} must be non-empty, one line, without '[' or ']'")
    import numpy as np
    from PIL import Image

    shortest = None
    try:
        current = float(dpi)
        while current >= min_dpi:
            fig.set_dpi(current)
            fig.canvas.draw()
            canvas = cast("FigureCanvasAgg", fig.canvas)  # the Agg backend (plt above)
            image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
            for n in colors:
                markdown = _png_markdown(alt, _palette_png(image, n))
                if len(markdown) <= max_chars:
                    return markdown
                shortest = min(shortest or len(markdown), len(markdown))
            current *= 0.85
    finally:
        plt.close(fig)
    raise ValueError(
        f"figure {alt!r} does not fit in {max_chars} characters of Markdown (Dagster folds longer values "
        f"behind '[Show Markdown]'): shortest {shortest} characters at {min_dpi} dpi and {min(colors)} "
        "colours; draw fewer marks or a smaller figure, or show it with figure_markdown"
    )
