"""Random inputs, one convention for the whole book: every function that draws random numbers takes
``rng``, an integer seed or a ``numpy.random.Generator``, so every figure and sound is reproducible.

Notebook: every chapter
"""

from __future__ import annotations

import numpy as np


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from ``rng``: the Generator itself, or ``default_rng(seed)`` for an integer
    seed (None: fresh entropy, for interactive use only).

    Raises:
        ValueError: rng is neither an integer >= 0, a Generator nor None
    """
    if isinstance(rng, np.random.Generator) or rng is None:
        return np.random.default_rng(rng)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be an integer seed >= 0 or a numpy Generator, got {rng!r}")


def torch_seed(rng: int | np.random.Generator) -> int:
    """The seed of a ``torch.Generator`` for ``rng``: an integer seed is used as it is (so a seed
    gives the same draws as ``torch.Generator().manual_seed(seed)``); a numpy Generator gives one
    draw from it.

    Raises:
        ValueError: rng is neither an integer >= 0 nor a Generator
    """
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    raise ValueError(f"rng must be an integer seed >= 0 or a numpy Generator, got {rng!r}")


def torch_generator(rng: int | np.random.Generator):
    """A ``torch.Generator`` seeded by :func:`torch_seed` (``rng``: integer seed or numpy Generator)."""
    import torch

    return torch.Generator().manual_seed(torch_seed(rng))
