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
        x_t (np.ndarray): float32 for float32 input, float64 otherwise
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
# helpers


def _check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    return int(T)


def _steps(t, T: int, lo: int = 0, what: str = "t") -> np.ndarray:
    """Validate integer step(s) t in lo..T and return them as an integer array."""
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"{what} must be integer step(s), got dtype {t.dtype}")
    if t.size and (t.min() < lo or t.max() > T):
        raise ValueError(f"{what} must lie in {lo}..{T}, got {t.min()}..{t.max()}")
    return t


def _per_step(values: np.ndarray, t: np.ndarray, ndim: int) -> np.ndarray | float:
    """values[t] shaped to broadcast over an array of ``ndim`` dims whose leading axes match t."""
    v = np.asarray(values)[t]
    if t.ndim == 0:
        return float(v)
    if t.ndim > ndim:
        raise ValueError(f"t of shape {t.shape} has more axes than the data ({ndim})")
    return v.reshape(t.shape + (1,) * (ndim - t.ndim))


def _broadcast(*arrays) -> tuple[np.ndarray, ...]:
    try:
        return tuple(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = " and ".join(str(np.shape(a)) for a in arrays)
        raise ValueError(f"shapes {shapes} do not broadcast") from None


# --------------------------------------------------------------------------------------------------
# schedules (Definitions 21.8-21.9)


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Cosine schedule of Nichol & Dhariwal (2021): alpha_bar_t = f(t) / f(0) with
    f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2), beta_t = min(1 - alpha_bar_t / alpha_bar_{t-1}, max_beta).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        T (int): number of steps, >= 1
        s (float): small offset keeping beta_1 away from 0, >= 0
        max_beta (float): clip for the last betas (f(T) = 0 would give beta_T = 1), in (0, 1)
    Returns:
        betas (np.ndarray): beta_1..beta_T, shape (T,)
    Raises:
        ValueError: T < 1, s < 0, max_beta outside (0, 1)
    """
    T = _check_T(T)
    if not s >= 0:
        raise ValueError(f"s must be >= 0, got {s}")
    if not 0 < max_beta < 1:
        raise ValueError(f"max_beta = {max_beta:g} is outside (0, 1)")
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    ab = f / f[0]
    betas = np.minimum(1.0 - ab[1:] / ab[:-1], max_beta)
    return check_betas(betas)


def make_schedule(kind: str, T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """beta_1..beta_T of the named schedule, ``"linear"`` (uses beta_start, beta_end) or ``"cosine"``.

    Raises:
        ValueError: unknown kind, T < 1, betas outside (0, 1), or a decreasing linear schedule
    """
    if kind == "linear":
        if beta_start > beta_end:
            raise ValueError(f"beta_1 = {beta_start:g} exceeds beta_T = {beta_end:g}: a noise schedule "
                             "must increase (Definition 21.8)")
        return linear_beta_schedule(T, beta_start, beta_end)
    if kind == "cosine":
        return cosine_beta_schedule(T)
    raise ValueError(f"unknown schedule {kind!r}; choose 'linear' or 'cosine'")


def snr(alpha_bar) -> np.ndarray:
    """Signal-to-noise ratio SNR(t) = alpha_bar_t / (1 - alpha_bar_t) of x_t (Theorem 21.4).

    SNR(0) = inf (no noise at t = 0).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        alpha_bar (np.ndarray): alpha_bar_0..alpha_bar_T
    Returns:
        snr (np.ndarray): same shape
    Raises:
        ValueError: values outside (0, 1] or not 1-D
    """
    ab = np.asarray(alpha_bar, dtype=float)
    if ab.ndim != 1 or ab.size < 1:
        raise ValueError(f"alpha_bar must be a non-empty 1-D array, got shape {ab.shape}")
    if np.any(~((ab > 0) & (ab <= 1))):
        raise ValueError("alpha_bar values must lie in (0, 1]")
    with np.errstate(divide="ignore"):
        return np.where(ab < 1, ab / np.where(ab < 1, 1.0 - ab, 1.0), np.inf)


# --------------------------------------------------------------------------------------------------
# the forward chain and its posterior (Definition 21.8, Theorem 21.4, Theorem 21.5)


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy Generator or an integer seed, got {type(rng).__name__}")


def forward_chain(x0, betas, rng) -> np.ndarray:
    """Iterate the forward Markov chain x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) z_t,
    z_t ~ N(0, I) (Definition 21.8), and return every state x_0..x_T.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): clean data, any shape
        betas (np.ndarray): beta_1..beta_T
        rng (np.random.Generator or int): source of the noise z_1..z_T
    Returns:
        xs (np.ndarray): shape (T + 1, *x0.shape), xs[t] = x_t, xs[0] = x0
    Raises:
        ValueError: invalid schedule or rng
    """
    b = check_betas(betas)
    rng = _as_rng(rng)
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
        betas (np.ndarray): beta_1..beta_T
        n (int): number of chains, >= 2
        rng (np.random.Generator or int): noise
        ts (array of int): steps in 1..T
    Returns:
        check (dict): ``t``, ``mean``, ``mean_theory``, ``z_mean``, ``var``, ``var_theory``, ``z_var``
    Raises:
        ValueError: n < 2, t outside 1..T, invalid schedule
    """
    b = check_betas(betas)
    if n < 2:
        raise ValueError(f"need at least 2 chains, got {n}")
    ts = _steps(np.asarray(ts), b.size, lo=1)
    ab = alpha_bars(b)
    xs = forward_chain(np.full(int(n), float(x0)), b, rng)[ts]
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
    Returns:
        c0, ct, var (np.ndarray): each of length T + 1
    """
    b = check_betas(betas)
    ab = alpha_bars(b)
    c0 = np.full(b.size + 1, np.nan)
    ct, var = c0.copy(), c0.copy()
    c0[1:] = np.sqrt(ab[:-1]) * b / (1.0 - ab[1:])
    ct[1:] = np.sqrt(1.0 - b) * (1.0 - ab[:-1]) / (1.0 - ab[1:])
    var[1:] = (1.0 - ab[:-1]) / (1.0 - ab[1:]) * b
    return c0, ct, var


def q_posterior(x0, x_t, t, betas) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the forward posterior q(x_{t-1} | x_t, x_0), a Gaussian (Theorem 21.5):

    mu_tilde_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
                 + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t,
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0, x_t (np.ndarray): clean and noised data (broadcastable)
        t (int or array of int): step(s) in 1..T; an array broadcasts against the leading axes
        betas (np.ndarray): beta_1..beta_T
    Returns:
        mean (np.ndarray), variance (np.ndarray or float): variance is per step (broadcastable)
    Raises:
        ValueError: t outside 1..T, invalid schedule, shapes that do not broadcast
    """
    c0, ct, var = posterior_coefficients(betas)
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
        betas (np.ndarray): beta_1..beta_T
        grid (np.ndarray): evenly spaced values of x_{t-1}
    Returns:
        mean (float), variance (float), density (np.ndarray on the grid)
    Raises:
        ValueError: t outside 2..T, grid not 1-D increasing
    """
    b = check_betas(betas)
    ab = alpha_bars(b)
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


# --------------------------------------------------------------------------------------------------
# the reverse process (Definition 21.10) and the ELBO (Theorem 21.5)


def predict_x0(x_t, t, eps, alpha_bar) -> np.ndarray:
    """x_0 implied by a noise prediction: x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)
    (Theorem 21.4 solved for x_0).

    Raises:
        ValueError: t outside 0..T, shapes that do not broadcast
    """
    ab = np.asarray(alpha_bar, dtype=float)
    t = _steps(t, ab.size - 1)
    x_t, eps = _broadcast(np.asarray(x_t, dtype=float), np.asarray(eps, dtype=float))
    a = _per_step(ab, t, x_t.ndim)
    return (x_t - np.sqrt(1.0 - a) * eps) / np.sqrt(a)


def reverse_mean(x_t, t, eps, betas) -> np.ndarray:
    """Mean of the reverse step p_theta(x_{t-1} | x_t) in the noise parameterisation of Ho et al.:
    mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(alpha_t)
    (Definition 21.10).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x_t (np.ndarray): current state
        t (int or array of int): step(s) in 1..T
        eps (np.ndarray): predicted noise, same shape as x_t
        betas (np.ndarray): beta_1..beta_T
    Returns:
        mean (np.ndarray)
    Raises:
        ValueError: t outside 1..T, shapes that do not broadcast
    """
    b = check_betas(betas)
    ab = alpha_bars(b)
    t = _steps(t, b.size, lo=1)
    x_t, eps = _broadcast(np.asarray(x_t, dtype=float), np.asarray(eps, dtype=float))
    beta = _per_step(np.concatenate([[np.nan], b]), t, x_t.ndim)
    a = _per_step(ab, t, x_t.ndim)
    return (x_t - beta / np.sqrt(1.0 - a) * eps) / np.sqrt(1.0 - beta)


def reverse_variances(betas, kind: str = "posterior") -> np.ndarray:
    """Fixed reverse variances sigma_t^2, t = 0..T (entry 0 unused): ``"beta"`` gives beta_t,
    ``"posterior"`` gives beta_tilde_t with sigma_1^2 = beta_tilde_2 (beta_tilde_1 = 0 would make the
    decoder p(x_0 | x_1) a point mass), as in Ho et al. (2020).

    Raises:
        ValueError: unknown kind, invalid schedule
    """
    b = check_betas(betas)
    if kind == "beta":
        return np.concatenate([[np.nan], b])
    if kind == "posterior":
        var = posterior_coefficients(b)[2]
        var[1] = var[2] if b.size >= 2 else b[0]
        return var
    raise ValueError(f"unknown variance kind {kind!r}; choose 'beta' or 'posterior'")


def gaussian_kl(mean1, var1, mean2, var2) -> np.ndarray:
    """KL(N(m1, v1) || N(m2, v2)) = 1/2 (log(v2 / v1) + (v1 + (m1 - m2)^2) / v2 - 1), elementwise, nats.

    Raises:
        ValueError: non-positive variances
    """
    v1, v2 = np.asarray(var1, dtype=float), np.asarray(var2, dtype=float)
    if np.any(v1 <= 0) or np.any(v2 <= 0):
        raise ValueError("variances must be positive")
    m1, m2 = np.asarray(mean1, dtype=float), np.asarray(mean2, dtype=float)
    return 0.5 * (np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1.0)


def _log_prob_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a < b, computed in the tail where it is accurate."""
    from scipy.special import log_ndtr

    flip = a > 0  # use Phi(b) - Phi(a) = Phi(-a) - Phi(-b) in the upper tail
    a2, b2 = np.where(flip, -b, a), np.where(flip, -a, b)
    lb, la = log_ndtr(b2), log_ndtr(a2)
    return lb + np.log1p(-np.exp(np.minimum(la - lb, 0.0)) + 1e-300)


def discretized_gaussian_log_likelihood(x0, mean, std, bits: int = 8) -> np.ndarray:
    """log p(x_0 | x_1) for data on the 2^bits-level grid of [-1, 1] under N(mean, std^2) integrated over
    each value's bin (the decoder L_0 of Ho et al. 2020); the outer bins extend to -inf and +inf.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): data on the grid 2k / (2^bits - 1) - 1
        mean (np.ndarray): decoder means (broadcastable)
        std (float or np.ndarray): decoder standard deviation(s), > 0
        bits (int): bits per value
    Returns:
        log_prob (np.ndarray): elementwise, nats (<= 0)
    Raises:
        ValueError: std <= 0
    """
    std = np.asarray(std, dtype=float)
    if np.any(std <= 0):
        raise ValueError("std must be positive")
    x0, mean = _broadcast(np.asarray(x0, dtype=float), np.asarray(mean, dtype=float))
    half = 1.0 / (2**bits - 1)
    lo = np.where(x0 <= -1 + 1e-6, -np.inf, (x0 - half - mean) / std)
    hi = np.where(x0 >= 1 - 1e-6, np.inf, (x0 + half - mean) / std)
    return np.maximum(_log_prob_between(lo, hi), np.log(1e-12))


def elbo_terms(x0, eps_fn, betas, rng, ts=None, weights=None, variance: str = "posterior",
               decoder: str = "discrete", bits: int = 8) -> dict:
    """The terms of the negative ELBO (Theorem 21.5), per dimension, in nats:

    L_T = KL(q(x_T | x_0) || N(0, I)),
    L_{t-1} = E_q KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)) for t = 2..T,
    L_0 = -E_q log p_theta(x_0 | x_1),

    with p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) (:func:`reverse_mean`,
    :func:`reverse_variances`). L_T is exact; each L_{t-1} and L_0 is a one-sample Monte Carlo average over
    the batch x0 (one x_t per example). ``sum_L`` = sum_i weights_i L_{ts_i - 1}: with all steps 2..T
    (the default) it is the sum itself; with a subset, ``weights`` are the numbers of steps each
    evaluated step stands for (e.g. stratum widths; default (T - 1) / len(ts) each).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): a batch of data, shape (n, ...)
        eps_fn (callable): eps_fn(x_t, t) -> predicted noise, x_t of shape x0.shape, t an int
        betas (np.ndarray): beta_1..beta_T
        rng (np.random.Generator or int): noise for x_t
        ts (array of int or None): steps t in 2..T at which L_{t-1} is evaluated
        weights (array or None): how many steps each evaluated step represents in the sum
        variance (str): ``"posterior"`` or ``"beta"`` (:func:`reverse_variances`)
        decoder (str): ``"discrete"`` (data on a 2^bits grid, :func:`discretized_gaussian_log_likelihood`)
            or ``"gaussian"`` (continuous density)
        bits (int): bits of the discrete decoder
    Returns:
        terms (dict): ``L_T``, ``L_0``, ``sum_L``, ``total`` (floats, nats per dimension), ``t`` (steps),
        ``L`` (per-step L_{t-1}, nats per dimension)
    Raises:
        ValueError: bad schedule, steps, or decoder name
    """
    b = check_betas(betas)
    T = b.size
    ab = alpha_bars(b)
    rng = _as_rng(rng)
    sig2 = reverse_variances(b, variance)
    x0 = np.asarray(x0, dtype=float)
    if decoder not in ("discrete", "gaussian"):
        raise ValueError(f"unknown decoder {decoder!r}; choose 'discrete' or 'gaussian'")
    L_T = float(gaussian_kl(np.sqrt(ab[T]) * x0, 1.0 - ab[T], 0.0, 1.0).mean())
    ts = np.arange(2, T + 1) if ts is None else _steps(np.asarray(ts), T, lo=2, what="ts")
    if weights is None:
        w = np.full(len(ts), (T - 1) / max(len(ts), 1))
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != ts.shape:
            raise ValueError(f"weights shape {w.shape} does not match ts shape {ts.shape}")
    L = np.empty(len(ts))
    for i, t in enumerate(ts):
        t = int(t)
        x_t = q_sample(x0, t, ab, rng.standard_normal(x0.shape))
        mean_q, var_q = q_posterior(x0, x_t, t, b)
        mean_p = reverse_mean(x_t, t, eps_fn(x_t, t), b)
        L[i] = gaussian_kl(mean_q, var_q, mean_p, sig2[t]).mean()
    x1 = q_sample(x0, 1, ab, rng.standard_normal(x0.shape))
    mean_p = reverse_mean(x1, 1, eps_fn(x1, 1), b)
    if decoder == "discrete":
        L_0 = -float(discretized_gaussian_log_likelihood(x0, mean_p, np.sqrt(sig2[1]), bits).mean())
    else:
        L_0 = float((0.5 * np.log(2 * np.pi * sig2[1]) + 0.5 * (x0 - mean_p) ** 2 / sig2[1]).mean())
    sum_L = float(np.sum(w * L))
    return {"L_T": L_T, "L_0": L_0, "sum_L": sum_L, "total": L_T + sum_L + L_0, "t": ts, "L": L}


def elbo_direct(x0, eps_fn, betas, rng, variance: str = "posterior") -> np.ndarray:
    """The ELBO without the decomposition: log p(x_T) + sum_t log p_theta(x_{t-1} | x_t)
    - sum_t log q(x_t | x_{t-1}) on one forward chain per example (continuous Gaussian decoder);
    its average equals -(L_T + sum L_{t-1} + L_0) of :func:`elbo_terms` (Theorem 21.5).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): data, shape (n, ...)
        eps_fn (callable): eps_fn(x_t, t) -> predicted noise
        betas (np.ndarray): beta_1..beta_T
        rng (np.random.Generator or int): noise of the forward chains
        variance (str): reverse variances (:func:`reverse_variances`)
    Returns:
        elbo (np.ndarray): per example, nats per dimension, shape (n,)
    """
    b = check_betas(betas)
    T = b.size
    sig2 = reverse_variances(b, variance)
    xs = forward_chain(x0, b, rng)
    axes = tuple(range(1, xs.ndim - 1))

    def logn(x, m, v):
        return -0.5 * np.log(2 * np.pi * v) - 0.5 * (x - m) ** 2 / v

    total = logn(xs[T], 0.0, 1.0)
    for t in range(1, T + 1):
        mean_p = reverse_mean(xs[t], t, eps_fn(xs[t], t), b)
        total = total + logn(xs[t - 1], mean_p, sig2[t])
        total = total - logn(xs[t], np.sqrt(1.0 - b[t - 1]) * xs[t - 1], b[t - 1])
    return total.mean(axis=axes) if axes else total


def gaussian_data_eps_coef(alpha_bar, data_var: float) -> np.ndarray:
    """For 1-D data x_0 ~ N(0, s^2) the optimal noise predictor is linear, eps*(x_t, t) = c_t x_t with
    c_t = sqrt(1 - alpha_bar_t) / (alpha_bar_t s^2 + 1 - alpha_bar_t) (E[eps | x_t] for jointly Gaussian
    eps and x_t).

    Notebook: notebooks/03_diffusion.ipynb
    """
    ab = np.asarray(alpha_bar, dtype=float)
    if data_var <= 0:
        raise ValueError(f"data variance must be positive, got {data_var}")
    return np.sqrt(1.0 - ab) / (ab * data_var + 1.0 - ab)


def linear_reverse_marginal_variance(coef, betas, variance: str = "posterior") -> float:
    """Exact log-likelihood ingredient for a linear noise predictor eps(x_t, t) = c_t x_t: the reverse
    chain is then linear-Gaussian, x_{t-1} = a_t x_t + sigma_t z with
    a_t = (1 - beta_t c_t / sqrt(1 - alpha_bar_t)) / sqrt(alpha_t), so p_theta(x_0) = N(0, v_0) where
    v_T = 1 and v_{t-1} = a_t^2 v_t + sigma_t^2. Returns v_0.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        coef (np.ndarray): c_0..c_T (entry 0 unused)
        betas (np.ndarray): beta_1..beta_T
        variance (str): reverse variances (:func:`reverse_variances`)
    """
    b = check_betas(betas)
    ab = alpha_bars(b)
    c = np.asarray(coef, dtype=float)
    if c.shape != ab.shape:
        raise ValueError(f"coef must have length T + 1 = {ab.size}, got {c.shape}")
    sig2 = reverse_variances(b, variance)
    v = 1.0
    for t in range(b.size, 0, -1):
        a = (1.0 - b[t - 1] * c[t] / np.sqrt(1.0 - ab[t])) / np.sqrt(1.0 - b[t - 1])
        v = a * a * v + sig2[t]
    return float(v)


# --------------------------------------------------------------------------------------------------
# scores (Definition 21.11, Theorem 21.6)


def score_from_noise(eps, t, alpha_bar) -> np.ndarray:
    """Score from noise: s(x_t, t) = -eps / sqrt(1 - alpha_bar_t) (Theorem 21.6).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        eps (np.ndarray): (predicted or optimal) noise
        t (int or array of int): step(s) in 1..T (at t = 0 there is no noise and no score)
        alpha_bar (np.ndarray): alpha_bar_0..alpha_bar_T
    Returns:
        score (np.ndarray): same shape as eps
    Raises:
        ValueError: t outside 1..T, shapes that do not broadcast
    """
    ab = np.asarray(alpha_bar, dtype=float)
    t = _steps(t, ab.size - 1, lo=1)
    eps = np.asarray(eps, dtype=float)
    a = _per_step(ab, t, eps.ndim)
    try:
        return -eps / np.sqrt(1.0 - a)
    except ValueError:
        raise ValueError(f"t of shape {t.shape} does not broadcast against eps {eps.shape}") from None


class GaussianMixture:
    """An isotropic Gaussian mixture p(x) = sum_k w_k N(x; mu_k, s_k^2 I) in d dimensions: a data
    distribution whose noised marginals p_t stay mixtures (truth known in closed form).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        weights (array): w_k > 0, summing to 1, shape (K,)
        means (array): mu_k, shape (K, d)
        stds (array): s_k > 0, shape (K,)
    Raises:
        ValueError: inconsistent shapes, non-positive stds, weights not a distribution
    """

    def __init__(self, weights, means, stds):
        self.weights = np.asarray(weights, dtype=float)
        self.means = np.atleast_2d(np.asarray(means, dtype=float))
        self.stds = np.asarray(stds, dtype=float)
        K = self.weights.size
        if self.weights.ndim != 1 or self.means.shape[0] != K or self.stds.shape != (K,):
            raise ValueError(f"need weights (K,), means (K, d), stds (K,); got {self.weights.shape}, "
                             f"{self.means.shape}, {self.stds.shape}")
        if np.any(self.weights <= 0) or abs(self.weights.sum() - 1) > 1e-9:
            raise ValueError("weights must be positive and sum to 1")
        if np.any(self.stds <= 0):
            raise ValueError("stds must be positive")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def noised(self, alpha_bar_t: float) -> GaussianMixture:
        """p_t, the law of x_t = sqrt(a) x_0 + sqrt(1 - a) eps: means sqrt(a) mu_k, variances
        a s_k^2 + 1 - a (Theorem 21.4 applied to each component)."""
        a = float(alpha_bar_t)
        if not 0 < a <= 1:
            raise ValueError(f"alpha_bar_t must be in (0, 1], got {a}")
        return GaussianMixture(self.weights, np.sqrt(a) * self.means, np.sqrt(a * self.stds**2 + 1 - a))

    def _log_components(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != self.dim:
            raise ValueError(f"points must have last axis {self.dim}, got shape {x.shape}")
        d2 = ((x[..., None, :] - self.means) ** 2).sum(-1)
        v = self.stds**2
        return np.log(self.weights) - 0.5 * self.dim * np.log(2 * np.pi * v) - 0.5 * d2 / v

    def log_density(self, x) -> np.ndarray:
        """log p(x) at points x of shape (..., d)."""
        from scipy.special import logsumexp

        return logsumexp(self._log_components(x), axis=-1)

    def responsibilities(self, x) -> np.ndarray:
        """r_k(x) = w_k N(x; mu_k, s_k^2 I) / p(x), shape (..., K)."""
        lc = self._log_components(x)
        w = np.exp(lc - lc.max(-1, keepdims=True))
        return w / w.sum(-1, keepdims=True)

    def score(self, x) -> np.ndarray:
        """Exact score grad_x log p(x) = sum_k r_k(x) (mu_k - x) / s_k^2 (Definition 21.11)."""
        x = np.asarray(x, dtype=float)
        r = self.responsibilities(x)
        return np.einsum("...k,...kd->...d", r / self.stds**2, self.means - x[..., None, :])

    def sample(self, n: int, rng) -> np.ndarray:
        """n samples, shape (n, d)."""
        rng = _as_rng(rng)
        k = rng.choice(self.weights.size, size=n, p=self.weights)
        return self.means[k] + self.stds[k, None] * rng.standard_normal((n, self.dim))

    def optimal_eps(self, x_t, alpha_bar_t: float) -> np.ndarray:
        """The minimum-mean-squared-error noise predictor eps*(x_t) = E[eps | x_t], computed from the
        posterior mean of x_0 (no derivative taken): given component k, x_0 | x_t is Gaussian with mean
        mu_k + sqrt(a) s_k^2 / (a s_k^2 + 1 - a) (x_t - sqrt(a) mu_k); then
        eps* = (x_t - sqrt(a) E[x_0 | x_t]) / sqrt(1 - a).

        Notebook: notebooks/03_diffusion.ipynb
        """
        a = float(alpha_bar_t)
        if not 0 < a < 1:
            raise ValueError(f"alpha_bar_t must be in (0, 1) (t >= 1), got {a}")
        x = np.asarray(x_t, dtype=float)
        r = self.noised(a).responsibilities(x)
        gain = np.sqrt(a) * self.stds**2 / (a * self.stds**2 + 1 - a)
        m_k = self.means + gain[:, None] * (x[..., None, :] - np.sqrt(a) * self.means)
        x0_mean = np.einsum("...k,...kd->...d", r, m_k)
        return (x - np.sqrt(a) * x0_mean) / np.sqrt(1 - a)
