"""DDPM in torch for Part III: training with the simplified loss of Ho et al. (2020), the ancestral
sampler (Definition 21.10), DDIM with a chosen number of steps (Limit 3), the ELBO of a trained model
(Theorem 21.5) in bits per dimension, and a small noise predictor for 2-D toy data (Theorem 21.6).

The schedule arithmetic comes from :mod:`m2d.diffusion` (numpy, float64); only the network runs in
torch. Every random draw takes a seed.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from m2d import cache
from m2d import diffusion as df
from m2d.models import common
from m2d.models.unet import UNet, UNetConfig, timestep_embedding

#: Bumped whenever training, the network or the samplers change what they produce (invalidates caches).
CODE_VERSION = 1
#: Bumped whenever the ELBO estimate changes (invalidates cached ELBOs only; 2 = stratified steps).
ELBO_VERSION = 2


@dataclass(frozen=True)
class DDPMConfig:
    """Diffusion schedule and training settings.

    Attributes:
        T (int): number of diffusion steps
        schedule (str): ``"linear"`` or ``"cosine"`` (:func:`m2d.diffusion.make_schedule`)
        beta_start, beta_end (float): ends of the linear schedule
        steps (int): optimiser steps
        batch (int): patches per step
        lr (float): peak Adam learning rate (linear warm-up, then cosine decay to lr / 10)
        warmup (int): warm-up steps
        ema (float): decay of the exponential moving average of the weights (the EMA weights are kept)
        seed (int): seed of initialisation, batches, steps and noise
        unet (UNetConfig): network size
    """

    T: int = 1000
    schedule: str = "linear"
    beta_start: float = 1e-4
    beta_end: float = 0.02
    steps: int = 1000
    batch: int = 32
    lr: float = 2e-3
    warmup: int = 100
    ema: float = 0.995
    seed: int = 0
    unet: UNetConfig = field(default_factory=UNetConfig)

    def betas(self) -> np.ndarray:
        """beta_1..beta_T of this configuration."""
        return df.make_schedule(self.schedule, self.T, self.beta_start, self.beta_end)

    def as_dict(self) -> dict:
        return asdict(self)


@contextmanager
def threads(n: int | None):
    """Run torch with n intra-op threads inside the block (None: leave the setting alone).

    On a shared 2-core machine, two OpenMP threads that busy-wait for each other made training about
    5x slower than one thread (measured), so training and sampling here default to one thread.
    """
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


def _lr_at(step: int, config: DDPMConfig) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    p = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(p, 1.0))))


def l_simple(model: nn.Module, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
             alpha_bar: torch.Tensor) -> torch.Tensor:
    """Simplified loss of Ho et al.:
    L_simple = E || eps - eps_theta(sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, t) ||^2
    (mean over the batch and the dimensions).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model: eps_theta(x_t, t)
        x0 (torch.Tensor): clean data (B, ...)
        t (torch.Tensor): steps in 1..T, shape (B,)
        noise (torch.Tensor): eps, same shape as x0
        alpha_bar (torch.Tensor): alpha_bar_0..alpha_bar_T
    Returns:
        loss (torch.Tensor): scalar
    """
    a = alpha_bar[t].view(-1, *([1] * (x0.ndim - 1)))
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def train_eps_model(model: nn.Module, data: np.ndarray, config: DDPMConfig, progress: bool = True,
                    add_channel: bool = True, n_threads: int | None = 1) -> dict[str, Any]:
    """Train a noise predictor eps_theta with L_simple: t ~ U{1..T}, eps ~ N(0, I), Adam, EMA weights.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta(x_t, t), trained in place; ends holding the EMA weights
        data (np.ndarray): training examples (n, ...) in model units
        config (DDPMConfig): schedule and optimiser settings
        progress (bool): show a tqdm progress bar
        add_channel (bool): insert a channel axis (images (n, H, W) -> (n, 1, H, W))
        n_threads (int or None): torch threads while training (:func:`threads`)
    Returns:
        extra (dict): ``loss`` (per step), ``seconds`` (wall time), ``steps``, ``n_train``
    Raises:
        ValueError: empty data
    """
    if len(data) == 0:
        raise ValueError("no training data")
    with threads(n_threads):
        return _train(model, data, config, progress, add_channel)


def _train(model, data, config, progress, add_channel) -> dict[str, Any]:
    from tqdm.auto import tqdm

    common.seed_everything(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    x_all = _t(data)
    if add_channel:
        x_all = x_all[:, None]
    alpha_bar = _t(df.alpha_bars(config.betas()))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    losses = []
    model.train()
    start = time.perf_counter()
    for step in tqdm(range(config.steps), desc="training eps_theta", disable=not progress, mininterval=1.0):
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, config)
        idx = torch.randint(0, len(x_all), (config.batch,), generator=gen)
        t = torch.randint(1, config.T + 1, (config.batch,), generator=gen)
        x0 = x_all[idx]
        noise = torch.randn(x0.shape, generator=gen)
        loss = l_simple(model, x0, t, noise, alpha_bar)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        decay = min(config.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.dtype.is_floating_point:
                    ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
                else:
                    ema[k].copy_(v)
    seconds = time.perf_counter() - start
    model.load_state_dict(ema)
    model.eval()
    return {"loss": losses, "seconds": seconds, "steps": config.steps, "n_train": int(len(data))}


def load_or_train_unet(config: DDPMConfig, data: np.ndarray | Callable[[], np.ndarray],
                       data_selection: dict[str, Any], name: str = "ddpm-unet",
                       progress: bool = True) -> tuple[UNet, dict[str, Any]]:
    """The book's eps-prediction U-Net, from the weight cache or trained now (:func:`train_eps_model`).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        config (DDPMConfig): schedule, training and network settings (part of the cache key)
        data (np.ndarray or callable): training patches (n, H, W), or a function returning them
            (called only when training is needed)
        data_selection (dict): describes the data (source, split, patch settings) for the cache key
        name (str): cache file prefix
        progress (bool): tqdm progress bar while training
    Returns:
        model (UNet): in eval mode, EMA weights
        extra (dict): loss curve and training time, as recorded when it was trained
    """
    key = {"code": CODE_VERSION, "config": config.as_dict(), "data": data_selection}

    def train(model):
        x = data() if callable(data) else data
        return train_eps_model(model, x, config, progress=progress)

    torch.manual_seed(config.seed)
    return common.load_or_train(name, key, lambda: UNet(config.unet), train)


# --------------------------------------------------------------------------------------------------
# evaluation


def eval_loss_by_t(model: nn.Module, x0: np.ndarray, config: DDPMConfig, ts: Sequence[int],
                   seed: int = 0, add_channel: bool = True,
                   key_parts: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Held-out L_simple at chosen steps t, and the loss of the zero predictor eps_hat = 0 on the
    same noise (its expectation is 1 per dimension). One torch thread.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model, x0, config: the network, held-out data (n, H, W), its configuration
        ts (sequence of int): steps in 1..T
        seed (int): noise seed
        add_channel (bool): insert the channel axis
        key_parts (dict or None): cache key of the model and data (None: no caching)
    Returns:
        dict with ``t``, ``model`` and ``zero`` (arrays of the losses per step)
    Raises:
        ValueError: t outside 1..T
    """
    ts = [int(t) for t in ts]
    df._steps(np.asarray(ts), config.T, lo=1)

    def build() -> dict:
        with threads(1):
            return _eval_loss(model, x0, config, ts, seed, add_channel)

    if key_parts is None:
        out = build()
    else:
        key = cache.cache_key(CODE_VERSION, key_parts, len(x0), ts, seed)
        out = cache.cached("ddpm-heldout-loss", key, build, cache.dump_json, cache.load_json, suffix="json")
    return {k: np.asarray(v) for k, v in out.items()}


@torch.no_grad()
def _eval_loss(model, x0, config, ts, seed, add_channel) -> dict:
    gen = torch.Generator().manual_seed(seed)
    x = _t(x0)[:, None] if add_channel else _t(x0)
    alpha_bar = _t(df.alpha_bars(config.betas()))
    out_m, out_z = [], []
    for t in ts:
        noise = torch.randn(x.shape, generator=gen)
        tt = torch.full((len(x),), int(t), dtype=torch.long)
        out_m.append(float(l_simple(model, x, tt, noise, alpha_bar)))
        out_z.append(float((noise**2).mean()))
    return {"t": list(ts), "model": out_m, "zero": out_z}


def eps_fn_of(model: nn.Module, add_channel: bool = True, batch: int = 256) -> Callable:
    """Wrap a torch noise predictor as the numpy function eps(x_t, t) used by :mod:`m2d.diffusion`."""

    @torch.no_grad()
    def eps(x_t: np.ndarray, t: int) -> np.ndarray:
        x = _t(x_t)
        if add_channel:
            x = x[:, None]
        out = []
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            out.append(model(xb, torch.full((len(xb),), int(t), dtype=torch.long)))
        e = torch.cat(out).double().numpy()
        return e[:, 0] if add_channel else e

    return eps


def stratified_steps(T: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Steps t in 2..T for estimating a sum over t: geometric strata [e_i, e_{i+1}) covering 2..T, one
    t drawn uniformly in each, and the stratum widths as weights (sum of weights = T - 1).

    Raises:
        ValueError: T < 2 or n < 1
    """
    if T < 2 or n < 1:
        raise ValueError(f"need T >= 2 and n >= 1, got T = {T}, n = {n}")
    edges = np.unique(np.round(np.geomspace(2, T + 1, n + 1)).astype(int))
    rng = np.random.default_rng(seed)
    ts = np.array([rng.integers(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return ts, np.diff(edges).astype(float)


def elbo_bits_per_dim(model: nn.Module, x0: np.ndarray, config: DDPMConfig, n_t: int = 50, seed: int = 0,
                      bits: int = 8, key_parts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The negative ELBO of Theorem 21.5 for a trained model, term by term, in bits per dimension:
    L_T (exact), sum_{t=2}^T L_{t-1} and the discrete decoder L_0 (:func:`m2d.diffusion.elbo_terms`,
    variances beta_tilde_t). The sum is estimated by stratified sampling: 2..T is cut into ``n_t``
    strata with geometrically growing widths (L_{t-1} falls by orders of magnitude over the first steps,
    so those get strata of width 1), one step is drawn uniformly in each (seeded) and weighted by its
    stratum's width -- an unbiased estimate of the sum; one x_t per example and step.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta
        x0 (np.ndarray): held-out patches (n, H, W) on the 2^bits grid
        config (DDPMConfig): its schedule
        n_t (int): number of strata (steps t at which L_{t-1} is evaluated; fewer if strata merge)
        seed (int): noise seed
        bits (int): quantisation of the data
        key_parts (dict or None): cache key of the model and data (None: no caching)
    Returns:
        terms (dict): ``L_T``, ``sum_L``, ``L_0``, ``total`` in bits/dim, ``t`` and ``L`` (per step, bits/dim)
    """
    ts, weights = stratified_steps(config.T, n_t, seed)

    def build() -> dict:
        with threads(1):
            terms = df.elbo_terms(np.asarray(x0, dtype=float), eps_fn_of(model), config.betas(), seed, ts=ts,
                                  weights=weights, variance="posterior", decoder="discrete", bits=bits)
        ln2 = np.log(2.0)
        out = {k: float(terms[k] / ln2) for k in ("L_T", "sum_L", "L_0", "total")}
        out.update(t=terms["t"].tolist(), L=(terms["L"] / ln2).tolist())
        return out

    if key_parts is None:
        out = build()
    else:
        key = cache.cache_key(CODE_VERSION, ELBO_VERSION, key_parts, len(x0), n_t, seed, bits)
        out = cache.cached("ddpm-elbo", key, build, cache.dump_json, cache.load_json, suffix="json")
    return {**out, "t": np.asarray(out["t"]), "L": np.asarray(out["L"])}


# --------------------------------------------------------------------------------------------------
# samplers


def _model_eps(model: nn.Module, x: torch.Tensor, t: int) -> torch.Tensor:
    return model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))


def _clip_range(clip) -> tuple[float, float]:
    """(lo, hi) for clipping x0_hat: ``True`` means the data range [-1, 1]; a pair is used as given."""
    if clip is True:
        return -1.0, 1.0
    lo, hi = (float(v) for v in clip)
    if not lo < hi:
        raise ValueError(f"clip range must have lo < hi, got {clip}")
    return lo, hi


@torch.no_grad()
def ddpm_sample(model: nn.Module, shape: Sequence[int], betas: np.ndarray, seed: int,
                variance: str = "beta", clip: bool = True,
                record: Sequence[int] = ()) -> tuple[np.ndarray, dict]:
    """Ancestral sampling (Definition 21.10): x_T ~ N(0, I), then for t = T..1
    x_{t-1} = mu_theta(x_t, t) + sigma_t z, z ~ N(0, I) (no noise at t = 1), with
    mu_theta = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t).

    With ``clip`` the predicted x_0 is clipped to [-1, 1] and mu_theta is the posterior mean
    mu_tilde_t(x0_hat, x_t) (identical without clipping), as in Ho et al.'s implementation.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta(x_t, t)
        shape (sequence of int): batch shape, e.g. (n, 1, 64, 64)
        betas (np.ndarray): beta_1..beta_T (the model's training schedule)
        seed (int): seed of x_T and of every z
        variance (str): sigma_t^2 = beta_t (``"beta"``) or beta_tilde_t (``"posterior"``)
        clip (bool or (lo, hi)): clip the predicted x_0 to [-1, 1] (True), to [lo, hi], or not (False)
        record (sequence of int): steps t whose x_t is kept (the reverse trajectory)
    Returns:
        x0 (np.ndarray): samples, float32, shape ``shape``
        trajectory (dict[int, np.ndarray]): x_t at the recorded steps
    """
    b = df.check_betas(betas)
    T = b.size
    ab = df.alpha_bars(b)
    c0, ct, _ = df.posterior_coefficients(b)
    sig = np.sqrt(df.reverse_variances(b, variance))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(tuple(shape), generator=gen)
    traj = {}
    record = set(int(r) for r in record)
    for t in range(T, 0, -1):
        if t in record:
            traj[t] = x.numpy().copy()
        eps = _model_eps(model, x, t)
        if clip:
            x0 = ((x - np.sqrt(1 - ab[t]) * eps) / np.sqrt(ab[t])).clamp(*_clip_range(clip))
            mean = c0[t] * x0 + ct[t] * x
        else:
            mean = (x - b[t - 1] / np.sqrt(1 - ab[t]) * eps) / np.sqrt(1 - b[t - 1])
        x = mean + (sig[t] * torch.randn(x.shape, generator=gen) if t > 1 else 0.0)
    if 0 in record:
        traj[0] = x.numpy().copy()
    return x.numpy().astype(np.float32), traj


def ddim_timesteps(T: int, steps: int) -> np.ndarray:
    """The S steps tau_S > ... > tau_1 DDIM visits: evenly spaced from T down to 1, as integers.

    Raises:
        ValueError: steps outside 1..T
    """
    if not 1 <= steps <= T:
        raise ValueError(f"the number of DDIM steps must be in 1..{T}, got {steps}")
    return np.unique(np.round(np.linspace(1, T, steps)).astype(int))[::-1]


@torch.no_grad()
def ddim_sample(model: nn.Module, shape: Sequence[int], betas: np.ndarray, steps: int, seed: int,
                eta: float = 0.0, clip: bool = True, record: bool = False) -> tuple[np.ndarray, dict]:
    """DDIM (Song, Meng & Ermon 2021): reuse a DDPM-trained eps_theta but jump between the steps
    tau_S > ... > tau_1 of :func:`ddim_timesteps`:
    x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - s^2) eps_hat + s z, with
    x0_hat = (x_t - sqrt(1 - abar_t) eps_theta) / sqrt(abar_t) and
    s = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev); eta = 0 is deterministic.
    After tau_1 it returns x0_hat (abar_0 = 1).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model, shape, betas, seed: as in :func:`ddpm_sample`
        steps (int): number of network evaluations S, in 1..T
        eta (float): 0 (deterministic DDIM) ... 1 (DDPM-like noise)
        clip (bool or (lo, hi)): clip x0_hat to [-1, 1] (True) or [lo, hi] (eps_hat is then recomputed
            from it)
        record (bool): keep x at every visited step
    Returns:
        x0 (np.ndarray), trajectory (dict[int, np.ndarray])
    Raises:
        ValueError: steps outside 1..T, eta < 0
    """
    b = df.check_betas(betas)
    ab = df.alpha_bars(b)
    taus = ddim_timesteps(b.size, steps)
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(tuple(shape), generator=gen)
    traj = {}
    for i, t in enumerate(taus):
        if record:
            traj[int(t)] = x.numpy().copy()
        a, a_prev = ab[t], (ab[taus[i + 1]] if i + 1 < len(taus) else 1.0)
        eps = _model_eps(model, x, t)
        x0 = (x - np.sqrt(1 - a) * eps) / np.sqrt(a)
        if clip:
            x0 = x0.clamp(*_clip_range(clip))
            eps = (x - np.sqrt(a) * x0) / np.sqrt(1 - a)
        s = eta * np.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
        x = np.sqrt(a_prev) * x0 + np.sqrt(max(1 - a_prev - s * s, 0.0)) * eps
        if s > 0:
            x = x + s * torch.randn(x.shape, generator=gen)
    if record:
        traj[0] = x.numpy().copy()
    return x.numpy().astype(np.float32), traj


def compare_samplers(model: nn.Module, config: DDPMConfig, n: int, shape: Sequence[int],
                     ddim_steps: Sequence[int] = (100, 50, 20, 10), etas: Sequence[float] = (0.0,),
                     seed: int = 0, clip=True, record: Sequence[int] = (),
                     key_parts: dict[str, Any] | None = None) -> dict[str, dict]:
    """Draw n samples with ancestral DDPM (T steps) and with DDIM at each number of steps and each eta,
    timing each (wall clock, one torch thread). Results are cached when ``key_parts`` identifies the
    model (the timings are then those measured when the samples were first drawn).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta
        config (DDPMConfig): its schedule
        n (int): samples per sampler
        shape (sequence of int): one sample's shape, e.g. (1, 64, 64)
        ddim_steps (sequence of int): DDIM step counts
        etas (sequence of float): DDIM noise levels (0 = deterministic; 1 = as much noise as DDPM)
        seed (int): the same x_T seed for every sampler
        clip: x0_hat clipping of both samplers (``True`` = [-1, 1], or a (lo, hi) pair)
        record (sequence of int): steps t at which the DDPM states are kept (``DDPM["trajectory"]``)
        key_parts (dict or None): cache key of the trained model (None: no caching)
    Returns:
        results (dict): name -> {``samples`` (n, *shape), ``seconds``, ``steps``, ``eta``}, names
        ``"DDPM"``, ``"DDIM-S"`` (eta = 0) and ``"DDIM-S-eta<eta>"``; the DDPM entry also has
        ``trajectory`` (dict t -> (n, *shape))
    """
    betas = config.betas()
    plan = [("DDPM", config.T, 1.0)] + [
        (f"DDIM-{s}" + (f"-eta{e:g}" if e else ""), int(s), float(e)) for e in etas for s in ddim_steps]
    record = sorted({int(r) for r in record}, reverse=True)

    def build() -> dict:
        out = {}
        for name, steps, eta in plan:
            with threads(1):
                start = time.perf_counter()
                if name == "DDPM":
                    x, traj = ddpm_sample(model, (n, *shape), betas, seed, clip=clip, record=record)
                else:
                    x, traj = ddim_sample(model, (n, *shape), betas, steps, seed, eta=eta, clip=clip)
                seconds = time.perf_counter() - start
            out[name] = {"samples": x, "seconds": seconds, "steps": steps, "eta": eta}
            if name == "DDPM":
                out[name]["trajectory"] = traj
        return out

    if key_parts is None:
        return build()

    def dump(obj: dict, path: Path) -> None:
        arrays = {}
        for name, r in obj.items():
            arrays[f"{name}/samples"] = r["samples"]
            arrays[f"{name}/meta"] = np.array([r["seconds"], r["steps"], r["eta"]])
        for t, x in obj["DDPM"]["trajectory"].items():
            arrays[f"DDPM/trajectory/{t}"] = x
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    def load(path: Path) -> dict:
        with np.load(path, allow_pickle=False) as z:
            out = {}
            for name, _, _ in plan:
                meta = z[f"{name}/meta"]
                out[name] = {"samples": z[f"{name}/samples"], "seconds": float(meta[0]),
                             "steps": int(meta[1]), "eta": float(meta[2])}
            out["DDPM"]["trajectory"] = {t: z[f"DDPM/trajectory/{t}"] for t in record}
        return out

    key = cache.cache_key(CODE_VERSION, key_parts, n, list(shape), [p[1:] for p in plan], seed,
                          list(_clip_range(clip)), record)
    return cache.cached("ddpm-samples", key, build, dump, load, suffix="npz")


# --------------------------------------------------------------------------------------------------
# a noise predictor for 2-D toy data (Theorem 21.6 where the truth is known)


class ToyEpsMLP(nn.Module):
    """eps_theta(x_t, t) for points in R^d: an MLP on [x_t, embedding(t)].

    Args:
        dim (int): data dimension
        hidden (int): width
        t_dim (int): size of the sinusoidal time embedding
    """

    def __init__(self, dim: int = 2, hidden: int = 128, t_dim: int = 32):
        super().__init__()
        self.t_dim = t_dim
        self.net = nn.Sequential(
            nn.Linear(dim + t_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, timestep_embedding(t, self.t_dim)], dim=1))


def load_or_train_toy(mixture: df.GaussianMixture, config: DDPMConfig, n_data: int = 20_000,
                      progress: bool = False) -> tuple[ToyEpsMLP, dict[str, Any]]:
    """A :class:`ToyEpsMLP` trained with L_simple on ``n_data`` samples of a Gaussian mixture (cached).

    Notebook: notebooks/03_diffusion.ipynb
    """
    key = {"code": CODE_VERSION, "config": config.as_dict(), "n_data": n_data,
           "mixture": [mixture.weights.tolist(), mixture.means.tolist(), mixture.stds.tolist()]}

    def train(model):
        x = mixture.sample(n_data, np.random.default_rng(config.seed)).astype(np.float32)
        return train_eps_model(model, x, config, progress=progress, add_channel=False)

    torch.manual_seed(config.seed)
    return common.load_or_train("toy-eps", key, lambda: ToyEpsMLP(mixture.dim), train)


# --------------------------------------------------------------------------------------------------
# the chapter's model


def chapter_model(config: DDPMConfig | None = None, patches=None,
                  progress: bool = True) -> tuple[UNet, dict[str, Any], dict[str, Any]]:
    """The chapter's "Riffusion in miniature" model: the U-Net trained with L_simple on the 8-bit
    log-mel patches of the Bach training split (:func:`m2d.spectro.load_patches`), from the cache when
    available.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        config (DDPMConfig or None): training configuration (default ``DDPMConfig()``)
        patches (spectro.PatchConfig or None): patch extraction (default ``PatchConfig()``)
        progress (bool): tqdm progress bar while training
    Returns:
        model (UNet), extra (dict: loss curve, training seconds), key_parts (dict identifying the model,
        for caching what is computed from it)
    """
    from m2d import spectro

    config = config or DDPMConfig()
    patches = patches or spectro.PatchConfig()
    selection = {"source": "bach", "split": "train", "patches": patches.as_dict(),
                 "spectro": spectro.SPECTRO_VERSION, "db_range": [spectro.DB_LO, spectro.DB_HI]}
    model, extra = load_or_train_unet(config, lambda: spectro.load_patches("train", patches), selection,
                                      progress=progress)
    return model, extra, {"code": CODE_VERSION, "config": config.as_dict(), "data": selection}


# Part III's sampler comparison and ELBO, as one definition: chapter 5 calls the same functions,
# so it reuses Part III's cached results and cannot drift from them.
CHAPTER_N_SAMPLES = 32
CHAPTER_DDIM_STEPS = (100, 50, 20, 10)
CHAPTER_ETAS = (0.0, 1.0)
CHAPTER_TRAJECTORY = (1000, 800, 600, 400, 250, 100, 30, 0)
CHAPTER_ELBO_PATCHES = 128
CHAPTER_ELBO_STEPS = 40


def centred_clip(train_patches: np.ndarray) -> tuple[float, float]:
    """Part III's clipping interval for the predicted x0: [2 m - 1, 1], with m the mean of the
    training patches (in [-1, 1]), so clipping does not pull the mean of x0_hat away from the data's.

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    """
    return 2 * float(np.mean(train_patches)) - 1, 1.0


def chapter_samples(model: nn.Module, config: DDPMConfig, key_parts: dict[str, Any],
                    clip: tuple[float, float], shape: Sequence[int] = (1, 64, 64)) -> dict[str, dict]:
    """Part III's samples: :func:`compare_samplers` with ``CHAPTER_N_SAMPLES`` samples, ancestral DDPM
    and DDIM at ``CHAPTER_DDIM_STEPS`` x ``CHAPTER_ETAS``, seed 0, DDPM states kept at
    ``CHAPTER_TRAJECTORY`` (cached under ``key_parts``).

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    """
    return compare_samplers(model, config, CHAPTER_N_SAMPLES, shape, ddim_steps=CHAPTER_DDIM_STEPS,
                            etas=CHAPTER_ETAS, seed=0, clip=clip, record=CHAPTER_TRAJECTORY,
                            key_parts=key_parts)


def chapter_elbo(model: nn.Module, test_patches: np.ndarray, config: DDPMConfig,
                 key_parts: dict[str, Any]) -> dict:
    """Part III's ELBO (Theorem 21.5) in bits per dimension: :func:`elbo_bits_per_dim` on the first
    ``CHAPTER_ELBO_PATCHES`` test patches with ``CHAPTER_ELBO_STEPS`` stratified steps, seed 0 (cached).

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    """
    return elbo_bits_per_dim(model, test_patches[:CHAPTER_ELBO_PATCHES], config, n_t=CHAPTER_ELBO_STEPS,
                             seed=0, key_parts=key_parts)
