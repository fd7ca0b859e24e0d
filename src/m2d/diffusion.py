"""Part III: the DDPM forward process, its closed form and score matching (Definitions 21.8-21.11,
Theorems 21.4-21.6), on numpy arrays.

Convention: ``betas`` holds beta_1..beta_T (length T); ``alpha_bar`` holds alpha_bar_t for
t = 0..T (length T + 1) with alpha_bar_0 = 1, so ``alpha_bar[t]`` is alpha_bar_t.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import numpy as np


def check_betas(betas) -> np.ndarray:
    """Validate a noise schedule beta_1..beta_T: 1-D, T >= 1, every beta_t in (0, 1).

    Raises:
        ValueError: naming the first problem (shape, T < 1, which beta_t is outside (0, 1))
    """
    b = np.asarray(betas, dtype=float)
    if b.ndim != 1:
        raise ValueError(f"betas must be a 1-D array beta_1..beta_T, got shape {b.shape}")
    if b.size < 1:
        raise ValueError("T must be at least 1 (empty schedule)")
    bad = np.flatnonzero(~((b > 0) & (b < 1)))
    if bad.size:
        t = bad[0] + 1
        raise ValueError(f"beta_{t} = {b[bad[0]]:g} is outside (0, 1)")
    return b


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """Linear schedule of Ho et al. (2020): beta_t evenly spaced from beta_start to beta_end.

    Returns:
        betas (np.ndarray): beta_1..beta_T, shape (T,)
    Raises:
        ValueError: T < 1, or beta_start / beta_end outside (0, 1)
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    for name, v in (("beta_start", beta_start), ("beta_end", beta_end)):
        if not 0 < v < 1:
            raise ValueError(f"{name} = {v:g} is outside (0, 1)")
    return check_betas(np.linspace(beta_start, beta_end, int(T)))


def alpha_bars(betas) -> np.ndarray:
    """alpha_bar_t = prod_{s=1..t} (1 - beta_s) for t = 0..T, alpha_bar_0 = 1 (Definition 21.9)."""
    b = check_betas(betas)
    return np.concatenate([[1.0], np.cumprod(1.0 - b)])


def q_sample(x0, t, alpha_bar, noise) -> np.ndarray:
    """Closed-form forward sample x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
    (Theorem 21.4).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): clean data
        t (int or array of int): step(s) in 0..T; an array broadcasts against x0's leading axes
        alpha_bar (np.ndarray): alpha_bar_0..alpha_bar_T from :func:`alpha_bars`
        noise (np.ndarray): eps ~ N(0, I), same shape as x0
    Returns:
        x_t (np.ndarray)
    Raises:
        ValueError: t outside 0..T, or shapes that do not broadcast
    """
    ab = np.asarray(alpha_bar, dtype=float)
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"t must be integer step(s), got dtype {t.dtype}")
    T = ab.size - 1
    if t.size and (t.min() < 0 or t.max() > T):
        raise ValueError(f"t must lie in 0..{T}, got {t.min()}..{t.max()}")
    x0 = np.asarray(x0, dtype=float)
    noise = np.asarray(noise, dtype=float)
    if noise.shape != x0.shape:
        raise ValueError(f"noise shape {noise.shape} differs from x0 shape {x0.shape}")
    a = ab[t].reshape(t.shape + (1,) * (x0.ndim - t.ndim)) if t.ndim else ab[t]
    try:
        return np.sqrt(a) * x0 + np.sqrt(1.0 - a) * noise
    except ValueError:
        raise ValueError(f"t of shape {t.shape} does not broadcast against x0 {x0.shape}") from None
