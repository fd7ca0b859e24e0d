"""The historical timeline of the EP21 page (1906-2025) as data; its figure is
:func:`m2d.plotting.plot_timeline`.

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
    Milestone(1986, "Jordan (1986), Elman (1990): recurrent neural networks",
              "Hidden state, backpropagation through time", "Part II"),
    Milestone(1997, "Hochreiter & Schmidhuber: LSTM", "Gated memory cells", "Part II"),
    Milestone(2017, "Vaswani et al.: Transformer", "Softmax attention = dynamic stochastic matrix",
              "Part II"),
    Milestone(2019, "Music Transformer", "Long-range attention for symbolic music", "Part II"),
    Milestone(2020, "Ho et al.: DDPM", "Score matching, forward/reverse diffusion", "Part III"),
    Milestone(2022, "Riffusion", "Image diffusion on spectrograms", "Part III"),
    Milestone(2023, "MusicGen, MusicLM", "Token-based autoregressive audio generation",
              "Landscape"),
    Milestone(2024, "Stable Audio", "Diffusion in an autoencoder's latent space", "Landscape"),
    Milestone(2025, "ACE-Step", "Full-song latent diffusion, open weights", "Landscape"),
)

#: Colour of each chapter in the figure.
CHAPTER_COLORS = {"Part I": "C0", "Part II": "C1", "Part III": "C2", "Landscape": "C3"}
