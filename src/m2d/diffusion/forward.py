"""The forward process (Definition 21.8): the closed form q(x_t | x_0) (Theorem 21.4), the iterated
chain it summarises, and the Gaussian posterior q(x_{t-1} | x_t, x_0) (Theorem 21.5).

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d.diffusion.schedule import _alpha_bar, _broadcast, _per_step, _steps, as_schedule
from m2d.rng import as_generator


def marginal_variance_step(betas) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of the induction step in the proof of Theorem 21.4,
    alpha_t (1 - alpha_bar_{t-1}) + beta_t = 1 - alpha_bar_t, for t = 1..T.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        betas (array or NoiseSchedule): beta_1..beta_T
    Returns:
        lhs, rhs (np.ndarray): each of length T (entry t - 1 is step t)
    """
    s = as_schedule(betas)
    b, ab = s.betas, s.alpha_bar
    return (1 - b) * (1 - ab[:-1]) + b, 1 - ab[1:]


def q_sample(x0, t, alpha_bar, noise) -> np.ndarray:
    """Closed-form forward sample x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
    (Theorem 21.4).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): clean data
        t (int or array of int): step(s) in 0..T; an array broadcasts against x0's leading axes
        alpha_bar (np.ndarray or NoiseSchedule): alpha_bar_0..alpha_bar_T (:func:`alpha_bars`)
        noise (np.ndarray): eps ~ N(0, I), same shape as x0
    Returns:
        x_t (np.ndarray): float32 for float32 input, float64 otherwise
    Raises:
        ValueError: t outside 0..T, or shapes that do not broadcast
    """
    ab = _alpha_bar(alpha_bar)
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"t must be integer step(s), got dtype {t.dtype}")
    T = ab.size - 1
    if t.size and (t.min() < 0 or t.max() > T):
        raise ValueError(f"t must lie in 0..{T}, got {t.min()}..{t.max()}")
    x0 = np.asarray(x0)
    # float32 data stays float32 (half the memory traffic); anything else is computed in float64
    dtype = x0.dtype if x0.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x0 = x0.astype(dtype, copy=False)
    noise = np.asarray(noise).astype(dtype, copy=False)
    if noise.shape != x0.shape:
        raise ValueError(f"noise shape {noise.shape} differs from x0 shape {x0.shape}")
    a = ab[t].reshape(t.shape + (1,) * (x0.ndim - t.ndim)) if t.ndim else ab[t]
    signal, sigma = np.sqrt(a).astype(dtype), np.sqrt(1.0 - a).astype(dtype)
    try:
        np.broadcast_shapes(np.shape(signal), x0.shape)
    except ValueError:
        raise ValueError(f"t of shape {t.shape} does not broadcast against x0 {x0.shape}") from None
    if dtype == np.float32 and x0.size >= _TORCH_MIN_SIZE and x0.flags.writeable and noise.flags.writeable:
        return _affine_torch(x0, noise, signal, sigma)
    out = signal * x0
    out += sigma * noise
    return out


# Above this many float32 values, q_sample runs its two multiply-adds through torch's vectorised
# kernels on zero-copy views (twice numpy's speed for a batch of 64x64 patches; benchmarks/).
_TORCH_MIN_SIZE = 1 << 16


def _affine_torch(x0: np.ndarray, noise: np.ndarray, signal, sigma) -> np.ndarray:
    """signal * x0 + sigma * noise via torch (no copies of x0/noise); returns a numpy array."""
    import torch

    out = torch.from_numpy(x0) * torch.from_numpy(np.ascontiguousarray(signal))
    out.addcmul_(torch.from_numpy(np.ascontiguousarray(sigma)), torch.from_numpy(noise))
    return out.numpy()


# --------------------------------------------------------------------------------------------------
# the forward chain and its posterior (Definition 21.8, Theorem 21.4, Theorem 21.5)


def forward_chain(x0, betas, rng) -> np.ndarray:
    """Iterate the forward Markov chain x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) z_t,
    z_t ~ N(0, I) (Definition 21.8), and return every state x_0..x_T.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): clean data, any shape
        betas (array or NoiseSchedule): beta_1..beta_T
        rng (np.random.Generator or int): source of the noise z_1..z_T
    Returns:
        xs (np.ndarray): shape (T + 1, *x0.shape), xs[t] = x_t, xs[0] = x0
    Raises:
        ValueError: invalid schedule or rng
    """
    b = as_schedule(betas).betas
    rng = as_generator(rng)
    x = np.asarray(x0, dtype=float)
    xs = np.empty((b.size + 1,) + x.shape)
    xs[0] = x
    for t in range(1, b.size + 1):
        x = np.sqrt(1.0 - b[t - 1]) * x + np.sqrt(b[t - 1]) * rng.standard_normal(x.shape)
        xs[t] = x
    return xs


def forward_marginal_check(x0: float, betas, n: int, rng, ts) -> dict[str, np.ndarray]:
    """Monte Carlo check of Theorem 21.4: run n chains of Definition 21.8 from x_0 and compare, at each
    t in ts, the sample mean and variance of x_t with sqrt(alpha_bar_t) x_0 and 1 - alpha_bar_t, in units
    of their standard errors sqrt((1 - alpha_bar_t) / n) and (1 - alpha_bar_t) sqrt(2 / (n - 1)).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (float): the clean value (one pixel)
        betas (array or NoiseSchedule): beta_1..beta_T
        n (int): number of chains, >= 2
        rng (np.random.Generator or int): noise
        ts (array of int): steps in 1..T
    Returns:
        check (dict): ``t``, ``mean``, ``mean_theory``, ``z_mean``, ``var``, ``var_theory``, ``z_var``
    Raises:
        ValueError: n < 2, t outside 1..T, invalid schedule
    """
    s = as_schedule(betas)
    if n < 2:
        raise ValueError(f"need at least 2 chains, got {n}")
    ts = _steps(np.asarray(ts), s.T, lo=1)
    ab = s.alpha_bar
    xs = forward_chain(np.full(int(n), float(x0)), s, rng)[ts]
    mean, var = xs.mean(axis=1), xs.var(axis=1, ddof=1)
    m_th, v_th = np.sqrt(ab[ts]) * x0, 1.0 - ab[ts]
    return {"t": ts, "mean": mean, "mean_theory": m_th, "z_mean": (mean - m_th) / np.sqrt(v_th / n),
            "var": var, "var_theory": v_th, "z_var": (var - v_th) / (v_th * np.sqrt(2.0 / (n - 1)))}


def posterior_coefficients(betas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of q(x_{t-1} | x_t, x_0) = N(c0_t x_0 + ct_t x_t, beta_tilde_t), indexed by t = 0..T
    (entry 0 unused, NaN):

    c0_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t),
    ct_t = sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t),
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        betas (array or NoiseSchedule): beta_1..beta_T
    Returns:
        c0, ct, var (np.ndarray): each of length T + 1 (new arrays)
    """
    return tuple(np.array(c) for c in as_schedule(betas).posterior_coefficients)


def q_posterior(x0, x_t, t, betas) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the forward posterior q(x_{t-1} | x_t, x_0), a Gaussian (Theorem 21.5):

    mu_tilde_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
                 + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t,
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0, x_t (np.ndarray): clean and noised data (broadcastable)
        t (int or array of int): step(s) in 1..T; an array broadcasts against the leading axes
        betas (array or NoiseSchedule): beta_1..beta_T
    Returns:
        mean (np.ndarray), variance (np.ndarray or float): variance is per step (broadcastable)
    Raises:
        ValueError: t outside 1..T, invalid schedule, shapes that do not broadcast
    """
    c0, ct, var = as_schedule(betas).posterior_coefficients
    t = _steps(t, len(c0) - 1, lo=1)
    x0, x_t = _broadcast(np.asarray(x0, dtype=float), np.asarray(x_t, dtype=float))
    a, b, v = (_per_step(c, t, x0.ndim) for c in (c0, ct, var))
    try:
        return a * x0 + b * x_t, v
    except ValueError:
        raise ValueError(f"t of shape {t.shape} does not broadcast against x {x0.shape}") from None


def posterior_by_bayes(x0: float, x_t: float, t: int, betas,
                       grid: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Numerical Bayes for 1-D data: q(x_{t-1} | x_t, x_0) proportional to
    q(x_t | x_{t-1}) q(x_{t-1} | x_0), evaluated on a grid and normalised (no Gaussian algebra).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0, x_t (float): the conditioning values
        t (int): step in 2..T (at t = 1 the posterior is the point mass at x_0)
        betas (array or NoiseSchedule): beta_1..beta_T
        grid (np.ndarray): evenly spaced values of x_{t-1}
    Returns:
        mean (float), variance (float), density (np.ndarray on the grid)
    Raises:
        ValueError: t outside 2..T, grid not 1-D increasing
    """
    s = as_schedule(betas)
    b, ab = s.betas, s.alpha_bar
    t = int(_steps(t, b.size, lo=2))
    g = np.asarray(grid, dtype=float)
    if g.ndim != 1 or g.size < 3 or np.any(np.diff(g) <= 0):
        raise ValueError("grid must be a 1-D increasing array of at least 3 points")
    # log q(x_{t-1} | x_0) + log q(x_t | x_{t-1}), both Gaussian densities in x_{t-1}
    log_prior = -0.5 * (g - np.sqrt(ab[t - 1]) * x0) ** 2 / (1.0 - ab[t - 1])
    log_lik = -0.5 * (x_t - np.sqrt(1.0 - b[t - 1]) * g) ** 2 / b[t - 1]
    logp = log_prior + log_lik
    w = np.exp(logp - logp.max())
    dx = np.gradient(g)
    w /= np.sum(w * dx)
    mean = float(np.sum(g * w * dx))
    return mean, float(np.sum((g - mean) ** 2 * w * dx)), w


def posterior_check(x0: float, x_t: float, ts: Sequence[int], betas, half_width: float = 12.0,
                    n_grid: int = 4001) -> dict[str, np.ndarray]:
    """Theorem 21.5's Gaussian posterior against numerical Bayes: for each t, the closed-form
    mean and variance (:func:`q_posterior`) and those of :func:`posterior_by_bayes` on a grid of
    ``n_grid`` points spanning ``half_width`` closed-form standard deviations either side of the mean.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0, x_t (float): the conditioning values
        ts (sequence of int): steps in 2..T
        betas (array or NoiseSchedule): beta_1..beta_T
        half_width (float): grid half-width in standard deviations
        n_grid (int): grid points
    Returns:
        check (dict): ``t``, ``mean``, ``mean_bayes``, ``var``, ``var_bayes``, ``rel_err_var`` (arrays)
        and ``grid``, ``density`` (lists, one array per t: the numerical posterior)
    Raises:
        ValueError: t outside 2..T
    """
    s = as_schedule(betas)
    out: dict[str, list] = {k: [] for k in ("t", "mean", "mean_bayes", "var", "var_bayes", "grid",
                                             "density")}
    for t in ts:
        mean, var = q_posterior(x0, x_t, t, s)
        sd = np.sqrt(var)
        grid = np.linspace(mean - half_width * sd, mean + half_width * sd, n_grid)
        m_num, v_num, dens = posterior_by_bayes(x0, x_t, t, s, grid)
        for k, v in zip(out, (int(t), float(mean), m_num, float(var), v_num, grid, dens), strict=True):
            out[k].append(v)
    res = {k: np.asarray(v) for k, v in out.items() if k not in ("grid", "density")}
    res["rel_err_var"] = np.abs(res["var_bayes"] / res["var"] - 1)
    return {**res, "grid": out["grid"], "density": out["density"]}
