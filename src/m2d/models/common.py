"""Shared plumbing for the book's torch models: seeding, parameter counts, the maximum-likelihood
training loop of the sequence models, and a versioned, corruption-safe weight cache.

A trained model is stored as ``<cache_dir>/<name>-<key>.pt`` holding ``{"state_dict": ...,
"extra": ...}``; the key hashes (code version, config, data selection), so changing any of them
retrains. Files are read with ``torch.load(..., weights_only=True)``; one that fails to load or does
not fit the model is retrained with a warning, never a crash (see :func:`m2d.cache.cached`).

Notebook: notebooks/02_attention.ipynb, notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2d import cache
from m2d.rng import torch_seed
from m2d.threads import torch_threads


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of the sequence models (:func:`fit_sequence_model`): AdamW with linear
    warm-up and cosine decay (:func:`warmup_cosine`); the epoch with the lowest validation bits is
    kept. Each model's configuration adds what it needs (its scored positions, its validation size).

    Attributes:
        epochs (int): passes over the training sequences
        batch_size (int): sequences per step
        lr (float): peak learning rate
        weight_decay (float): AdamW weight decay
        warmup_steps (int): linear warm-up steps
        seed (int): seeds initialisation, dropout and the batch order
    """

    epochs: int = 30
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_steps: int = 50
    seed: int = 0


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU) so training is reproducible."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def n_parameters(model) -> int:
    """Number of trainable parameters, sum of p.numel() over the parameters with requires_grad (the
    "parameters" rows of the Markov-vs-attention and neural k-gram tables).

    Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
    Args:
        model (torch.nn.Module): any model
    Returns:
        n (int): trainable parameters
    Raises:
        TypeError: ``model`` has no parameters() (not a torch module)
    """
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup_steps``, then a cosine decay to 0 at
    ``total_steps`` (for ``torch.optim.lr_scheduler.LambdaLR``).

    Raises:
        ValueError: a negative step or warm-up, or total_steps < warmup_steps
    """
    from m2d import checks

    step = checks.integer("step", step, low=0)
    warmup_steps = checks.integer("warmup_steps", warmup_steps, low=0)
    total_steps = checks.integer("total_steps", total_steps, low=warmup_steps)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    frac = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))


def fit_sequence_model(model, epoch_batches: Callable[[np.random.Generator], Iterable],
                       batch_loss: Callable[[Any], tuple[Any, int]], val_bits: Callable[[], float], *,
                       epochs: int, steps_per_epoch: int, lr: float, weight_decay: float,
                       warmup_steps: int | None, rng: int | np.random.Generator,
                       clip_norm: float | None = 1.0,
                       desc: str = "training", progress: bool = True) -> dict[str, Any]:
    """Maximum-likelihood training of a next-token model (Part II's melody models, chapter 5's code
    model and neural k-grams): AdamW, learning rate warmed up linearly then decayed along a cosine
    (:func:`warmup_cosine`; constant when ``warmup_steps`` is None), gradient norm clipped at
    ``clip_norm`` (None: no clipping), validation once per epoch, and the weights of the best
    validation epoch kept. Runs on one torch thread (restored afterwards): the matrices are
    small, and extra threads only added synchronisation (five- to tenfold slower on a shared machine).

    Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
    Args:
        model (torch.nn.Module): trained in place; ends in eval mode with the best weights
        epoch_batches (callable): ``rng -> iterable of batches`` for one epoch (all randomness from rng)
        batch_loss (callable): ``batch -> (mean loss over its targets, number of targets)``
        val_bits (callable): ``() -> validation bits per target`` (the model is in eval mode)
        epochs, steps_per_epoch (int): schedule length (steps_per_epoch = batches per epoch)
        lr, weight_decay (float): AdamW settings
        warmup_steps (int or None): warm-up length of the warm-up/cosine schedule (None: constant lr)
        rng (int or np.random.Generator): seeds torch and the batch order (an integer seed s
            gives ``seed_everything(s)`` and ``np.random.default_rng(s)``; a Generator gives one
            32-bit seed drawn from it)
        clip_norm (float or None): gradient-norm clip
        desc (str), progress (bool): tqdm bar, one tick per epoch
    Returns:
        extra (dict): ``train_bits`` and ``val_bits`` per epoch, ``best_epoch``, ``best_val_bits``,
        ``seconds``
    """
    import torch

    with torch_threads(1):  # tiny models: one thread is as fast and never oversubscribes
        # a Generator gives one 32-bit seed (numpy's legacy global seed takes no more)
        seed = int(rng.integers(2**32)) if isinstance(rng, np.random.Generator) else torch_seed(rng)
        seed_everything(seed)
        rng = np.random.default_rng(seed)
        total = epochs * steps_per_epoch
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        sched = None if warmup_steps is None else torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: warmup_cosine(step, warmup_steps, total))
        t0 = time.perf_counter()
        hist: dict[str, list[float]] = {"train_bits": [], "val_bits": []}
        best, best_state = np.inf, None
        bar = progress_bar(range(epochs), desc=desc, enabled=progress)
        for _ in bar:
            model.train()
            run, count = 0.0, 0
            for batch in epoch_batches(rng):
                loss, n = batch_loss(batch)
                opt.zero_grad()
                loss.backward()
                if clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
                opt.step()
                if sched is not None:
                    sched.step()
                run += float(loss.detach()) * n
                count += n
            hist["train_bits"].append(float(run / count / np.log(2.0)))
            model.eval()
            vb = float(val_bits())
            hist["val_bits"].append(vb)
            if vb < best:
                best = vb
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            bar.set_postfix(train=f"{hist['train_bits'][-1]:.3f}", val=f"{vb:.3f}")
        model.load_state_dict(best_state)
        model.eval()
        return {**hist, "best_epoch": int(np.argmin(hist["val_bits"])), "best_val_bits": float(best),
                "seconds": time.perf_counter() - t0}


def torch_device(device: str):
    """A torch device from its name ("cpu", or "cuda" on a machine with a GPU, e.g. Colab).

    Raises:
        ValueError: another name, or "cuda" where torch sees no GPU
    """
    import torch

    if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but torch sees no GPU here; use 'cpu'")
    return torch.device(device)


def progress_bar(iterable, desc: str = "", enabled: bool = True, **kwargs):
    """A tqdm progress bar over ``iterable`` for a reader watching a model train in Jupyter; off
    while the HTML book is built (``M2D_HTML_BUILD``), where it would be frozen into the page.

    Notebook: notebooks/02_attention.ipynb, 03_diffusion.ipynb, 05_landscape.ipynb
    """
    import os

    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, disable=not enabled or bool(os.environ.get("M2D_HTML_BUILD")),
                **kwargs)


def load_or_train(
    name: str,
    key_parts: dict[str, Any],
    make_model: Callable[[], Any],
    train: Callable[[Any], dict[str, Any]],
) -> tuple[Any, dict[str, Any]]:
    """Return a trained model from the cache, or train it (and cache it) when missing or corrupt.

    A cached file is served only if it matches its checksum (:func:`m2d.cache.cached`), its state
    dict has exactly the model's keys and shapes, and every weight is finite.

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

    holder = {"model": make_model(), "touched": False}

    def build() -> dict[str, Any]:
        if holder["touched"]:  # a rejected file may have been half loaded into it: start afresh
            holder["model"] = make_model()
        extra = train(holder["model"])
        return {"state_dict": {k: v.detach().clone()
                               for k, v in holder["model"].state_dict().items()},
                "extra": extra}

    def dump(obj: dict[str, Any], path: Path) -> None:
        torch.save(obj, path)

    def load(path: Path) -> dict[str, Any]:
        obj = torch.load(path, map_location="cpu", weights_only=True)
        holder["touched"] = True
        holder["model"].load_state_dict(obj["state_dict"])  # raises on other keys or shapes
        bad = [k for k, v in obj["state_dict"].items()
               if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if bad:
            raise ValueError(f"weights {bad[:3]} contain NaN or inf")
        return obj

    key = cache.cache_key(key_parts)
    obj = cache.cached(name, key, build, dump, load, suffix="pt")
    model = holder["model"]
    model.load_state_dict(obj["state_dict"])
    model.eval()
    return model, obj.get("extra", {})
