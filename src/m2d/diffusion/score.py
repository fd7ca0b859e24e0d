"""Scores (Definition 21.11, Theorem 21.6): the score of q(x_t) is -E[eps | x_t] / sqrt(1 - alpha_bar_t),
checked on a Gaussian mixture whose noised density is known in closed form.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from m2d.diffusion.schedule import _alpha_bar, _per_step, _steps, as_schedule
from m2d.rng import as_generator

# --------------------------------------------------------------------------------------------------
# scores (Definition 21.11, Theorem 21.6)


def score_from_noise(eps, t, alpha_bar) -> np.ndarray:
    """Score from noise: s(x_t, t) = -eps / sqrt(1 - alpha_bar_t) (Theorem 21.6).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        eps (np.ndarray): (predicted or optimal) noise
        t (int or array of int): step(s) in 1..T (at t = 0 there is no noise and no score)
        alpha_bar (np.ndarray or NoiseSchedule): alpha_bar_0..alpha_bar_T
    Returns:
        score (np.ndarray): same shape as eps
    Raises:
        ValueError: t outside 1..T, shapes that do not broadcast
    """
    ab = _alpha_bar(alpha_bar)
    t = _steps(t, ab.size - 1, lo=1)
    eps = np.asarray(eps, dtype=float)
    a = _per_step(ab, t, eps.ndim)
    try:
        return -eps / np.sqrt(1.0 - a)
    except ValueError:
        raise ValueError(f"t of shape {t.shape} does not broadcast against eps {eps.shape}") from None


def mixture_score_check(mix: GaussianMixture, betas, ts: Sequence[int], eps_fn: Callable,
                        points: np.ndarray, n: int = 4000, rng: int = 0) -> dict[str, list]:
    """Theorem 21.6 where the truth is known: for each t, the analytic score of the noised mixture p_t
    against -eps*/sqrt(1 - alpha_bar_t) from the optimal noise (max |difference| on ``points``), and
    the relative squared error of a trained predictor's score -eps_theta/sqrt(1 - alpha_bar_t),
    E||s_theta - s||^2 / E||s||^2, on n samples of p_t (drawn with seed rng + t).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        mix (GaussianMixture): the data distribution q(x_0)
        betas (array or NoiseSchedule): beta_1..beta_T
        ts (sequence of int): steps in 1..T
        eps_fn (callable): eps_fn(x_t, t) -> predicted noise (numpy)
        points (np.ndarray): (m, d) points where the fields are compared and returned
        n (int): samples of p_t for the network's error
        rng (int): base seed
    Returns:
        check (dict): ``t``, ``max_abs`` (identity error), ``rel_err`` (network), and per t
        ``noised`` (p_t), ``exact`` and ``learned`` (score fields on ``points``), all lists
    """
    s = as_schedule(betas)
    ab = s.alpha_bar
    out: dict[str, list] = {k: [] for k in ("t", "max_abs", "rel_err", "noised", "exact", "learned")}
    for t in ts:
        pt = mix.noised(ab[t])
        exact = pt.score(points)
        from_eps = score_from_noise(mix.optimal_eps(points, ab[t]), t, ab)
        xt = pt.sample(n, np.random.default_rng(int(rng) + int(t)))  # judged where p_t has its mass
        learned = score_from_noise(eps_fn(xt, t), t, ab)
        truth = pt.score(xt)
        rel = np.mean(np.sum((learned - truth) ** 2, 1)) / np.mean(np.sum(truth**2, 1))
        field = score_from_noise(eps_fn(points, t), t, ab)
        for k, v in zip(out, (int(t), float(np.abs(exact - from_eps).max()), float(rel), pt, exact,
                              field), strict=True):
            out[k].append(v)
    return out


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
        rng = as_generator(rng)
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
