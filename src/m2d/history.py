"""The historical timeline of the EP21 page (1906-2024) as data, and its figure.

Notebook: book/timeline.md
"""

from __future__ import annotations

import textwrap
from typing import NamedTuple


class Milestone(NamedTuple):
    year: int
    development: str
    core: str
    chapter: str  # where the book demonstrates it


#: The page's table, with the chapter of this book that shows each idea at work.
TIMELINE: tuple[Milestone, ...] = (
    Milestone(1906, "Markov formalizes dependent random variables", "Transition matrix",
              "Part I"),
    Milestone(1957, "Hiller & Isaacson: Illiac Suite", "Markov chain on Z12", "Part I"),
    Milestone(1986, "Elman / Jordan: recurrent neural networks",
              "Hidden state, backpropagation through time", "Part II"),
    Milestone(1997, "Hochreiter & Schmidhuber: LSTM", "Gated memory cells", "Part II"),
    Milestone(2017, "Vaswani et al.: Transformer", "Softmax attention = dynamic stochastic matrix",
              "Part II"),
    Milestone(2019, "Music Transformer", "Long-range attention for symbolic music", "Part II"),
    Milestone(2020, "Ho et al.: DDPM", "Score matching, forward/reverse diffusion", "Part III"),
    Milestone(2022, "Riffusion", "Image diffusion on spectrograms", "Part III"),
    Milestone(2023, "MusicGen, MusicLM", "Token-based autoregressive audio generation",
              "Landscape"),
    Milestone(2024, "ACE-Step, Stable Audio", "Full-song diffusion in latent space", "Landscape"),
)

#: Colour of each chapter in the figure.
CHAPTER_COLORS = {"Part I": "C0", "Part II": "C1", "Part III": "C2", "Landscape": "C3"}


def plot_timeline(ax, milestones=TIMELINE):
    """Draw the milestones in order, evenly spaced (1906-1957 would otherwise squeeze 2017-2024
    into a corner), alternating above/below the axis, coloured by the chapter that shows them.

    Args:
        ax (matplotlib.axes.Axes)
        milestones (sequence of Milestone)
    Returns:
        ax
    """
    from matplotlib.lines import Line2D

    ax.axhline(0, color="k", lw=1)
    for i, m in enumerate(milestones):
        h = (1.0 + 0.5 * (i % 2 == 0)) * (1 if i % 2 == 0 else -1)
        c = CHAPTER_COLORS.get(m.chapter, "gray")
        ax.plot([i, i], [0, h], color=c, lw=1)
        ax.plot(i, 0, "o", color=c, ms=8)
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
    return ax
