"""Today's music generators as data: the map chapter 5's epigraph describes, open or closed weights
(horizontal) against discrete tokens with autoregression or a continuous space with diffusion
(vertical). The figure is :func:`m2d.plotting.plot_systems_map`.

The systems are those the EP21 lecture names: MusicLM and MusicGen (its token row), Riffusion,
Stable Audio and ACE-Step (its continuous row), and the Music Transformer (its timeline). Stable
Audio appears twice because it exists on both sides of the horizontal axis: the Stable Audio
service (weights never released) and Stable Audio Open (released weights). Each placement rests
on the cited paper or release:

- *open* means the trained weights can be downloaded (under whatever licence); *closed* means
  the model is reachable only through its makers' service, or not at all;
- *tokens* means the network predicts a sequence of discrete codes one at a time (symbolic events
  or a neural codec's codebook indices); *continuous* means it denoises a continuous array
  (a spectrogram image's latent, or an audio autoencoder's latent).

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

#: The two values of each axis, in the order the figure draws them (left to right, top to bottom).
WEIGHTS = ("closed", "open")
REPRESENTATIONS = ("tokens", "continuous")


class System(NamedTuple):
    name: str
    year: int            # year of the cited publication or release
    maker: str
    weights: str         # "open" or "closed" (see the module docstring)
    representation: str  # "tokens" or "continuous"
    how: str             # what the network models, in a few words
    cite: str            # key in book/references.bib


#: The seven systems of the map, by year.
SYSTEMS: tuple[System, ...] = (
    System("Music Transformer", 2019, "Google Magenta", "open", "tokens",
           "MIDI events; autoregressive Transformer, relative attention",
           "huang2019"),
    System("Riffusion", 2022, "Forsyth & Martiros", "open", "continuous",
           "Stable Diffusion fine-tuned on spectrogram images", "forsyth2022"),
    System("MusicLM", 2023, "Google", "closed", "tokens",
           "SoundStream and w2v-BERT tokens; hierarchical autoregression",
           "agostinelli2023"),
    System("MusicGen", 2023, "Meta", "open", "tokens",
           "EnCodec tokens, 4 codebooks; one autoregressive Transformer", "copet2023"),
    System("Stable Audio", 2024, "Stability AI", "closed", "continuous",
           "latent diffusion on an audio autoencoder's latents", "evans2024"),
    System("Stable Audio Open", 2024, "Stability AI", "open", "continuous",
           "latent diffusion (DiT) on an audio autoencoder's latents", "evans2024open"),
    System("ACE-Step", 2025, "ACE Studio & StepFun", "open", "continuous",
           "diffusion on a compressed autoencoder's latents (DCAE)", "gong2025"),
)

#: This book's two miniatures of chapter 5, drawn as hollow markers for comparison.
BOOK_MODELS: tuple[System, ...] = (
    System("this book: code Transformer", 2026, "chapter 5.3", "open", "tokens",
           "k-means codes of mel frames, Part II's Transformer", ""),
    System("this book: DDPM U-Net", 2026, "Part III", "open", "continuous",
           "8-bit log-mel patches, denoising diffusion", ""),
)


def quadrants(systems: Sequence[System] = SYSTEMS) -> dict[tuple[str, str], list[System]]:
    """The systems of each cell of the map, (weights, representation) -> systems by year.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        systems (sequence of System): the systems to place
    Returns:
        cells (dict): every one of the four (weights, representation) pairs, each with a list
            (possibly empty) sorted by year, then name
    Raises:
        ValueError: a system whose ``weights`` is not in WEIGHTS or whose ``representation`` is
            not in REPRESENTATIONS (naming the system and the value)
    """
    cells: dict[tuple[str, str], list[System]] = {(w, r): [] for r in REPRESENTATIONS
                                                  for w in WEIGHTS}
    for s in systems:
        if s.weights not in WEIGHTS:
            raise ValueError(f"{s.name}: weights must be one of {WEIGHTS}, got {s.weights!r}")
        if s.representation not in REPRESENTATIONS:
            raise ValueError(f"{s.name}: representation must be one of {REPRESENTATIONS}, "
                             f"got {s.representation!r}")
        cells[(s.weights, s.representation)].append(s)
    return {k: sorted(v, key=lambda s: (s.year, s.name)) for k, v in cells.items()}
