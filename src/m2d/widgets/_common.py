"""Helpers shared by the widgets: the status messages beside controls (and their plain text for the
static frames), parsing and printing typed matrices, blitted figures, and the base of the worked
examples' change-the-numbers widgets.
"""

from __future__ import annotations

import html
import io
import re

import numpy as np


def error_html(msg: str) -> str:
    """A red warning line naming the problem (shown beside the controls; the edit is kept)."""
    return f"<span style='color:#b00020'>&#9888; {html.escape(msg)}</span>"


def ok_html(msg: str) -> str:
    """A green status line."""
    return f"<span style='color:#1b5e20'>&#10003; {html.escape(msg)}</span>"


def strip_tags(html_text: str) -> str:
    """Plain text of a status message: tags removed and entities unescaped (``&lt;`` -> ``<``), for
    the captions of the static frames."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def parse_matrix(text: str) -> np.ndarray:
    """Parse a matrix typed as rows separated by newlines or ';', entries by spaces or commas.

    Notebook: notebooks/04_examples.ipynb (the toy-chain widget)
    Args:
        text (str): e.g. ``"0.5 0.5; 0.2 0.8"``
    Returns:
        M (np.ndarray): float64, shape (rows, columns)
    Raises:
        ValueError: an entry that is not a number (quoted, with its row), no rows, or rows of
            different lengths
    """
    rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
    out = []
    for i, r in enumerate(rows):
        vals = []
        for tok in re.split(r"[,\s]+", r.strip()):
            try:
                vals.append(float(tok))
            except ValueError:
                raise ValueError(f"row {i}: {tok!r} is not a number") from None
        out.append(vals)
    if not out:
        raise ValueError("empty matrix")
    if len({len(r) for r in out}) != 1:
        raise ValueError(f"rows have different lengths: {[len(r) for r in out]}")
    return np.array(out)


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


def matrix_text(A) -> str:
    """A matrix as the text a reader edits: rows on lines, entries separated by spaces."""
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(A))


class WorkedExample:
    """A change-the-numbers widget for a worked example (chapter 4). Shared plumbing: a message
    line, a picture, and error handling around ``compute``.

    A subclass computes in ``compute()`` (raising ``ValueError`` for bad input), lays its figure out in
    ``build(fig)`` (axes, static parts; it registers the changing artists with ``self.blit.animate``)
    and moves those artists in ``refresh()``. The figure is rebuilt only when ``layout_key()`` changes
    (e.g. a matrix of another size); otherwise only the animated artists are redrawn over a cached
    background (:class:`~m2d.widgets._common.BlitFigure`), which keeps a slider move well under 100 ms.
    ``refresh()`` returns True when it changed something static (axis limits): then the background is
    redrawn once.
    """

    def __init__(self, figsize):
        import ipywidgets as W
        import matplotlib.pyplot as plt

        self.message = W.HTML()
        self.picture = W.Image(format="png")
        self.error: str | None = None
        self.image = b""
        self._fig = plt.figure(figsize=figsize)
        plt.close(self._fig)
        self.blit = BlitFigure(self._fig)
        self._layout = object()  # matches no layout key: the first update builds the figure

    def update(self) -> None:
        try:
            status = self.compute()
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = error_html(self.error)
            return
        self.error = None
        self.message.value = ok_html(status)
        key = self.layout_key()
        if key != self._layout:
            self._fig.clear()
            self.blit = BlitFigure(self._fig)
            self.build(self._fig)
            self._layout = key
        if self.refresh():
            self.blit.invalidate()
        self.image = self.blit.render()
        self.picture.value = self.image

    def compute(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def layout_key(self):
        """What the figure's layout depends on (the figure is rebuilt when it changes)."""
        return None

    def build(self, fig) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def refresh(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def annotate_heatmap(texts, M) -> None:
    """Write the entries of ``M`` into a heatmap's annotation texts (row-major), white on dark cells."""
    hi = M.max()
    for text, v in zip(texts, M.ravel(), strict=True):
        text.set_text(f"{v:.2f}")
        text.set_color("w" if v < 0.6 * hi else "k")
