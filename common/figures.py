"""matplotlib figures as base64 PNG inside Markdown, for asset pages."""

from __future__ import annotations

import base64
import io


class _LazyPyplot:
    """matplotlib.pyplot on first use, with the Agg backend: the UI imports the asset modules often."""

    def __getattr__(self, name):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot

        return getattr(matplotlib.pyplot, name)


plt = _LazyPyplot()


def figure_markdown(fig, alt: str) -> str:
    """Render and close a figure; return Markdown embedding it as a PNG data URI (90 dpi)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f"![{alt}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"
