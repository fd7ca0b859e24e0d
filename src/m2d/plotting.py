"""Figures shared by the chapters: piano rolls, labelled matrix heatmaps, probability bars,
spectrogram patch grids and the timeline (matplotlib).

Every helper follows libfmp's convention: ``ax=None`` (or ``axes=None``) creates the figure, and
each returns ``(fig, ax, artist)`` so a cell can keep drawing on the same axes.

Every figure says what it shows: the helpers describe what they drew (with its numbers), any other
figure is described from its titles, labels and marks (:func:`describe`; :func:`set_alt` overrides),
and in a notebook the text rides inside the PNG for the book's alt text (:func:`install_alt_text`).
Colour maps are perceptually uniform and colour-blind safe (viridis, magma).

Notebook: every chapter
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from m2d.pitch import PITCH_CLASSES, midi_name, onsets


def _axes(ax, figsize: tuple[float, float]):
    """``(fig, ax)``: a new figure with one axes when ``ax`` is None, else ``ax``'s figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize)
        install_alt_text()  # the kernel's first figure has just registered the PNG formatter
        return fig, ax
    return ax.figure, ax


def piano_roll(pitches, durations=0.5, *, ax=None, color: str = "C0", title: str | None = None,
               figsize: tuple[float, float] = (10, 2.5)):
    """Draw a melody as a piano roll: one bar per note, time in quarter notes, pitch on the y axis.

    Args:
        pitches (array of int): MIDI numbers
        durations (array of float or float): quarter notes per note
        ax (matplotlib.axes.Axes or None): where to draw; None creates a figure
        color (str): bar colour
        title (str or None): axes title
        figsize (tuple): size of a new figure
    Returns:
        fig, ax, bars (matplotlib.container.BarContainer)
    Raises:
        ValueError: no notes
    """
    p = np.asarray(pitches, dtype=int)
    if p.size == 0:
        raise ValueError("pitches is empty: a piano roll needs at least one note")
    d = np.broadcast_to(np.asarray(durations, dtype=float), p.shape)
    fig, ax = _axes(ax, figsize)
    starts = onsets(d)
    bars = ax.barh(p, d, left=starts, height=0.8, color=color, edgecolor="k", linewidth=0.3)
    lo, hi = p.min() - 1, p.max() + 1
    ticks = [m for m in range(lo, hi + 1) if m % 12 in (0, 4, 7)]
    ax.set_yticks(ticks, [midi_name(m) for m in ticks])
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ax.set_xlim(0, starts[-1] + d[-1])
    ax.set_xlabel("time (quarter notes)")
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    total = float(starts[-1] + d[-1])
    _panel_alt(ax, f"piano roll of a melody of {p.size} notes from {midi_name(int(p.min()))} to "
                   f"{midi_name(int(p.max()))} over {total:g} quarter notes", title)
    return fig, ax, bars


def note_rectangles(pitches, durations=0.5) -> list[np.ndarray]:
    """Piano-roll rectangles (4 corners each, time in quarter notes x MIDI pitch) for a
    ``PolyCollection``: the cheap-to-update form of :func:`piano_roll` used by widgets."""
    p = np.asarray(pitches, dtype=float)
    d = np.broadcast_to(np.asarray(durations, dtype=float), p.shape)
    t0 = onsets(d)
    return [np.array([[a, m - 0.4], [a + w, m - 0.4], [a + w, m + 0.4], [a, m + 0.4]])
            for a, w, m in zip(t0, d, p, strict=True)]


def matrix_heatmap(M, labels: Sequence[str] | None = None, *, ax=None, title: str | None = None,
                   annotate: bool | None = None, vmax: float | None = None, cmap: str = "viridis",
                   xlabel: str = "next", ylabel: str = "current",
                   figsize: tuple[float, float] = (4.5, 4)):
    """Heatmap of a (stochastic) matrix with row/column labels; small matrices get their numbers.

    Args:
        M (array): matrix, shape (r, c)
        labels (sequence of str or None): state names for rows and columns
        ax (matplotlib.axes.Axes or None): where to draw; None creates a figure
        annotate (bool or None): print the entries (default: when the matrix is at most 6 x 6)
        vmax (float or None): top of the colour scale (default: the largest entry)
    Returns:
        fig, ax, image (matplotlib.image.AxesImage)
    """
    M = np.asarray(M, dtype=float)
    fig, ax = _axes(ax, figsize)
    im = ax.imshow(M, cmap=cmap, vmin=0, vmax=vmax if vmax is not None else max(M.max(), 1e-12))
    if labels is not None:
        ax.set_xticks(range(M.shape[1]), labels[: M.shape[1]])
        ax.set_yticks(range(M.shape[0]), labels[: M.shape[0]])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if annotate is None:
        annotate = max(M.shape) <= 6
    if annotate:
        hi = M.max()
        for (i, j), v in np.ndenumerate(M):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center",
                    color="w" if v < 0.6 * hi else "k", fontsize=9)
    if title:
        ax.set_title(title)
    i, j = np.unravel_index(int(np.argmax(M)), M.shape)
    names = list(labels) if labels is not None else None
    where = (f"{names[i]} to {names[j]}" if names is not None and max(M.shape) <= len(names)
             else f"row {i + 1}, column {j + 1}")
    _panel_alt(ax, f"heatmap of a {M.shape[0]} by {M.shape[1]} matrix (rows: {ylabel}, columns: "
                   f"{xlabel}), values from {M.min():.2g} to {M.max():.2g}, largest at {where}", title)
    return fig, ax, im


def distribution_bars(p, labels: Sequence[str] = PITCH_CLASSES, *, ax=None, color: str = "C1",
                      title: str | None = None, width: float = 0.8, offset: float = 0.0,
                      label: str | None = None, figsize: tuple[float, float] = (6, 2.5)):
    """Bar chart of a probability vector over labelled states.

    Returns:
        fig, ax, bars (matplotlib.container.BarContainer)
    """
    p = np.asarray(p, dtype=float)
    fig, ax = _axes(ax, figsize)
    x = np.arange(p.size)
    bars = ax.bar(x + offset, p, width=width, color=color, label=label)
    ax.set_xticks(x, labels[: p.size])
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    k = int(np.argmax(p))
    top = labels[k] if k < len(labels) else str(k)
    _panel_alt(ax, f"bar chart of probabilities over {p.size} states"
                   + (f" ({_clean(label)})" if label else "") + f", highest {top} at {p[k]:.2f}", title,
               append=True)
    return fig, ax, bars


def show_patches(patches: np.ndarray, titles: Sequence[str] | None = None, *, axes=None,
                 fontsize: int = 8):
    """Draw spectrogram patches (model units, clipped to [-1, 1]) as images, low mel bands at the
    bottom, one per axes; spare axes are switched off.

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    Args:
        patches (np.ndarray): (n, n_mels, frames), or (n, 1, n_mels, frames)
        titles (sequence of str or None): one title per patch
        axes (array of Axes or None): where to draw; None creates one row of n axes
        fontsize (int): title size
    Returns:
        fig, axes (np.ndarray of Axes), images (list of matplotlib.image.AxesImage)
    """
    own = axes is None
    if own:
        import matplotlib.pyplot as plt

        n = len(patches)
        fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.2), squeeze=False)
        install_alt_text()
    axes = np.asarray(axes, dtype=object)
    fig = axes.flat[0].figure
    images = []
    for i, ax in enumerate(axes.flat):
        if i >= len(patches):
            ax.axis("off")
            continue
        images.append(ax.imshow(np.clip(np.squeeze(patches[i]), -1, 1), origin="lower",
                                aspect="auto", cmap="magma", vmin=-1, vmax=1,
                                interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=fontsize)
        _panel_alt(ax, "mel-spectrogram patch", titles[i] if titles is not None else None)
    if own:
        set_alt(fig, f"{len(images)} mel-spectrogram patches side by side (low frequencies at the "
                     "bottom, time to the right)"
                + (": " + ", ".join(_clean(t) for t in titles[:len(images)]) if titles is not None
                   else ""))
    return fig, axes, images


def plot_timeline(milestones=None, *, ax=None, figsize: tuple[float, float] = (12, 4.2)):
    """Draw the milestones of :data:`m2d.history.TIMELINE` in order, evenly spaced (1906-1957
    would otherwise squeeze 2017-2024 into a corner), alternating above/below the axis, coloured
    by the chapter that shows them.

    Notebook: book/timeline.md
    Args:
        milestones (sequence of Milestone or None): default the whole timeline
        ax (matplotlib.axes.Axes or None): where to draw; None creates a figure
    Returns:
        fig, ax, markers (list of Line2D, one per milestone)
    """
    import textwrap

    from matplotlib.lines import Line2D

    from m2d.history import CHAPTER_COLORS, TIMELINE

    milestones = TIMELINE if milestones is None else milestones
    fig, ax = _axes(ax, figsize)
    ax.axhline(0, color="k", lw=1)
    markers = []
    for i, m in enumerate(milestones):
        h = (1.0 + 0.5 * (i % 2 == 0)) * (1 if i % 2 == 0 else -1)
        c = CHAPTER_COLORS.get(m.chapter, "gray")
        ax.plot([i, i], [0, h], color=c, lw=1)
        markers += ax.plot(i, 0, "o", color=c, ms=8)
        label = textwrap.fill(m.development, 16)
        ax.annotate(f"{m.year}\n{label}", (i, h), ha="center", va="bottom" if h > 0 else "top",
                    fontsize=8, color=c)
    ax.set_xlim(-0.7, len(milestones) - 0.3)
    ax.set_ylim(-3.0, 3.3)
    ax.set_xticks(range(len(milestones)), [str(m.year) for m in milestones])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    handles = [Line2D([], [], color=c, marker="o", ls="", label=f"shown in {name}")
               for name, c in CHAPTER_COLORS.items()]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False, ncol=4,
              bbox_to_anchor=(0, -0.28))
    if milestones:
        _panel_alt(ax, f"timeline of {len(milestones)} milestones, {milestones[0].year} to "
                       f"{milestones[-1].year}: "
                       + "; ".join(f"{m.year} {m.development}" for m in milestones))
    return fig, ax, markers


def plot_systems_map(systems=None, extra=None, *, ax=None, figsize: tuple[float, float] = (12, 6.6)):
    """Draw the map: four cells (closed | open) x (tokens + autoregression | continuous +
    diffusion), each system a filled marker with its name, year, maker and what it models; the
    ``extra`` systems (this book's miniatures) as hollow grey markers below them.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        systems (sequence of System or None): default :data:`m2d.systems.SYSTEMS`
        extra (sequence of System or None): drawn hollow, after the systems of their cell;
            default :data:`m2d.systems.BOOK_MODELS`
        ax (matplotlib.axes.Axes or None): where to draw; None creates a figure
        figsize (tuple): size of a new figure
    Returns:
        fig, ax, markers (list of Line2D, one per system of ``systems`` then of ``extra``)
    Raises:
        ValueError: as :func:`m2d.systems.quadrants`
    """
    from m2d.systems import BOOK_MODELS, REPRESENTATIONS, SYSTEMS, WEIGHTS, quadrants

    systems = SYSTEMS if systems is None else systems
    extra = BOOK_MODELS if extra is None else extra
    cells = quadrants(systems)
    extras = quadrants(extra)
    fig, ax = _axes(ax, figsize)
    colors = {"tokens": "C0", "continuous": "C2"}
    markers_by_name = {}
    for (w, r), members in cells.items():
        x0, y0 = WEIGHTS.index(w), 1 - REPRESENTATIONS.index(r)  # cell's lower-left corner
        ax.add_patch(_systems_cell_patch(x0, y0, colors[r]))
        rows = [(s, True) for s in members] + [(s, False) for s in extras[(w, r)]]
        step = 0.9 / max(len(rows), 3)
        for i, (s, filled) in enumerate(rows):
            y = y0 + 0.93 - step * (i + 0.5)
            c = colors[r] if filled else "0.45"
            (m,) = ax.plot(x0 + 0.06, y, "o", ms=11, color=c,
                           mfc=c if filled else "none", mew=1.8)
            markers_by_name[s.name] = m
            head = f"{s.name} ({s.year}, {s.maker})" if filled else s.name
            ax.text(x0 + 0.11, y + 0.022, head, fontsize=10.5, va="center",
                    weight="bold" if filled else "normal", color="k" if filled else "0.3")
            ax.text(x0 + 0.11, y - 0.035, s.how, fontsize=8.5,
                    va="center", color="0.25" if filled else "0.45")
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xticks([0.5, 1.5], ["closed (no released weights)", "open (weights released)"],
                  fontsize=10)
    ax.set_yticks([0.5, 1.5], ["continuous\n+ diffusion", "discrete tokens\n+ autoregression"],
                  fontsize=10)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.axvline(1, color="0.5", lw=1)
    ax.axhline(1, color="0.5", lw=1)
    markers = [markers_by_name[s.name] for s in (*systems, *extra)]
    _panel_alt(ax, "map of music generators in four cells, weights closed or open by tokens with "
                   "autoregression or continuous with diffusion: " + "; ".join(
                       f"{w}, {r}: " + (", ".join(s.name for s in cells[(w, r)]) or "none")
                       for (w, r) in cells))
    return fig, ax, markers


def _systems_cell_patch(x0: float, y0: float, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x0 + 0.01, y0 + 0.01), 0.98, 0.98, color=color, alpha=0.07, lw=0)


# --- alt text: every figure says what it shows -------------------------------------------------
# A figure's description is generated from the figure itself (its titles, axis labels, legend and the
# kinds of marks drawn; :func:`describe`) unless a cell sets one with :func:`set_alt`. In a notebook
# the description travels inside the PNG (an iTXt chunk "Description", :func:`png_with_alt`), written
# by the inline backend's own PNG formatter wrapped by :func:`install_alt_text`; the book's Sphinx
# extension (tools/m2d_sphinx.py) reads it back as the <img alt>.

ALT_KEY = "Description"
ALT_MAX_CHARS = 600


def _panel_alt(ax, text: str, title: str | None = None, append: bool = False) -> None:
    """What a helper drew on ``ax``, in words (used by :func:`describe` for that panel)."""
    text = (f'"{_clean(title)}", ' if title else "") + text
    old = getattr(ax, "_m2d_alt", None)
    ax._m2d_alt = f"{old}; {text}" if append and old else text


def set_alt(fig, text: str) -> None:
    """Give ``fig`` the alt text ``text`` (used instead of the generated :func:`describe`)."""
    fig._m2d_alt = " ".join(str(text).split())


def _clean(text: str) -> str:
    """A label as prose: TeX dollars and braces dropped, whitespace collapsed."""
    return " ".join(str(text).replace("$", "").replace("\\", "").replace("{", "").replace("}", "")
                    .split())


def _panel(ax) -> str:
    """One axes in words: 'heatmap "title" (x: ..., y: ...; legend: a, b)'."""
    from matplotlib.collections import PathCollection, PolyCollection
    from matplotlib.patches import Rectangle

    if getattr(ax, "_m2d_alt", None):
        return ax._m2d_alt
    kinds = []
    if ax.images:
        kinds.append("heatmap" if any(im.get_array().ndim == 2 for im in ax.images) else "image")
    lines = [ln for ln in ax.lines if len(ln.get_xdata()) > 2]
    if lines:
        kinds.append("line plot" if len(lines) == 1 else f"line plot of {len(lines)} curves")
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() * p.get_height() > 0]
    if len(bars) >= 2:
        kinds.append("bar chart")
    if any(isinstance(c, PathCollection) for c in ax.collections):
        kinds.append("scatter plot")
    if any(isinstance(c, PolyCollection) for c in ax.collections):
        kinds.append("shaded band")
    if not kinds and ax.texts:
        kinds.append("diagram")
    out = " and ".join(kinds) or "panel"
    title = _clean(ax.get_title())
    if title:
        out += f' "{title}"'
    axes_words = [f"{n}: {_clean(lbl)}" for n, lbl in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
                  if _clean(lbl)]
    legend = ax.get_legend()
    if legend is not None:
        names = [_clean(t.get_text()) for t in legend.get_texts() if _clean(t.get_text())]
        if names:
            axes_words.append("legend: " + ", ".join(names[:8]))
    if axes_words:
        out += " (" + "; ".join(axes_words) + ")"
    return out


def describe(fig) -> str:
    """Alt text for ``fig``: what each panel shows, from the figure itself (or :func:`set_alt`'s).

    Colour bars are not panels. At most :data:`ALT_MAX_CHARS` characters.

    Notebook: every chapter (through :func:`install_alt_text`)
    Returns:
        text (str): e.g. ``'Figure: line plot "Convergence" (x: step t; y: TV distance)'``
    """
    if getattr(fig, "_m2d_alt", None):
        return fig._m2d_alt[:ALT_MAX_CHARS]
    panels = [ax for ax in fig.axes if ax.get_visible() and not hasattr(ax, "_colorbar")
              and (ax.has_data() or ax.texts or ax.get_title())]
    head = _clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    words = [_panel(ax) for ax in panels]
    if len(words) > 1:
        same = all(w == words[0] for w in words)
        body = (f"{len(words)} panels, each a {words[0]}" if same
                else f"{len(words)} panels: " + "; ".join(f"({i}) {w}" for i, w in enumerate(words, 1)))
    else:
        body = words[0] if words else "empty figure"
    text = "Figure" + (f' "{head}"' if head else "") + ": " + body
    return text if len(text) <= ALT_MAX_CHARS else text[:ALT_MAX_CHARS - 1] + "…"


def png_with_alt(png: bytes, text: str) -> bytes:
    """``png`` with an iTXt chunk ``Description`` = ``text`` (UTF-8) right after its header.

    Raises:
        ValueError: ``png`` is not a PNG
    """
    import struct
    import zlib

    sig = b"\x89PNG\r\n\x1a\n"
    if not png.startswith(sig) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG (no signature and IHDR chunk)")
    ihdr_end = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    body = ALT_KEY.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")
    chunk = (struct.pack(">I", len(body)) + b"iTXt" + body
             + struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF))
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def alt_of_png(png: bytes) -> str | None:
    """The ``Description`` text a PNG carries (:func:`png_with_alt`), or None."""
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(png)) as im:
        return im.text.get(ALT_KEY) if hasattr(im, "text") else None


def install_alt_text() -> bool:
    """In an IPython kernel, make every PNG of a matplotlib figure carry :func:`describe`'s text:
    the inline backend's own PNG formatter is wrapped (its settings kept: tight bounding box,
    retina). The backend registers that formatter only when the first figure is made, so the
    wrapping is retried before and after every cell (before the backend shows the cell's figures).
    Idempotent; called when this module is imported.

    Returns:
        installed (bool): whether the formatter is wrapped now (False outside IPython, or before
            the kernel's first figure; the hooks finish the job then)
    """
    import sys

    if "IPython" not in sys.modules:  # not in a kernel (and importing IPython here costs time)
        return False
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        return False
    if not getattr(ip, "_m2d_alt_hooks", False):
        ip.events.register("pre_execute", _wrap_png_formatter)
        ip.events.register("post_execute", _wrap_png_formatter)
        ip._m2d_alt_hooks = True
        _load_inline_backend()
        install_print_form(ip)
    return _wrap_png_formatter()


#: a figure's vector form is kept only up to this size (bytes); larger ones (dense scatter or mesh
#: plots) print from their PNG instead
PRINT_PDF_MAX = 600_000


def figure_pdf(fig, max_bytes: int = PRINT_PDF_MAX) -> bytes | None:
    """A figure's printed form: vector PDF (tight bounding box; images inside at 200 dpi), or None
    when it would exceed ``max_bytes``. The PDF edition prefers it to the PNG (myst-nb's LaTeX
    priority puts ``application/pdf`` first), so lines and text print sharp at any size.

    Notebook: every chapter (through :func:`install_print_form`)
    Args:
        fig (matplotlib.figure.Figure): the figure
        max_bytes (int): the size above which the PNG is printed instead
    Returns:
        pdf (bytes | None)
    Raises:
        ValueError: max_bytes is not a positive integer
    """
    from io import BytesIO

    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    if not fig.axes:
        return None
    buf = BytesIO()
    fig.savefig(buf, format="pdf", dpi=200, bbox_inches="tight", metadata={"Subject": describe(fig)})
    data = buf.getvalue()
    return data if len(data) <= max_bytes else None


def install_print_form(ip=None) -> bool:
    """While the book is built (``M2D_HTML_BUILD``, see :func:`m2d.players.printing`), every
    figure a cell shows also carries its vector form (:func:`figure_pdf`) as ``application/pdf``:
    the HTML edition ignores it, the PDF edition prints it. Readers' notebooks are unchanged.

    Returns:
        installed (bool)
    """
    import os

    if not os.environ.get("M2D_HTML_BUILD"):
        return False
    if ip is None:
        from IPython import get_ipython

        ip = get_ipython()
    if ip is None:
        return False
    from matplotlib.figure import Figure

    formatter = ip.display_formatter.formatters["application/pdf"]
    formatter.enabled = True
    formatter.for_type(Figure, figure_pdf)
    # the Chinese edition's forms of the same figure (figure_zh), for the zh build to swap in
    for fmt, mime in ((("png", ZH_PNG), ("pdf", ZH_PDF))):
        zh = ip.display_formatter.formatters.get(mime)
        if zh is None:
            zh = _zh_formatter_class()(parent=ip.display_formatter, format_type=mime)
            ip.display_formatter.formatters[mime] = zh
        zh.enabled = True
        zh.for_type(Figure, functools.partial(_zh_form, fmt=fmt))
    return True


#: the extra output types that carry a figure's Chinese forms (the zh build uses them, the others
#: ignore them)
ZH_PNG, ZH_PDF = "image/x-m2d-zh+png", "application/x-m2d-zh+pdf"


def _zh_form(fig, fmt: str) -> str | None:
    """:func:`figure_zh` in base64 (what a notebook stores), after recording the figure's words in
    ``$M2D_FIGURE_TEXTS`` when set (how the table of figure terms was collected)."""
    import base64
    import json
    import os

    record = os.environ.get("M2D_FIGURE_TEXTS")
    if record and fmt == "png":
        words = [t.get_text() for t in figure_texts(fig)]
        words += [str(s) for table in _tick_words(fig)
                  for s in (table.values() if isinstance(table, dict) else table)]
        with open(record, "a", encoding="utf-8") as f:
            f.write(json.dumps(words, ensure_ascii=False) + "\n")
    data = figure_zh(fig, fmt)
    return None if data is None else base64.b64encode(data).decode("ascii")


class ZhFigureRenderer:
    """myst-nb's renderer of the Chinese forms (a ``myst_nb.mime_renderers`` entry point of this
    package): :data:`ZH_PNG` and :data:`ZH_PDF` become images like their ``image/png`` and
    ``application/pdf`` twins. Only the Chinese build ranks them above the twins
    (``nb_mime_priority_overrides`` in tools/translation.py); every other build never picks them."""

    mime_priority_overrides: tuple = ()

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        import dataclasses

        if data.mime_type not in (ZH_PNG, ZH_PDF) or inline:
            return None
        twin = "image/png" if data.mime_type == ZH_PNG else "application/pdf"
        return renderer.render_image(dataclasses.replace(data, mime_type=twin))


def _zh_formatter_class():
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName

    class ZhFormatter(BaseFormatter):
        """A formatter for one of the Chinese forms (its ``format_type`` is set per instance)."""

        print_method = ObjectName("_repr_m2d_zh_")

    return ZhFormatter


def _load_inline_backend() -> None:
    """Import the kernel's inline backend now, as pyplot does at the first figure: importing it
    registers the PNG formatter, so even a first figure shown mid-cell (``plt.show()``) is wrapped."""
    import matplotlib

    try:
        backend = matplotlib.get_backend(auto_select=False)
    except TypeError:  # matplotlib < 3.10
        backend = matplotlib.rcParams._get("backend")
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        import matplotlib_inline.backend_inline  # noqa: F401


def _wrap_png_formatter() -> bool:
    """Wrap the current PNG formatter of Figure (see :func:`install_alt_text`); True if wrapped."""
    import base64

    from IPython import get_ipython
    from matplotlib.figure import Figure

    ip = get_ipython()
    if ip is None:
        return False
    formatter = ip.display_formatter.formatters["image/png"]
    try:
        original = formatter.lookup_by_type(Figure)
    except KeyError:
        return False
    if getattr(original, "_m2d_alt", False):
        return True

    def png_and_alt(fig, *args, **kwargs):
        out = original(fig, *args, **kwargs)
        data, meta = out if isinstance(out, tuple) else (out, None)
        if data is None:
            return out
        as_text = isinstance(data, str)
        raw = base64.b64decode(data) if as_text else data
        try:
            raw = png_with_alt(raw, describe(fig))
        except ValueError:
            return out
        data = base64.b64encode(raw).decode("ascii") if as_text else raw
        return (data, meta) if isinstance(out, tuple) else data

    png_and_alt._m2d_alt = True
    formatter.for_type(Figure, png_and_alt)
    return True


install_alt_text()


# --- printed forms: pictures of what the players play (the PDF edition) -------------------------


def _figure_png(fig, alt: str, dpi: int) -> bytes:
    """PNG bytes of a figure made without pyplot (so no notebook shows it twice), with alt text."""
    from io import BytesIO

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return png_with_alt(buf.getvalue(), alt)


def sound_png(y: np.ndarray, sr: int, title: str, dpi: int = 200) -> bytes:
    """A sound's printed form: its log-mel spectrogram (time in seconds, low frequencies at the
    bottom), titled ``title``; the PNG's alt text is ``"Audio (<seconds> s): <title>"``.

    Notebook: every chapter, through :meth:`m2d.players.Player._repr_png_` (the PDF edition)
    """
    from matplotlib.figure import Figure

    from m2d import audio

    y = np.asarray(y, dtype=np.float32)
    seconds = y.size / sr
    S = audio.log_mel(y, sr=sr) if y.size else np.full((audio.N_MELS, 1), -80.0)
    fig = Figure(figsize=(6.0, 1.6))
    ax = fig.add_subplot()
    ax.imshow(S, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
              extent=(0, max(seconds, 1e-3), 0, S.shape[0]))
    ax.set_yticks([])
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel("mel bands", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9, loc="left")
    return _figure_png(fig, f"Audio ({seconds:.1f} s): {title}", dpi)


def score_png(parts: Sequence[Sequence[tuple[float, float, int]]], title: str,
              dpi: int = 200) -> bytes:
    """A score's printed form: each part's notes as bars at their onsets (a piano roll, parts in
    colours C0, C1, ...), titled ``title``; the PNG's alt text is ``"Score: <title>"``.

    Args:
        parts: one sequence per part of (onset in quarter notes, duration, MIDI pitch)
        title (str): what the score is
    Raises:
        ValueError: no notes in any part
    """
    from matplotlib.figure import Figure

    notes = [n for part in parts for n in part]
    if not notes:
        raise ValueError("a score without notes has no printed form")
    fig = Figure(figsize=(6.0, 1.9))
    ax = fig.add_subplot()
    for i, part in enumerate(parts):
        if part:
            on, dur, midi = (np.asarray(v, dtype=float) for v in zip(*part, strict=True))
            ax.barh(midi, dur, left=on, height=0.8, color=f"C{i}", edgecolor="k", linewidth=0.2)
    lo = int(min(n[2] for n in notes)) - 1
    hi = int(max(n[2] for n in notes)) + 1
    ticks = [m for m in range(lo, hi + 1) if m % 12 in (0, 4, 7)]
    ax.set_yticks(ticks, [midi_name(m) for m in ticks], fontsize=7)
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ax.set_xlim(0, max(n[0] + n[1] for n in notes))
    ax.set_xlabel("time (quarter notes)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9, loc="left")
    return _figure_png(fig, f"Score: {title}", dpi)


# -- the Chinese edition's figures ------------------------------------------------------------------
#: the font of the Chinese edition's figure text (Debian's fonts-wqy-zenhei: `make book` installs it)
CJK_FONT = "WenQuanYi Zen Hei"


def cjk_font() -> str | None:
    """The family name of a font with Chinese characters that matplotlib can use (:data:`CJK_FONT`,
    registered from the system's fonts when matplotlib's font list predates it), or None."""
    global _CJK_FOUND
    if _CJK_FOUND is not None:
        return _CJK_FOUND or None
    import glob

    from matplotlib import font_manager

    try:
        font_manager.findfont(CJK_FONT, fallback_to_default=False)
        _CJK_FOUND = CJK_FONT
    except ValueError:
        paths = sorted(glob.glob("/usr/share/fonts/**/wqy-zenhei.ttc", recursive=True))
        if paths:
            font_manager.fontManager.addfont(paths[0])
        _CJK_FOUND = CJK_FONT if paths else ""
    return _CJK_FOUND or None


_CJK_FOUND: str | None = None


def figure_texts(fig) -> list:
    """The words of a figure a reader sees: titles, axis labels, legend entries and title, free
    text and annotations (matplotlib ``Text`` artists with a non-empty string)."""
    out = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)
    for ax in fig.axes:
        out += [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None),
                ax.xaxis.label, ax.yaxis.label, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [legend.get_title(), *legend.get_texts()]
    for legend in getattr(fig, "legends", []):
        out += [legend.get_title(), *legend.get_texts()]
    return [t for t in out if t is not None and t.get_text().strip()]


def _tick_words(fig) -> list:
    """The word tables behind a figure's tick labels (``set_xticklabels`` and the like): the list of
    a ``FixedFormatter`` or the dict of the ``FuncFormatter`` matplotlib makes over fixed ticks;
    each is changed in place to translate and restore the labels."""
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    out = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, FixedFormatter):
                fmt.seq = list(fmt.seq)
                out.append(fmt.seq)
            elif isinstance(fmt, FuncFormatter) and isinstance(fmt.func, functools.partial) \
                    and fmt.func.args and isinstance(fmt.func.args[0], dict):
                out.append(fmt.func.args[0])
    return out


def figure_zh(fig, fmt: str = "png") -> bytes | None:
    """The figure as the Chinese edition shows it: every text of :func:`figure_texts` and every
    fixed tick label that :data:`m2d.i18n.FIGURE_TERMS` translates is drawn in Chinese (in
    :data:`CJK_FONT`), the figure saved as ``fmt`` and then restored unchanged. None when nothing
    in it is translated, or no Chinese font is installed (the English figure is shown then).

    Notebook: every chapter (through :func:`install_print_form`, while the book is built)
    Args:
        fig (matplotlib.figure.Figure): the figure
        fmt (str): ``"png"`` (the HTML edition; alt text from the Chinese words) or ``"pdf"``
    Returns:
        data (bytes | None)
    Raises:
        ValueError: another format
    """
    from io import BytesIO

    from m2d import i18n

    if fmt not in ("png", "pdf"):
        raise ValueError(f"fmt must be 'png' or 'pdf', got {fmt!r}")
    if not fig.axes or cjk_font() is None:
        return None
    texts = [(t, t.get_text(), t.get_fontfamily()) for t in figure_texts(fig)]
    texts = [(t, s, fam, i18n.translate_figure(s)) for t, s, fam in texts]
    texts = [x for x in texts if x[3] != x[1]]
    ticks = []  # (word table, key, English, Chinese)
    for table in _tick_words(fig):
        for k in (list(table) if isinstance(table, dict) else range(len(table))):
            zh = i18n.translate_figure(str(table[k]))
            if zh != str(table[k]):
                ticks.append((table, k, table[k], zh))
    if not texts and not ticks:
        return None
    import logging

    family = [*fig.axes[0].xaxis.label.get_fontfamily(), CJK_FONT]
    tick_fonts = []
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)  # "weight normal not found, using 500": the font has one weight
    try:
        for t, _, _, zh in texts:
            t.set_text(zh)
            # mathtext draws a string's words in its first family, without falling back per glyph
            t.set_fontfamily([CJK_FONT, *family[:-1]] if "$" in zh else family)
        for table, k, _, zh in ticks:
            table[k] = zh
        for ax in fig.axes:
            for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
                tick_fonts.append((label, label.get_fontfamily()))
                label.set_fontfamily(family)
        buf = BytesIO()
        if fmt == "png":
            fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
            data = png_with_alt(buf.getvalue(), describe(fig))
        else:
            fig.savefig(buf, format="pdf", dpi=200, bbox_inches="tight")
            data = buf.getvalue()
            if len(data) > PRINT_PDF_MAX:
                return None
        return data
    finally:
        for t, s, fam, _ in texts:
            t.set_text(s)
            t.set_fontfamily(fam)
        for table, k, en, _ in ticks:
            table[k] = en
        for label, fam in tick_fonts:
            label.set_fontfamily(fam)
        log.setLevel(level)
