"""Figures shared by the chapters: piano rolls and labelled matrix heatmaps (matplotlib).

Notebook: every chapter
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d.markov import PITCH_CLASSES


def midi_name(m: int) -> str:
    """Scientific pitch name of a MIDI number, e.g. 60 -> 'C4'."""
    return f"{PITCH_CLASSES[int(m) % 12]}{int(m) // 12 - 1}"


def piano_roll(ax, pitches, durations=0.5, color: str = "C0", title: str | None = None):
    """Draw a melody as a piano roll: one bar per note, time in quarter notes, pitch on the y axis.

    Args:
        ax (matplotlib.axes.Axes): where to draw
        pitches (array of int): MIDI numbers
        durations (array of float or float): quarter notes per note
    Returns:
        ax
    """
    p = np.asarray(pitches, dtype=int)
    d = np.broadcast_to(np.asarray(durations, dtype=float), p.shape)
    onsets = np.concatenate([[0.0], np.cumsum(d)[:-1]])
    ax.barh(p, d, left=onsets, height=0.8, color=color, edgecolor="k", linewidth=0.3)
    lo, hi = p.min() - 1, p.max() + 1
    ticks = [m for m in range(lo, hi + 1) if m % 12 in (0, 4, 7)]
    ax.set_yticks(ticks, [midi_name(m) for m in ticks])
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ax.set_xlim(0, onsets[-1] + d[-1])
    ax.set_xlabel("time (quarter notes)")
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def note_rectangles(pitches, durations=0.5) -> list[np.ndarray]:
    """Piano-roll rectangles (4 corners each, time in quarter notes x MIDI pitch) for a
    ``PolyCollection``: the cheap-to-update form of :func:`piano_roll` used by widgets."""
    p = np.asarray(pitches, dtype=float)
    d = np.broadcast_to(np.asarray(durations, dtype=float), p.shape)
    t0 = np.concatenate([[0.0], np.cumsum(d)[:-1]])
    return [np.array([[a, m - 0.4], [a + w, m - 0.4], [a + w, m + 0.4], [a, m + 0.4]])
            for a, w, m in zip(t0, d, p, strict=True)]


def matrix_heatmap(ax, M, labels: Sequence[str] | None = None, title: str | None = None,
                   annotate: bool | None = None, vmax: float | None = None, cmap: str = "viridis",
                   xlabel: str = "next", ylabel: str = "current"):
    """Heatmap of a (stochastic) matrix with row/column labels; small matrices get their numbers.

    Returns:
        image (matplotlib.image.AxesImage)
    """
    M = np.asarray(M, dtype=float)
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
    return im


def distribution_bars(ax, p, labels: Sequence[str] = PITCH_CLASSES, color: str = "C1",
                      title: str | None = None, width: float = 0.8, offset: float = 0.0,
                      label: str | None = None):
    """Bar chart of a probability vector over labelled states."""
    p = np.asarray(p, dtype=float)
    x = np.arange(p.size)
    ax.bar(x + offset, p, width=width, color=color, label=label)
    ax.set_xticks(x, labels[: p.size])
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    return ax
