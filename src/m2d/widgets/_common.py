"""Helpers shared by the widgets: figure to PNG bytes, and the status messages beside controls."""

from __future__ import annotations

import html
import io


def png(fig, dpi: int = 72) -> bytes:
    """Render a matplotlib figure to PNG bytes (for an ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def error_html(msg: str) -> str:
    """A red warning line naming the problem (shown beside the controls; the edit is kept)."""
    return f"<span style='color:#b00020'>&#9888; {html.escape(msg)}</span>"


def ok_html(msg: str) -> str:
    """A green status line."""
    return f"<span style='color:#1b5e20'>&#10003; {html.escape(msg)}</span>"
