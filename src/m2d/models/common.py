"""Shared plumbing for the book's torch models: seeding and a versioned, corruption-safe weight cache.

A trained model is stored as ``<cache_dir>/<name>-<key>.pt`` holding ``{"state_dict": ...,
"extra": ...}``; the key hashes (code version, config, data selection), so changing any of them
retrains. Files are read with ``torch.load(..., weights_only=True)``; one that fails to load or does
not fit the model is retrained with a warning, never a crash (see :func:`m2d.cache.cached`).

Notebook: notebooks/02_attention.ipynb, notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from m2d import cache


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU) so training is reproducible."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup_steps``, then a cosine decay to 0 at
    ``total_steps`` (for ``torch.optim.lr_scheduler.LambdaLR``)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    frac = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))


def load_or_train(
    name: str,
    key_parts: dict[str, Any],
    make_model: Callable[[], Any],
    train: Callable[[Any], dict[str, Any]],
) -> tuple[Any, dict[str, Any]]:
    """Return a trained model from the cache, or train it (and cache it) when missing or corrupt.

    Args:
        name (str): file-name prefix, e.g. ``"transformer"``
        key_parts (dict): everything the weights depend on (config, data selection, code version)
        make_model (callable): builds a fresh, untrained ``torch.nn.Module``
        train (callable): trains that module in place and returns JSON-able extras (e.g. the loss
            curve, the training time)
    Returns:
        model (torch.nn.Module): in eval mode
        extra (dict): what ``train`` returned when the model was trained
    """
    import torch

    model = make_model()

    def build() -> dict[str, Any]:
        extra = train(model)
        return {"state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "extra": extra}

    def dump(obj: dict[str, Any], path: Path) -> None:
        torch.save(obj, path)

    def load(path: Path) -> dict[str, Any]:
        obj = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(obj["state_dict"])  # raises on a mismatched/corrupt file
        return obj

    key = cache.cache_key(key_parts)
    obj = cache.cached(name, key, build, dump, load, suffix="pt")
    model.load_state_dict(obj["state_dict"])
    model.eval()
    return model, obj.get("extra", {})
