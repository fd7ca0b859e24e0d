"""Sampling a trained noise predictor eps_theta: ancestral DDPM (Definition 21.10), DDIM with fewer
steps (Limit 3) and inpainting by replacement (RePaint), all built on one reverse step.

Every sampler walks down a list of steps tau_S > ... > tau_1 (:func:`ddim_timesteps`; all T steps for
DDPM) and at each step calls :func:`reverse_step`: predict x0_hat from eps_theta(x_tau, tau)
(Theorem 21.4 solved for x_0), optionally clip it, and move to the next step either by the
ancestral rule (the posterior mean mu_tilde(x0_hat, x_t) plus sigma_t z) or by the DDIM rule
(sqrt(abar') x0_hat + sqrt(1 - abar' - s^2) eps_hat + s z). The schedule arithmetic is float64
(:class:`m2d.diffusion.NoiseSchedule`); only the network and the states are torch float32.

Random inputs are ``rng``: an integer seed (the same draws as ``torch.Generator().manual_seed(rng)``)
or a numpy Generator (:func:`m2d.rng.torch_generator`).

Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from m2d import cache
from m2d import diffusion as df
from m2d.models.common import torch_device
from m2d.rng import torch_generator, torch_seed
from m2d.threads import torch_threads


def clip_range(clip) -> tuple[float, float] | None:
    """(lo, hi) for clipping x0_hat: ``True`` means the data range [-1, 1], a pair is used as given,
    ``False`` (or None) means no clipping (returns None).

    Raises:
        ValueError: a pair with lo >= hi
    """
    if clip is False or clip is None:
        return None
    if clip is True:
        return -1.0, 1.0
    lo, hi = (float(v) for v in clip)
    if not lo < hi:
        raise ValueError(f"clip range must have lo < hi, got {clip}")
    return lo, hi


def ddim_timesteps(T: int, steps: int | None = None) -> np.ndarray:
    """The S steps tau_S > ... > tau_1 a sampler visits: evenly spaced from T down to 1, as integers
    (None: all T steps, T, T - 1, ..., 1).

    Notebook: notebooks/03_diffusion.ipynb
    Raises:
        ValueError: steps outside 1..T
    """
    if steps is None:
        return np.arange(T, 0, -1)
    if not 1 <= steps <= T:
        raise ValueError(f"the number of DDIM steps must be in 1..{T}, got {steps}")
    return np.unique(np.round(np.linspace(1, T, steps)).astype(int))[::-1]


def model_eps(model: nn.Module, x: torch.Tensor, t: int) -> torch.Tensor:
    """eps_theta(x, t) for a batch x at one integer step t (on x's device)."""
    return model(x, torch.full((x.shape[0],), int(t), dtype=torch.long, device=x.device))


def _noise(shape, generator, device) -> torch.Tensor:
    """N(0, I) drawn on the CPU from ``generator`` (the same numbers on every device), then moved."""
    return torch.randn(tuple(shape), generator=generator).to(device)


def reverse_step(x: torch.Tensor, eps: torch.Tensor, t: int, t_prev: int, schedule: df.NoiseSchedule,
                 *, clip=True, eta: float = 0.0, sigma: float | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """One step x_t -> x_{t_prev} of the reverse process from the noise prediction eps = eps_theta(x_t, t).

    x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), clipped to ``clip`` (then eps_hat is
    recomputed from it for DDIM). Then

    - ancestral (``sigma`` given, t_prev = t - 1; Definition 21.10): x_{t-1} = mu + sigma z (no noise at
      t = 1) with mu = c0_t x0_hat + ct_t x_t, the posterior mean of Theorem 21.5 at the clipped x0_hat,
      or mu = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) without clipping (the same value);
    - DDIM (``sigma`` None; Song, Meng & Ermon 2021): x_prev = sqrt(abar') x0_hat
      + sqrt(1 - abar' - s^2) eps_hat + s z with s = eta sqrt((1 - abar') / (1 - abar_t))
      sqrt(1 - abar_t / abar'), abar' = abar_{t_prev} (1 at t_prev = 0); eta = 0 is deterministic.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x (torch.Tensor): x_t
        eps (torch.Tensor): eps_theta(x_t, t)
        t, t_prev (int): current and next step (t_prev = 0 after the last step)
        schedule (NoiseSchedule): the model's training schedule
        clip (bool or (lo, hi)): clipping of x0_hat (:func:`clip_range`)
        eta (float): DDIM noise level, >= 0
        sigma (float or None): sigma_t of the ancestral step (None: DDIM)
        generator (torch.Generator or None): source of z (needed when noise is added)
    Returns:
        x_prev (torch.Tensor)
    """
    ab = schedule.alpha_bar
    lohi = clip_range(clip)
    if sigma is not None:  # ancestral DDPM step
        if lohi is not None:
            x0 = ((x - np.sqrt(1 - ab[t]) * eps) / np.sqrt(ab[t])).clamp(*lohi)
            c0, ct, _ = schedule.posterior_coefficients
            mean = c0[t] * x0 + ct[t] * x
        else:
            b = schedule.betas
            mean = (x - b[t - 1] / np.sqrt(1 - ab[t]) * eps) / np.sqrt(1 - b[t - 1])
        return mean + (sigma * _noise(x.shape, generator, x.device) if t > 1 else 0.0)
    a, a_prev = ab[t], (ab[t_prev] if t_prev > 0 else 1.0)
    x0 = (x - np.sqrt(1 - a) * eps) / np.sqrt(a)
    if lohi is not None:
        x0 = x0.clamp(*lohi)
        eps = (x - np.sqrt(a) * x0) / np.sqrt(1 - a)
    s = eta * np.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
    x = np.sqrt(a_prev) * x0 + np.sqrt(max(1 - a_prev - s * s, 0.0)) * eps
    if s > 0:
        x = x + s * _noise(x.shape, generator, x.device)
    return x


@contextmanager
def _on(model: nn.Module, device: torch.device) -> Iterator[None]:
    """Run ``model`` on ``device`` for a while; it goes back to the CPU afterwards."""
    model.to(device)
    try:
        yield
    finally:
        model.to("cpu")


@torch.no_grad()
def ddpm_sample(model: nn.Module, shape: Sequence[int], betas, rng, variance: str = "beta",
                clip=True, record: Sequence[int] = (), device: str = "cpu") -> tuple[np.ndarray, dict]:
    """Ancestral sampling (Definition 21.10): x_T ~ N(0, I), then for t = T..1
    x_{t-1} = mu_theta(x_t, t) + sigma_t z, z ~ N(0, I) (no noise at t = 1), with
    mu_theta = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t) (:func:`reverse_step`).

    With ``clip`` the predicted x_0 is clipped and mu_theta is the posterior mean
    mu_tilde_t(x0_hat, x_t) (identical without clipping), as in Ho et al.'s implementation.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta(x_t, t)
        shape (sequence of int): batch shape, e.g. (n, 1, 64, 64)
        betas (array or NoiseSchedule): beta_1..beta_T (the model's training schedule)
        rng (int or np.random.Generator): source of x_T and of every z
        variance (str): sigma_t^2 = beta_t (``"beta"``) or beta_tilde_t (``"posterior"``)
        clip (bool or (lo, hi)): clip the predicted x_0 to [-1, 1] (True), to [lo, hi], or not (False)
        record (sequence of int): steps t whose x_t is kept (the reverse trajectory)
        device (str): ``"cpu"`` or ``"cuda"`` (the noise is drawn on the CPU: same samples)
    Returns:
        x0 (np.ndarray): samples, float32, shape ``shape``
        trajectory (dict[int, np.ndarray]): x_t at the recorded steps
    """
    s = df.as_schedule(betas)
    clip_range(clip)
    dev = torch_device(device)
    sig = np.sqrt(s.reverse_variances(variance))
    gen = torch_generator(rng)
    x = _noise(shape, gen, dev)
    traj = {}
    record = set(int(r) for r in record)
    with _on(model, dev):
        for t in range(s.T, 0, -1):
            if t in record:
                traj[t] = x.cpu().numpy().copy()
            x = reverse_step(x, model_eps(model, x, t), t, t - 1, s, clip=clip, sigma=sig[t],
                             generator=gen)
    if 0 in record:
        traj[0] = x.cpu().numpy().copy()
    return x.cpu().numpy().astype(np.float32), traj


@torch.no_grad()
def ddim_sample(model: nn.Module, shape: Sequence[int], betas, steps: int, rng, eta: float = 0.0,
                clip=True, record: bool = False, device: str = "cpu") -> tuple[np.ndarray, dict]:
    """DDIM (Song, Meng & Ermon 2021): reuse a DDPM-trained eps_theta but jump between the steps
    tau_S > ... > tau_1 of :func:`ddim_timesteps` with the DDIM rule of :func:`reverse_step`; after
    tau_1 it returns x0_hat (abar_0 = 1).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model, shape, betas, rng: as in :func:`ddpm_sample`
        steps (int): number of network evaluations S, in 1..T
        eta (float): 0 (deterministic DDIM) ... 1 (DDPM-like noise)
        clip (bool or (lo, hi)): clip x0_hat to [-1, 1] (True) or [lo, hi] (eps_hat is then recomputed
            from it)
        record (bool): keep x at every visited step
        device (str): ``"cpu"`` or ``"cuda"``
    Returns:
        x0 (np.ndarray), trajectory (dict[int, np.ndarray])
    Raises:
        ValueError: steps outside 1..T, eta < 0, an unusable device
    """
    s = df.as_schedule(betas)
    taus = ddim_timesteps(s.T, steps)
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    clip_range(clip)
    dev = torch_device(device)
    gen = torch_generator(rng)
    x = _noise(shape, gen, dev)
    traj = {}
    with _on(model, dev):
        for i, t in enumerate(taus):
            if record:
                traj[int(t)] = x.cpu().numpy().copy()
            t_prev = int(taus[i + 1]) if i + 1 < len(taus) else 0
            x = reverse_step(x, model_eps(model, x, t), int(t), t_prev, s, clip=clip, eta=eta,
                             generator=gen)
    if record:
        traj[0] = x.cpu().numpy().copy()
    return x.cpu().numpy().astype(np.float32), traj


def inpaint(model, known: np.ndarray, mask: np.ndarray, betas, rng, steps: int | None = 50,
            resample: int = 1, clip=True) -> np.ndarray:
    """Fill the unknown part of patches with a trained noise predictor eps_theta: diffusion inpainting
    by replacement (RePaint, Lugmayr et al. 2022), on the DDIM steps tau_S > ... > tau_1.

    At each step tau with next step tau' (0 after tau_1):

    1. known region <- a fresh forward sample sqrt(abar_tau) x_known + sqrt(1 - abar_tau) z
       (Theorem 21.4), so the whole x_tau is consistent with the fixed part;
    2. the deterministic DDIM step of :func:`reverse_step` (eta = 0, x0_hat clipped) to x_tau';
    3. with ``resample`` = r > 1, steps 1-2 are repeated r times, re-noising x_tau' back to tau in between
       (x_tau = sqrt(abar_tau / abar_tau') x_tau' + sqrt(1 - abar_tau / abar_tau') z), which lets the
       generated part and the fixed part agree.

    Finally the known region is set to x_known exactly, so the fixed part is kept bit for bit.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (torch.nn.Module): eps_theta(x, t) on (B, 1, H, W) inputs (Part III's U-Net)
        known (np.ndarray): patches (n, H, W) in [-1, 1]; only the masked values are used
        mask (np.ndarray): bool, (H, W) or (n, H, W), True where the value is fixed
        betas (array or NoiseSchedule): beta_1..beta_T of the model's training schedule
        rng (int or np.random.Generator): source of x_T and of every fresh noise
        steps (int or None): number of DDIM steps S (None: all T steps)
        resample (int): RePaint's resampling count r >= 1
        clip (bool or (lo, hi)): clip x0_hat to [-1, 1] (True), to [lo, hi] (e.g. Part III's interval
            centred on the data mean), or not at all (False)
    Returns:
        x (np.ndarray): float32, shape (n, H, W); x[mask] == known[mask]
    Raises:
        ValueError: shapes that do not match, steps outside 1..T, resample < 1, invalid schedule or clip
    """
    s = df.as_schedule(betas)
    ab = s.alpha_bar
    x_known = np.asarray(known, dtype=np.float32)
    if x_known.ndim != 3:
        raise ValueError(f"known patches must be (n, H, W), got shape {x_known.shape}")
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(f"mask must be boolean (True = fixed), got dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, x_known.shape)
    except ValueError:
        raise ValueError(f"mask of shape {m.shape} does not match patches {x_known.shape}") from None
    if resample < 1:
        raise ValueError(f"resample must be >= 1, got {resample}")
    clip_range(clip)
    taus = ddim_timesteps(s.T, steps)
    gen = torch_generator(rng)
    k = torch.from_numpy(x_known)[:, None]
    mt = torch.from_numpy(np.array(m))[:, None]
    x = torch.randn(k.shape, generator=gen)
    with torch.no_grad():
        for i, t in enumerate(taus):
            t, t_prev = int(t), (int(taus[i + 1]) if i + 1 < len(taus) else 0)
            a = float(ab[t])
            a_prev = float(ab[t_prev]) if t_prev > 0 else 1.0
            for u in range(resample):
                noisy_known = math.sqrt(a) * k + math.sqrt(1 - a) * torch.randn(k.shape, generator=gen)
                x = torch.where(mt, noisy_known, x)
                x_prev = reverse_step(x, model_eps(model, x, t), t, t_prev, s, clip=clip)
                if u < resample - 1:  # jump back to tau and try again
                    r = a / a_prev
                    x = math.sqrt(r) * x_prev + math.sqrt(1 - r) * torch.randn(k.shape, generator=gen)
                else:
                    x = x_prev
    out = x[:, 0].numpy().astype(np.float32)
    return np.where(m, x_known, out).astype(np.float32)


#: Bumped whenever the cached sampler comparison changes meaning.
SAMPLES_VERSION = 1


# --------------------------------------------------------------------------------------------------
# comparing the samplers (Limit 3)


def compare_samplers(model: nn.Module, config, n: int, shape: Sequence[int],
                     ddim_steps: Sequence[int] = (100, 50, 20, 10), etas: Sequence[float] = (0.0,),
                     rng: int | np.random.Generator = 0, clip=True, record: Sequence[int] = (),
                     key_parts: dict[str, Any] | None = None, variance: str = "beta",
                     device: str = "cpu") -> dict[str, dict]:
    """Draw n samples with ancestral DDPM (T steps) and with DDIM at each number of steps and each eta
    (:func:`ddpm_sample`, :func:`ddim_sample`), timing each (wall clock, one torch thread). Results
    are cached as arrays (:func:`m2d.cache.cached_arrays`) when ``key_parts`` identifies the model
    (the timings are then those measured when the samples were first drawn).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (nn.Module): eps_theta
        config (DDPMConfig): its schedule (``config.T``, ``config.noise_schedule()``)
        n (int): samples per sampler
        shape (sequence of int): one sample's shape, e.g. (1, 64, 64)
        ddim_steps (sequence of int): DDIM step counts
        etas (sequence of float): DDIM noise levels (0 = deterministic; 1 = as much noise as DDPM)
        rng (int or np.random.Generator): the same x_T for every sampler (one seed; an integer seed
            is part of the cache key)
        clip: x0_hat clipping of both samplers (``True`` = [-1, 1], or a (lo, hi) pair)
        record (sequence of int): steps t at which the DDPM states are kept (``DDPM["trajectory"]``)
        key_parts (dict or None): cache key of the trained model (None: no caching)
        variance (str): the ancestral sampler's sigma_t^2: ``"beta"`` or ``"posterior"``
            (beta_tilde_t, the process whose ELBO :func:`m2d.models.ddpm.elbo_bits_per_dim` bounds)
        device (str): ``"cpu"`` or ``"cuda"``
    Returns:
        results (dict): name -> {``samples`` (n, *shape), ``seconds``, ``steps``, ``eta``}, names
        ``"DDPM"``, ``"DDIM-S"`` (eta = 0) and ``"DDIM-S-eta<eta>"``; the DDPM entry also has
        ``trajectory`` (dict t -> (n, *shape))
    """
    schedule = config.noise_schedule()
    seed = torch_seed(rng)
    plan = [("DDPM", config.T, 1.0)] + [
        (f"DDIM-{s}" + (f"-eta{e:g}" if e else ""), int(s), float(e)) for e in etas for s in ddim_steps]
    record = sorted({int(r) for r in record}, reverse=True)

    def build() -> dict:
        out = {}
        for name, steps, eta in plan:
            with torch_threads(1):
                start = time.perf_counter()
                if name == "DDPM":
                    x, traj = ddpm_sample(model, (n, *shape), schedule, seed, clip=clip,
                                          record=record, variance=variance, device=device)
                else:
                    x, traj = ddim_sample(model, (n, *shape), schedule, steps, seed, eta=eta,
                                          clip=clip, device=device)
                seconds = time.perf_counter() - start
            out[name] = {"samples": x, "seconds": seconds, "steps": steps, "eta": eta}
            if name == "DDPM":
                out[name]["trajectory"] = traj
        return out

    if key_parts is None:
        return build()
    parts = [key_parts, n, list(shape), [p[1:] for p in plan], seed, list(clip_range(clip) or []),
             record] + ([] if variance == "beta" else [variance])
    flat = cache.cached_arrays("ddpm-samples", parts, lambda: _flatten_runs(build()), version=SAMPLES_VERSION)
    return _unflatten_runs(flat, [p[0] for p in plan], record)


def _flatten_runs(runs: dict[str, dict]) -> dict[str, np.ndarray]:
    """The nested sampler results as flat arrays: ``<name>/samples``, ``<name>/meta`` (seconds, steps,
    eta) and ``DDPM/trajectory/<t>``."""
    arrays = {}
    for name, r in runs.items():
        arrays[f"{name}/samples"] = r["samples"]
        arrays[f"{name}/meta"] = np.array([r["seconds"], r["steps"], r["eta"]])
    for t, x in runs["DDPM"]["trajectory"].items():
        arrays[f"DDPM/trajectory/{t}"] = x
    return arrays


def _unflatten_runs(arrays: dict[str, np.ndarray], names: Sequence[str], record: Sequence[int]
                    ) -> dict[str, dict]:
    out = {}
    for name in names:
        meta = arrays[f"{name}/meta"]
        out[name] = {"samples": arrays[f"{name}/samples"], "seconds": float(meta[0]),
                     "steps": int(meta[1]), "eta": float(meta[2])}
    out["DDPM"]["trajectory"] = {t: arrays[f"DDPM/trajectory/{t}"] for t in record}
    return out


def sampler_table(runs: dict[str, dict], fd, ref: np.ndarray) -> dict[str, dict[str, float]]:
    """One row per sampler of :func:`compare_samplers` for Limit 3: steps, eta, wall time (total and per
    sample), the Frechet distance of the samples' patch statistics to ``ref``
    (:class:`m2d.spectro.FeatureDistance`), their mean level (clipped to [-1, 1]) and the fraction of
    pixels at the floor (<= -0.99).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        runs (dict): the result of :func:`compare_samplers` (samples (n, 1, H, W) or (n, H, W))
        fd (callable): fd(a, b) -> Frechet distance between two sets of patches
        ref (np.ndarray): reference patches (n, H, W)
    Returns:
        table (dict): name -> {``steps``, ``eta``, ``seconds``, ``per_sample``, ``frechet``, ``mean``,
        ``floor``}
    """
    table = {}
    for name, r in runs.items():
        x = r["samples"][:, 0] if r["samples"].ndim == 4 else r["samples"]
        table[name] = {"steps": int(r["steps"]), "eta": float(r["eta"]), "seconds": float(r["seconds"]),
                       "per_sample": float(r["seconds"]) / len(x), "frechet": float(fd(x, ref)),
                       "mean": float(np.clip(x, -1, 1).mean()), "floor": float((x <= -0.99).mean())}
    return table
