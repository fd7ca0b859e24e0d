"""The reverse process (Definition 21.10) and the ELBO (Theorem 21.5): the noise parameterisation of
the reverse mean, the fixed reverse variances, the ELBO term by term and directly, and the exactly
solvable case of Gaussian data with a linear noise predictor.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import numpy as np

from m2d import checks
from m2d.diffusion.forward import forward_chain, q_posterior, q_sample
from m2d.diffusion.schedule import _alpha_bar, _broadcast, _per_step, _steps, as_schedule
from m2d.rng import as_generator

# --------------------------------------------------------------------------------------------------
# the reverse process (Definition 21.10) and the ELBO (Theorem 21.5)


def predict_x0(x_t, t, eps, alpha_bar) -> np.ndarray:
    """x_0 implied by a noise prediction: x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)
    (Theorem 21.4 solved for x_0).

    Args:
        alpha_bar (np.ndarray or NoiseSchedule): alpha_bar_0..alpha_bar_T
    Raises:
        ValueError: t outside 0..T, shapes that do not broadcast
    """
    ab = _alpha_bar(alpha_bar)
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
        betas (array or NoiseSchedule): beta_1..beta_T
    Returns:
        mean (np.ndarray)
    Raises:
        ValueError: t outside 1..T, shapes that do not broadcast
    """
    s = as_schedule(betas)
    t = _steps(t, s.T, lo=1)
    x_t, eps = _broadcast(np.asarray(x_t, dtype=float), np.asarray(eps, dtype=float))
    beta = _per_step(s.reverse_variances("beta"), t, x_t.ndim)
    a = _per_step(s.alpha_bar, t, x_t.ndim)
    return (x_t - beta / np.sqrt(1.0 - a) * eps) / np.sqrt(1.0 - beta)


def reverse_variances(betas, kind: str = "posterior") -> np.ndarray:
    """Fixed reverse variances sigma_t^2, t = 0..T (entry 0 unused): ``"beta"`` gives beta_t,
    ``"posterior"`` gives beta_tilde_t with sigma_1^2 = beta_tilde_2 (beta_tilde_1 = 0 would make the
    decoder p(x_0 | x_1) a point mass), as in Ho et al. (2020).

    Args:
        betas (array or NoiseSchedule): beta_1..beta_T
        kind (str): ``"beta"`` or ``"posterior"``
    Returns:
        sigma2 (np.ndarray): a new array of length T + 1
    Raises:
        ValueError: unknown kind, invalid schedule
    """
    return np.array(as_schedule(betas).reverse_variances(kind))


def elbo_weights(betas, variance: str = "beta") -> np.ndarray:
    """ELBO weights lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)), t = 0..T (entry 0
    NaN): L_{t-1} = E[lambda_t ||eps - eps_theta||^2] + const (Theorem 21.5), which L_simple replaces
    by 1 (:meth:`NoiseSchedule.elbo_weights`).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        betas (array or NoiseSchedule): beta_1..beta_T
        variance (str): sigma_t^2, ``"beta"`` (beta_t) or ``"posterior"`` (beta_tilde_t)
    Returns:
        lam (np.ndarray): length T + 1
    """
    return as_schedule(betas).elbo_weights(variance)


def gaussian_kl(mean1, var1, mean2, var2) -> np.ndarray:
    """KL(N(m1, v1) || N(m2, v2)) = 1/2 (log(v2 / v1) + (v1 + (m1 - m2)^2) / v2 - 1), elementwise, nats.

    Raises:
        ValueError: a variance that is not positive and finite, a mean that is not finite
        TypeError: complex or non-numeric input
    """
    v1, v2 = checks.real_array("var1", var1), checks.real_array("var2", var2)
    for name, v in (("var1", v1), ("var2", v2)):
        if np.any(v <= 0):
            raise ValueError(f"{name} must be positive, got {v[v <= 0].ravel()[0]:g}")
    m1, m2 = checks.real_array("mean1", mean1), checks.real_array("mean2", mean2)
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
        betas (array or NoiseSchedule): beta_1..beta_T
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
    s = as_schedule(betas)
    T = s.T
    ab = s.alpha_bar
    rng = as_generator(rng)
    sig2 = s.reverse_variances(variance)
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
        mean_q, var_q = q_posterior(x0, x_t, t, s)
        mean_p = reverse_mean(x_t, t, eps_fn(x_t, t), s)
        L[i] = gaussian_kl(mean_q, var_q, mean_p, sig2[t]).mean()
    x1 = q_sample(x0, 1, ab, rng.standard_normal(x0.shape))
    mean_p = reverse_mean(x1, 1, eps_fn(x1, 1), s)
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
        betas (array or NoiseSchedule): beta_1..beta_T
        rng (np.random.Generator or int): noise of the forward chains
        variance (str): reverse variances (:func:`reverse_variances`)
    Returns:
        elbo (np.ndarray): per example, nats per dimension, shape (n,)
    """
    s = as_schedule(betas)
    b, T = s.betas, s.T
    sig2 = s.reverse_variances(variance)
    xs = forward_chain(x0, s, rng)
    axes = tuple(range(1, xs.ndim - 1))

    def logn(x, m, v):
        return -0.5 * np.log(2 * np.pi * v) - 0.5 * (x - m) ** 2 / v

    total = logn(xs[T], 0.0, 1.0)
    for t in range(1, T + 1):
        mean_p = reverse_mean(xs[t], t, eps_fn(xs[t], t), s)
        total = total + logn(xs[t - 1], mean_p, sig2[t])
        total = total - logn(xs[t], np.sqrt(1.0 - b[t - 1]) * xs[t - 1], b[t - 1])
    return total.mean(axis=axes) if axes else total


def gaussian_data_eps_coef(alpha_bar, data_var: float) -> np.ndarray:
    """For 1-D data x_0 ~ N(0, s^2) the optimal noise predictor is linear, eps*(x_t, t) = c_t x_t with
    c_t = sqrt(1 - alpha_bar_t) / (alpha_bar_t s^2 + 1 - alpha_bar_t) (E[eps | x_t] for jointly Gaussian
    eps and x_t).

    Notebook: notebooks/03_diffusion.ipynb
    """
    ab = _alpha_bar(alpha_bar)
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
        betas (array or NoiseSchedule): beta_1..beta_T
        variance (str): reverse variances (:func:`reverse_variances`)
    """
    s = as_schedule(betas)
    b, ab = s.betas, s.alpha_bar
    c = np.asarray(coef, dtype=float)
    if c.shape != ab.shape:
        raise ValueError(f"coef must have length T + 1 = {ab.size}, got {c.shape}")
    sig2 = s.reverse_variances(variance)
    v = 1.0
    for t in range(b.size, 0, -1):
        a = (1.0 - b[t - 1] * c[t] / np.sqrt(1.0 - ab[t])) / np.sqrt(1.0 - b[t - 1])
        v = a * a * v + sig2[t]
    return float(v)


def linear_predictor_elbo(x0, coef, betas, rng_terms, rng_direct,
                          variance: str = "posterior") -> dict[str, float]:
    """Theorem 21.5 where everything is known, for 1-D data and a linear noise predictor
    eps(x_t, t) = c_t x_t: the decomposed bound -(L_T + sum L_{t-1} + L_0) (:func:`elbo_terms`,
    Gaussian decoder), the direct Monte Carlo ELBO (:func:`elbo_direct`) with its standard error, and
    the exact E log p_theta(x_0) of the linear-Gaussian reverse chain
    (:func:`linear_reverse_marginal_variance`); ``gap`` = E log p_theta(x_0) - ELBO >= 0.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x0 (np.ndarray): 1-D data samples
        coef (np.ndarray): c_0..c_T (e.g. :func:`gaussian_data_eps_coef`)
        betas (array or NoiseSchedule): beta_1..beta_T
        rng_terms, rng_direct (np.random.Generator or int): noise of the two estimates
        variance (str): reverse variances (:func:`reverse_variances`)
    Returns:
        check (dict): ``L_T``, ``sum_L``, ``L_0``, ``elbo`` (= -total), ``elbo_direct``, ``se``,
        ``log_p``, ``gap`` (floats, nats per dimension)
    """
    s = as_schedule(betas)
    c = np.asarray(coef, dtype=float)

    def eps_fn(x, t):
        return c[t] * x

    terms = elbo_terms(x0, eps_fn, s, rng=rng_terms, variance=variance, decoder="gaussian")
    direct = elbo_direct(x0, eps_fn, s, rng=rng_direct, variance=variance)
    v0 = linear_reverse_marginal_variance(c, s, variance)
    log_p = float(np.mean(-0.5 * np.log(2 * np.pi * v0) - 0.5 * np.asarray(x0) ** 2 / v0))
    return {"L_T": terms["L_T"], "sum_L": terms["sum_L"], "L_0": terms["L_0"], "elbo": -terms["total"],
            "elbo_direct": float(direct.mean()), "se": float(direct.std() / np.sqrt(direct.size)),
            "log_p": log_p, "gap": log_p + terms["total"]}
