"""Helpers shared by the widgets: figure to PNG bytes, and the status messages beside controls."""

from __future__ import annotations

import html
import io

import numpy as np


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


class BlitFigure:
    """A figure whose static parts (axes, ticks, labels) are rendered once; an update redraws only
    the registered animated artists over a copy of that background and encodes the pixels as PNG.

    Text rendering dominates a full matplotlib redraw; blitting keeps a widget's picture well under
    100 ms. Call :meth:`invalidate` after changing anything static (limits, ticks, titles).
    """

    def __init__(self, fig):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.artists: list = []
        self._background = None

    def animate(self, *artists) -> None:
        """Register artists that change between updates (they are left out of the background)."""
        for a in artists:
            a.set_animated(True)
            self.artists.append(a)

    def invalidate(self) -> None:
        self._background = None

    def render(self) -> bytes:
        """PNG bytes of the figure in its current state."""
        from PIL import Image

        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for a in self.artists:
            self.fig.draw_artist(a)
        for ax in {a.axes for a in self.artists if a.axes is not None}:
            for spine in ax.spines.values():  # frames go back on top, as in a full draw
                self.fig.draw_artist(spine)
        rgba = np.asarray(self.canvas.buffer_rgba())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buf, format="PNG", compress_level=1)
        return buf.getvalue()
