"""The historical timeline of the EP21 page (1906-2024) as data, and its figure.

Notebook: book/timeline.md
"""

from __future__ import annotations

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
    """Draw the milestones on a time axis, alternating above/below, coloured by book chapter.

    Args:
        ax (matplotlib.axes.Axes)
        milestones (sequence of Milestone)
    Returns:
        ax
    """
    from matplotlib.lines import Line2D

    years = [m.year for m in milestones]
    ax.axhline(0, color="k", lw=1)
    for i, m in enumerate(milestones):
        h = (1.0 + 0.45 * (i % 3)) * (1 if i % 2 == 0 else -1)
        c = CHAPTER_COLORS.get(m.chapter, "gray")
        ax.plot([m.year, m.year], [0, h], color=c, lw=1)
        ax.plot(m.year, 0, "o", color=c)
        ax.annotate(f"{m.year}\n{m.development}", (m.year, h), ha="center",
                    va="bottom" if h > 0 else "top", fontsize=8, color=c)
    ax.set_xlim(min(years) - 8, max(years) + 8)
    ax.set_ylim(-2.9, 2.9)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    handles = [Line2D([], [], color=c, marker="o", label=f"shown in {name}")
               for name, c in CHAPTER_COLORS.items()]
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    return ax
