"""Figures shared by the chapters: piano rolls, labelled matrix heatmaps, probability bars,
spectrogram patch grids and the timeline (matplotlib).

Every helper follows libfmp's convention: ``ax=None`` (or ``axes=None``) creates the figure, and
each returns ``(fig, ax, artist)`` so a cell can keep drawing on the same axes.

Notebook: every chapter
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d.pitch import PITCH_CLASSES, midi_name, onsets


def _axes(ax, figsize: tuple[float, float]):
    """``(fig, ax)``: a new figure with one axes when ``ax`` is None, else ``ax``'s figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize)
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
    if axes is None:
        import matplotlib.pyplot as plt

        n = len(patches)
        fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.2), squeeze=False)
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
    return fig, ax, markers


def _systems_cell_patch(x0: float, y0: float, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x0 + 0.01, y0 + 0.01), 0.98, 0.98, color=color, alpha=0.07, lw=0)
