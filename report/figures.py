"""matplotlib for the charts a document carries: `pyplot()` on the Agg backend (no display) with SVG
text kept as text, and `figure_bytes(fig, fmt)` for the PNG or SVG a renderer asks for. matplotlib
is imported here only, when a chart is drawn."""
from __future__ import annotations

import io
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot, headless, writing SVG text as text (searchable, selectable)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"
    return plt


def figure_bytes(fig: Any, fmt: str) -> bytes:
    """The figure as `fmt` (png or svg) bytes; the figure is closed (pyplot keeps no reference)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    pyplot().close(fig)
    return buf.getvalue()
