"""DDPM in torch for Part III: training with the simplified loss of Ho et al. (2020), the ELBO of a
trained model (Theorem 21.5) in bits per dimension, the comparison of samplers (Limit 3; the samplers
themselves are in :mod:`m2d.models.sampling`), the quality tables, and a small noise predictor for 2-D
toy data (Theorem 21.6).

The schedule arithmetic comes from :mod:`m2d.diffusion` (numpy, float64); only the network runs in
torch. Random inputs are ``rng`` (an integer seed or a numpy Generator); ``DDPMConfig.seed`` keeps its
name because it is part of the trained model's cache key.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from m2d import cache
from m2d import diffusion as df
from m2d.models import common, sampling
from m2d.models.unet import UNet, UNetConfig, timestep_embedding
from m2d.rng import as_generator, torch_seed
from m2d.threads import torch_threads

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

    def __post_init__(self) -> None:
        from m2d import checks

        for name in ("T", "steps", "batch"):
            checks.integer(name, getattr(self, name), low=1)
        checks.integer("warmup", self.warmup, low=0)
        checks.integer("seed", self.seed, low=0)
        checks.real("lr", self.lr, low=0, low_open=True)
        checks.real("ema", self.ema, low=0, high=1, high_open=True)
        self.betas()  # the schedule's own checks (kind, order, range)

    def betas(self) -> np.ndarray:
        """beta_1..beta_T of this configuration."""
        return df.make_schedule(self.schedule, self.T, self.beta_start, self.beta_end)

    def noise_schedule(self) -> df.NoiseSchedule:
        """This configuration's :class:`m2d.diffusion.NoiseSchedule` (validated once)."""
        return df.NoiseSchedule(self.betas())

    def as_dict(self) -> dict:
        return asdict(self)


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


def _lr_at(step: int, config: DDPMConfig) -> float:
    """Linear warm-up, then the cosine decay of :func:`m2d.models.common.warmup_cosine` rescaled to
    end at lr / 10. The warm-up keeps the product order lr * (step + 1) / warmup: the rounding of
    ``warmup_cosine``'s (step + 1) / warmup differs in the last bit, and the trained weights would
    follow."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    return config.lr * (0.1 + 0.9 * common.warmup_cosine(step, config.warmup, config.steps))


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
                    add_channel: bool = True, n_threads: int | None = 1, device: str = "cpu",
                    checkpoints: Sequence[int] = (),
                    on_checkpoint: Callable[[int, nn.Module], dict] | None = None) -> dict[str, Any]:
    """Train a noise predictor eps_theta with L_simple: t ~ U{1..T}, eps ~ N(0, I), Adam, EMA weights.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta(x_t, t), trained in place; ends holding the EMA weights
        data (np.ndarray): training examples (n, ...) in model units
        config (DDPMConfig): schedule and optimiser settings
        progress (bool): show a tqdm progress bar
        add_channel (bool): insert a channel axis (images (n, H, W) -> (n, 1, H, W))
        n_threads (int or None): torch threads while training (:func:`m2d.threads.torch_threads`;
            on a shared 2-core machine two busy-waiting OpenMP threads made training about 5x slower)
        device (str): ``"cpu"`` or ``"cuda"`` (a GPU, e.g. in Colab). Batches, steps and noise are
            drawn on the CPU from the seed either way; the model ends on the CPU
        checkpoints (sequence of int): steps after which ``on_checkpoint`` is called
        on_checkpoint (callable or None): f(step, ema_model) -> dict of measurements (e.g. a Frechet
            distance), recorded in ``extra["curve"]`` with the training minutes so far (the time spent
            in f is not counted)
    Returns:
        extra (dict): ``loss`` (per step), ``seconds`` (wall time of training), ``steps``,
        ``n_train``, ``device`` and ``curve`` (one dict per checkpoint)
    Raises:
        ValueError: empty data, or a device torch cannot use
    """
    if len(data) == 0:
        raise ValueError("no training data")
    dev = common.torch_device(device)
    with torch_threads(n_threads):
        try:
            return _train(model, data, config, progress, add_channel, dev, checkpoints,
                          on_checkpoint)
        finally:
            model.to("cpu")


def _ema_copy(model: nn.Module, ema: dict) -> nn.Module:
    import copy

    m = copy.deepcopy(model).to("cpu")
    m.load_state_dict({k: v.detach().to("cpu") for k, v in ema.items()})
    return m.eval()


def _train(model, data, config, progress, add_channel, dev=None, checkpoints=(),
           on_checkpoint=None) -> dict[str, Any]:
    common.seed_everything(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    x_all = _t(data)
    if add_channel:
        x_all = x_all[:, None]
    dev = dev or torch.device("cpu")
    model.to(dev)
    alpha_bar = _t(config.noise_schedule().alpha_bar.copy()).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    losses, curve, checkpoints = [], [], {int(c) for c in checkpoints}
    model.train()
    start = time.perf_counter()
    paused = 0.0
    for step in common.progress_bar(range(config.steps), desc="training eps_theta", enabled=progress,
                                    mininterval=1.0):
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, config)
        idx = torch.randint(0, len(x_all), (config.batch,), generator=gen)
        t = torch.randint(1, config.T + 1, (config.batch,), generator=gen)
        x0 = x_all[idx]
        noise = torch.randn(x0.shape, generator=gen)
        x0, t, noise = x0.to(dev), t.to(dev), noise.to(dev)
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
        if on_checkpoint is not None and step + 1 in checkpoints:
            pause = time.perf_counter()
            minutes = (pause - start - paused) / 60
            window = losses[-100:]
            curve.append({"step": step + 1, "minutes": minutes,
                          "loss": float(np.mean(window)),
                          **on_checkpoint(step + 1, _ema_copy(model, ema))})
            paused += time.perf_counter() - pause
    seconds = time.perf_counter() - start - paused
    model.load_state_dict(ema)
    model.eval()
    return {"loss": losses, "seconds": seconds, "steps": config.steps, "n_train": int(len(data)),
            "device": dev.type, "curve": curve}


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

    def make() -> UNet:  # seeded here, so a retrain after a rejected file starts identically
        torch.manual_seed(config.seed)
        return UNet(config.unet)

    return common.load_or_train(name, key, make, train)


# --------------------------------------------------------------------------------------------------
# evaluation


def eval_loss_by_t(model: nn.Module, x0: np.ndarray, config: DDPMConfig, ts: Sequence[int],
                   rng: int | np.random.Generator = 0, add_channel: bool = True,
                   key_parts: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Held-out L_simple at chosen steps t, and the loss of the zero predictor eps_hat = 0 on the
    same noise (its expectation is 1 per dimension). One torch thread.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model, x0, config: the network, held-out data (n, H, W), its configuration
        ts (sequence of int): steps in 1..T
        rng (int or np.random.Generator): noise (an integer seed is part of the cache key)
        add_channel (bool): insert the channel axis
        key_parts (dict or None): cache key of the model and data (None: no caching)
    Returns:
        dict with ``t``, ``model`` and ``zero`` (arrays of the losses per step)
    Raises:
        ValueError: t outside 1..T
    """
    ts = [int(t) for t in ts]
    df.schedule._steps(np.asarray(ts), config.T, lo=1)
    seed = torch_seed(rng)

    def build() -> dict:
        with torch_threads(1):
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
    alpha_bar = _t(config.noise_schedule().alpha_bar.copy())
    out_m, out_z = [], []
    for t in ts:
        noise = torch.randn(x.shape, generator=gen)
        tt = torch.full((len(x),), int(t), dtype=torch.long)
        out_m.append(float(l_simple(model, x, tt, noise, alpha_bar)))
        out_z.append(float((noise**2).mean()))
    return {"t": list(ts), "model": out_m, "zero": out_z}


def eps_fn_of(model: nn.Module, add_channel: bool = True, batch: int = 256,
              device: str = "cpu") -> Callable:
    """Wrap a torch noise predictor as the numpy function eps(x_t, t) used by :mod:`m2d.diffusion`
    (evaluated on ``device``: "cpu", or "cuda" with a GPU; the model is moved there)."""
    dev = common.torch_device(device)
    model.to(dev)

    @torch.no_grad()
    def eps(x_t: np.ndarray, t: int) -> np.ndarray:
        x = _t(x_t).to(dev)
        if add_channel:
            x = x[:, None]
        out = []
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            out.append(model(xb, torch.full((len(xb),), int(t), dtype=torch.long, device=dev)))
        e = torch.cat(out).double().cpu().numpy()
        return e[:, 0] if add_channel else e

    return eps


def stratified_steps(T: int, n: int, rng: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """Steps t in 2..T for estimating a sum over t: geometric strata [e_i, e_{i+1}) covering 2..T, one
    t drawn uniformly in each, and the stratum widths as weights (sum of weights = T - 1).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        T (int): number of steps, >= 2
        n (int): number of strata, >= 1 (fewer if strata merge)
        rng (int or np.random.Generator): the draw within each stratum
    Returns:
        ts (np.ndarray of int), weights (np.ndarray)
    Raises:
        ValueError: T < 2 or n < 1
    """
    if T < 2 or n < 1:
        raise ValueError(f"need T >= 2 and n >= 1, got T = {T}, n = {n}")
    edges = np.unique(np.round(np.geomspace(2, T + 1, n + 1)).astype(int))
    rng = as_generator(rng)
    ts = np.array([rng.integers(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return ts, np.diff(edges).astype(float)


def elbo_bits_per_dim(model: nn.Module, x0: np.ndarray, config: DDPMConfig, n_t: int = 50,
                      rng: int | np.random.Generator = 0, bits: int = 8,
                      key_parts: dict[str, Any] | None = None) -> dict[str, Any]:
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
        rng (int or np.random.Generator): steps and noise (an integer seed is part of the cache key;
            a Generator gives one seed drawn from it)
        bits (int): quantisation of the data
        key_parts (dict or None): cache key of the model and data (None: no caching)
    Returns:
        terms (dict): ``L_T``, ``sum_L``, ``L_0``, ``total`` in bits/dim, ``t`` and ``L`` (per step, bits/dim)
    """
    seed = torch_seed(rng)
    ts, weights = stratified_steps(config.T, n_t, seed)

    def build() -> dict:
        with torch_threads(1):
            terms = df.elbo_terms(np.asarray(x0, dtype=float), eps_fn_of(model), config.noise_schedule(),
                                  seed, ts=ts, weights=weights, variance="posterior", decoder="discrete",
                                  bits=bits)
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

    def make() -> ToyEpsMLP:
        torch.manual_seed(config.seed)
        return ToyEpsMLP(mixture.dim)

    return common.load_or_train("toy-eps", key, make, train)


# --------------------------------------------------------------------------------------------------
# the book's model


#: The book's U-Net for Part III: trained past the build's budget by ``make train`` (about an hour
#: on the book's 2-core machine) and shipped in src/m2d/weights/ with its manifest (:mod:`shipped`).
BOOK_CONFIG = DDPMConfig(steps=5000, warmup=200, ema=0.999, unet=UNetConfig(base=16))
#: File stem of the shipped weights.
BOOK_WEIGHTS = "ddpm-organ"
#: Steps at which ``make train`` measures quality (the quality-vs-minutes curve).
BOOK_CHECKPOINTS = (250, 500, 1000, 2000, 3000, 4000, 5000)


def book_key(config: DDPMConfig, patches) -> dict[str, Any]:
    """Everything the book model's weights depend on: code version, configuration, data selection
    (the content key of the cache and the config hash of the shipped weights)."""
    from m2d import spectro

    selection = {"source": "bach", "split": "train", "patches": patches.as_dict(),
                 "spectro": spectro.SPECTRO_VERSION, "db_range": [spectro.DB_LO, spectro.DB_HI]}
    return {"code": CODE_VERSION, "config": config.as_dict(), "data": selection}


def book_model(config: DDPMConfig | None = None, patches=None,
               progress: bool = True) -> tuple[UNet, dict[str, Any], dict[str, Any]]:
    """The book's "Riffusion in miniature" model: the U-Net trained with L_simple on the 8-bit
    log-mel patches of the Bach training split (:func:`m2d.spectro.load_patches`): the shipped
    weights when their manifest's config hash matches (:func:`m2d.models.shipped.load`), else from
    the cache, else trained now.

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    Args:
        config (DDPMConfig or None): training configuration (default :data:`BOOK_CONFIG`)
        patches (spectro.PatchConfig or None): patch extraction (default ``PatchConfig()``)
        progress (bool): tqdm progress bar while training
    Returns:
        model (UNet), extra (dict: loss curve, training seconds, ``source``: "shipped" or
        "trained here"), key_parts (dict identifying the model, for caching what is computed from it)
    """
    from m2d import spectro
    from m2d.models import shipped

    config = config or BOOK_CONFIG
    patches = patches or spectro.PatchConfig()
    key = book_key(config, patches)

    def make() -> UNet:
        torch.manual_seed(config.seed)
        return UNet(config.unet)

    found = shipped.load(BOOK_WEIGHTS, key, make)
    if found is not None:
        model, extra, manifest = found
        return model, {**extra, "source": "shipped", "manifest": manifest}, key
    model, extra = load_or_train_unet(config, lambda: spectro.load_patches("train", patches),
                                      key["data"], progress=progress)
    return model, {**extra, "source": "trained here"}, key


def quality_probe(train: np.ndarray, test: np.ndarray, config: DDPMConfig, n: int = 32,
                  ddim_steps: int = 50, elbo_patches: int = 64, elbo_steps: int = 20,
                  clip: tuple[float, float] | bool = True) -> Callable[[int, nn.Module], dict]:
    """A cheap quality measurement for checkpoints while training: the Frechet feature distance to
    the test patches of ``n`` DDIM samples (``ddim_steps`` steps, eta = 0, seed 0) and the ELBO in
    bits/dim on ``elbo_patches`` test patches (``elbo_steps`` strata, seed 0).

    Notebook: notebooks/03_diffusion.ipynb (via ``make train``; benchmarks/README.md)
    Returns:
        probe (callable): probe(step, model) -> {"frechet_ddim": float, "elbo_bits": float}
    """
    from m2d import spectro

    fd = spectro.FeatureDistance(train)

    def probe(step: int, model: nn.Module) -> dict:
        with torch_threads(1):
            x, _ = sampling.ddim_sample(model, (n, 1, *test.shape[1:]), config.noise_schedule(),
                                        ddim_steps, 0, eta=0.0, clip=clip)
        elbo = elbo_bits_per_dim(model, test[:elbo_patches], config, n_t=elbo_steps, rng=0)
        return {"frechet_ddim": fd(x[:, 0], test), "elbo_bits": elbo["total"]}

    return probe


def train_book_model(device: str = "cpu", config: DDPMConfig | None = None,
                     progress: bool = True) -> tuple[UNet, dict[str, Any], dict[str, Any]]:
    """Train the book model from scratch (what ``make train`` runs), measuring quality at
    :data:`BOOK_CHECKPOINTS` with :func:`quality_probe`.

    Notebook: notebooks/03_diffusion.ipynb (via ``make train``)
    Args:
        device (str): ``"cpu"`` or ``"cuda"``
        config (DDPMConfig or None): default :data:`BOOK_CONFIG`
        progress (bool): progress bar
    Returns:
        model (UNet, on the CPU), extra (training record with ``curve``), key_parts
    """
    from m2d import spectro

    config = config or BOOK_CONFIG
    patches = spectro.PatchConfig()
    train = spectro.load_patches("train", patches)
    test = spectro.load_patches("test", patches)
    torch.manual_seed(config.seed)
    model = UNet(config.unet)
    probe = quality_probe(train, test, config, clip=centred_clip(train))
    extra = train_eps_model(model, train, config, progress=progress, device=device,
                            checkpoints=[c for c in BOOK_CHECKPOINTS if c <= config.steps],
                            on_checkpoint=probe)
    return model, extra, book_key(config, patches)


# Part III's sampler comparison and ELBO, as one definition: chapter 5 calls the same functions,
# so it reuses Part III's cached results and cannot drift from them.
BOOK_N_SAMPLES = 32
BOOK_DDIM_STEPS = (100, 50, 20, 10)
BOOK_ETAS = (0.0, 1.0)
BOOK_TRAJECTORY = (1000, 800, 600, 400, 250, 100, 30, 0)
BOOK_ELBO_PATCHES = 128
BOOK_ELBO_STEPS = 40
#: sigma_t^2 of Part III's ancestral sampler and of its ELBO: beta_tilde_t (the posterior variance).
BOOK_VARIANCE = "posterior"


def centred_clip(train_patches: np.ndarray) -> tuple[float, float]:
    """Part III's clipping interval for the predicted x0: [2 m - 1, 1], with m the mean of the
    training patches (in [-1, 1]), so clipping does not pull the mean of x0_hat away from the data's.

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    """
    return 2 * float(np.mean(train_patches)) - 1, 1.0


def book_samples(model: nn.Module, config: DDPMConfig, key_parts: dict[str, Any],
                 clip: tuple[float, float], shape: Sequence[int] = (1, 64, 64)) -> dict[str, dict]:
    """Part III's samples: :func:`m2d.models.sampling.compare_samplers` with ``BOOK_N_SAMPLES``
    samples, ancestral DDPM and DDIM at ``BOOK_DDIM_STEPS`` x ``BOOK_ETAS``, rng 0, DDPM states kept
    at ``BOOK_TRAJECTORY`` (cached under ``key_parts``). The ancestral sampler uses
    sigma_t^2 = beta_tilde_t (:data:`BOOK_VARIANCE`), the reverse process whose ELBO
    :func:`book_elbo` reports: likelihood and samples belong to one process.

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    """
    return sampling.compare_samplers(model, config, BOOK_N_SAMPLES, shape, ddim_steps=BOOK_DDIM_STEPS,
                                     etas=BOOK_ETAS, rng=0, clip=clip, record=BOOK_TRAJECTORY,
                                     key_parts=key_parts, variance=BOOK_VARIANCE)


#: Generated phrases: how many, their width in frames (4.46 s) and the sampler (DDIM steps, eta).
BOOK_N_PHRASES = 4
BOOK_PHRASE_STEPS = 100
BOOK_PHRASE_ETA = 1.0


def book_phrases(model: nn.Module, config: DDPMConfig, key_parts: dict[str, Any],
                 clip: tuple[float, float], frames: int | None = None, n: int = BOOK_N_PHRASES,
                 steps: int = BOOK_PHRASE_STEPS, eta: float = BOOK_PHRASE_ETA, rng: int = 0,
                 device: str = "cpu") -> np.ndarray:
    """Phrases generated whole: the U-Net is fully convolutional (its time embedding is global, its
    convolutions see only neighbourhoods), so the network trained on 64-frame crops denoises a
    64 x ``frames`` image as well; one sampler run (:func:`m2d.models.sampling.ddim_sample`,
    ``steps`` steps at ``eta``) draws n phrases of ``frames`` frames (default
    :data:`m2d.spectro.PHRASE_FRAMES`, 4.46 s). Cached under ``key_parts``.

    Notebook: notebooks/03_diffusion.ipynb
    Returns:
        phrases (np.ndarray): float32 in model units, shape (n, n_mels, frames)
    """
    from m2d import audio, spectro

    frames = spectro.PHRASE_FRAMES if frames is None else int(frames)
    shape = (int(n), 1, audio.N_MELS, frames)

    def build() -> np.ndarray:
        with torch_threads(1):
            x, _ = sampling.ddim_sample(model, shape, config.noise_schedule(), steps, rng, eta=eta,
                                        clip=clip, device=device)
        return x[:, 0]

    def check(a: np.ndarray) -> None:  # schema of the cached phrases
        if a.shape != shape[:1] + shape[2:] or not np.isfinite(a).all():
            raise ValueError(f"cached phrases of shape {a.shape}, expected {shape[:1] + shape[2:]}")

    parts = [CODE_VERSION, key_parts, list(shape), steps, float(eta), rng, list(clip)]
    return cache.cached_array("ddpm-phrases", parts, build, check=check)


def book_elbo(model: nn.Module, test_patches: np.ndarray, config: DDPMConfig,
              key_parts: dict[str, Any]) -> dict:
    """Part III's ELBO (Theorem 21.5) in bits per dimension: :func:`elbo_bits_per_dim` on the first
    ``BOOK_ELBO_PATCHES`` test patches with ``BOOK_ELBO_STEPS`` stratified steps, rng 0 (cached).

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    """
    return elbo_bits_per_dim(model, test_patches[:BOOK_ELBO_PATCHES], config, n_t=BOOK_ELBO_STEPS,
                             rng=0, key_parts=key_parts)
