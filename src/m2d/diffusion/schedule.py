"""Noise schedules (Definitions 21.8-21.9): beta_1..beta_T validated once in a :class:`NoiseSchedule`
with everything derived from them computed once (alpha_bar_t, SNR, posterior coefficients, reverse
variances, ELBO weights); the linear and cosine schedules.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from m2d import checks


def check_betas(betas) -> np.ndarray:
    """Validate a noise schedule beta_1..beta_T: 1-D, T >= 1, every beta_t in (0, 1).

    Raises:
        ValueError: naming the first problem (shape, T < 1, which beta_t is outside (0, 1))
    """
    b = checks.real_array("betas", betas, finite=False)
    if b.ndim != 1:
        raise ValueError(f"betas must be a 1-D array beta_1..beta_T, got shape {b.shape}")
    if b.size < 1:
        raise ValueError("T must be at least 1 (empty schedule)")
    bad = np.flatnonzero(~((b > 0) & (b < 1)))
    if bad.size:
        t = bad[0] + 1
        raise ValueError(f"beta_{t} = {b[bad[0]]:g} is outside (0, 1)")
    return b


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class NoiseSchedule:
    """A DDPM noise schedule beta_1..beta_T (Definition 21.8), validated once, with the quantities
    derived from it computed once (cached properties):

    alpha_t = 1 - beta_t; alpha_bar_t = prod_{s<=t} alpha_s with alpha_bar_0 = 1 (Definition 21.9);
    SNR(t) = alpha_bar_t / (1 - alpha_bar_t) (Theorem 21.4); the coefficients of the posterior
    q(x_{t-1} | x_t, x_0) = N(c0_t x_0 + ct_t x_t, beta_tilde_t) (Theorem 21.5); the reverse variances
    sigma_t^2 (Definition 21.10) and the ELBO weights lambda_t.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        betas (array or NoiseSchedule): beta_1..beta_T, each in (0, 1)
    Attributes:
        T (int): number of steps
        betas, alphas (np.ndarray): beta_t and alpha_t for t = 1..T (read-only, length T)
        alpha_bar, snr (np.ndarray): for t = 0..T (read-only, length T + 1)
    Raises:
        ValueError: an invalid schedule (:func:`check_betas`)
    """

    def __init__(self, betas):
        if isinstance(betas, NoiseSchedule):
            b = betas.betas
        else:
            b = _frozen(check_betas(betas).copy())
        self._betas = b

    @classmethod
    def make(cls, kind: str, T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
        """The schedule of :func:`make_schedule` (``"linear"`` or ``"cosine"``)."""
        return cls(make_schedule(kind, T, beta_start, beta_end))

    def __repr__(self) -> str:
        b = self._betas
        return f"NoiseSchedule(T={b.size}, beta_1={b[0]:.3g}, beta_T={b[-1]:.3g})"

    @property
    def T(self) -> int:
        return int(self._betas.size)

    @property
    def betas(self) -> np.ndarray:
        return self._betas

    @cached_property
    def alphas(self) -> np.ndarray:
        """alpha_t = 1 - beta_t, t = 1..T."""
        return _frozen(1.0 - self._betas)

    @cached_property
    def alpha_bar(self) -> np.ndarray:
        """alpha_bar_t = prod_{s=1..t} (1 - beta_s) for t = 0..T, alpha_bar_0 = 1 (Definition 21.9)."""
        return _frozen(np.concatenate([[1.0], np.cumprod(1.0 - self._betas)]))

    @cached_property
    def snr(self) -> np.ndarray:
        """SNR(t) = alpha_bar_t / (1 - alpha_bar_t), t = 0..T; SNR(0) = inf (:func:`snr`)."""
        return _frozen(snr(self.alpha_bar))

    @cached_property
    def posterior_coefficients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(c0, ct, beta_tilde), each for t = 0..T (entry 0 NaN): q(x_{t-1} | x_t, x_0) =
        N(c0_t x_0 + ct_t x_t, beta_tilde_t) (Theorem 21.5, :func:`posterior_coefficients`)."""
        b, ab = self._betas, self.alpha_bar
        c0 = np.full(b.size + 1, np.nan)
        ct, var = c0.copy(), c0.copy()
        c0[1:] = np.sqrt(ab[:-1]) * b / (1.0 - ab[1:])
        ct[1:] = np.sqrt(1.0 - b) * (1.0 - ab[:-1]) / (1.0 - ab[1:])
        var[1:] = (1.0 - ab[:-1]) / (1.0 - ab[1:]) * b
        return _frozen(c0), _frozen(ct), _frozen(var)

    @property
    def beta_tilde(self) -> np.ndarray:
        """beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t, t = 0..T (entry 0 NaN)."""
        return self.posterior_coefficients[2]

    def reverse_variances(self, kind: str = "posterior") -> np.ndarray:
        """sigma_t^2 for t = 0..T (entry 0 unused), computed once per kind (:func:`reverse_variances`).

        Raises:
            ValueError: unknown kind
        """
        cache = self.__dict__.setdefault("_reverse_variances", {})
        if kind not in cache:
            b = self._betas
            if kind == "beta":
                var = np.concatenate([[np.nan], b])
            elif kind == "posterior":
                var = self.beta_tilde.copy()
                var[1] = var[2] if b.size >= 2 else b[0]
            else:
                raise ValueError(f"unknown variance kind {kind!r}; choose 'beta' or 'posterior'")
            cache[kind] = _frozen(var)
        return cache[kind]

    def elbo_weights(self, variance: str = "beta") -> np.ndarray:
        """lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)), t = 0..T (entry 0 NaN): the
        weight of the noise error in L_{t-1} = E[lambda_t ||eps - eps_theta||^2] + const when
        sigma_t^2 is fixed (Theorem 21.5; L_simple sets every weight to 1).

        Notebook: notebooks/03_diffusion.ipynb
        Args:
            variance (str): sigma_t^2, ``"beta"`` or ``"posterior"`` (:meth:`reverse_variances`)
        Returns:
            lam (np.ndarray): length T + 1, per dimension
        """
        b, ab = self._betas, self.alpha_bar
        sig2 = self.reverse_variances(variance)[1:]
        return np.concatenate([[np.nan], b**2 / (2 * sig2 * (1 - b) * (1 - ab[1:]))])

    def summary(self) -> dict[str, float]:
        """beta_1, beta_T, alpha_bar_T and the first t with SNR(t) < 1 (alpha_bar_t < 1/2; 0 if none)."""
        ab = self.alpha_bar
        return {"beta_1": float(self._betas[0]), "beta_T": float(self._betas[-1]),
                "alpha_bar_T": float(ab[-1]), "snr_below_1_from": int(np.argmax(ab < 0.5))}

    # -- the plain functions, on this schedule --------------------------------------------------

    def q_sample(self, x0, t, noise) -> np.ndarray:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (Theorem 21.4, :func:`q_sample`)."""
        from m2d.diffusion.forward import q_sample

        return q_sample(x0, t, self.alpha_bar, noise)

    def q_posterior(self, x0, x_t, t) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of q(x_{t-1} | x_t, x_0) (Theorem 21.5, :func:`q_posterior`)."""
        from m2d.diffusion.forward import q_posterior

        return q_posterior(x0, x_t, t, self)

    def predict_x0(self, x_t, t, eps) -> np.ndarray:
        """x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t) (:func:`predict_x0`)."""
        from m2d.diffusion.reverse import predict_x0

        return predict_x0(x_t, t, eps, self.alpha_bar)

    def reverse_mean(self, x_t, t, eps) -> np.ndarray:
        """mu_theta(x_t, t) of Definition 21.10 (:func:`reverse_mean`)."""
        from m2d.diffusion.reverse import reverse_mean

        return reverse_mean(x_t, t, eps, self)

    def score_from_noise(self, eps, t) -> np.ndarray:
        """s(x_t, t) = -eps / sqrt(1 - alpha_bar_t) (Theorem 21.6, :func:`score_from_noise`)."""
        from m2d.diffusion.score import score_from_noise

        return score_from_noise(eps, t, self.alpha_bar)

    def marginal_pdf(self, x, t: int, x0: float) -> np.ndarray:
        """Density of q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, 1 - alpha_bar_t) at x (Theorem 21.4).

        Notebook: notebooks/03_diffusion.ipynb
        Raises:
            ValueError: t outside 1..T
        """
        t = int(_steps(t, self.T, lo=1))
        sd = np.sqrt(1 - self.alpha_bar[t])
        x = np.asarray(x, dtype=float)
        return np.exp(-0.5 * ((x - np.sqrt(self.alpha_bar[t]) * x0) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


def as_schedule(schedule) -> NoiseSchedule:
    """``schedule`` itself when it is a :class:`NoiseSchedule`, else ``NoiseSchedule(schedule)``
    (the betas validated once)."""
    return schedule if isinstance(schedule, NoiseSchedule) else NoiseSchedule(schedule)


def _alpha_bar(alpha_bar) -> np.ndarray:
    """alpha_bar_0..alpha_bar_T from a schedule, or an array checked: 1-D, real, every value in
    (0, 1] (a signal fraction; NaN or values above 1 would give NaN or imaginary noise scales)."""
    if isinstance(alpha_bar, NoiseSchedule):
        return alpha_bar.alpha_bar
    ab = checks.real_array("alpha_bar", alpha_bar, ndim=1, finite=False)
    if ab.size < 1:
        raise ValueError("alpha_bar is empty: need alpha_bar_0..alpha_bar_T")
    bad = np.flatnonzero(~((ab > 0) & (ab <= 1)))
    if bad.size:
        raise ValueError(f"alpha_bar[{bad[0]}] = {ab[bad[0]]} is outside (0, 1]")
    return ab


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """Linear schedule of Ho et al. (2020): beta_t evenly spaced from beta_start to beta_end.

    Returns:
        betas (np.ndarray): beta_1..beta_T, shape (T,)
    Raises:
        ValueError: T < 1, beta_start / beta_end outside (0, 1) or not finite, or
            beta_start > beta_end (a decreasing schedule: noise must grow, Definition 21.8)
        TypeError: T not an integer, betas not real numbers
    """
    T = _check_T(T)
    b0 = checks.real("beta_start", beta_start, low=0, high=1, low_open=True, high_open=True)
    b1 = checks.real("beta_end", beta_end, low=0, high=1, low_open=True, high_open=True)
    if b0 > b1:
        raise ValueError(f"beta_start = {b0:g} exceeds beta_end = {b1:g}: a noise schedule must "
                         "increase (Definition 21.8)")
    return check_betas(np.linspace(b0, b1, T))


def alpha_bars(betas) -> np.ndarray:
    """alpha_bar_t = prod_{s=1..t} (1 - beta_s) for t = 0..T, alpha_bar_0 = 1 (Definition 21.9).

    Args:
        betas (array or NoiseSchedule): beta_1..beta_T
    Returns:
        alpha_bar (np.ndarray): a new array of length T + 1
    """
    return np.array(as_schedule(betas).alpha_bar)


# --------------------------------------------------------------------------------------------------
# helpers


def _check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"T must be an integer >= 1, got {T!r}")
    if T < 1:
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
        return linear_beta_schedule(T, beta_start, beta_end)
    if kind == "cosine":
        return cosine_beta_schedule(T)
    raise ValueError(f"unknown schedule {kind!r}; choose 'linear' or 'cosine'")


def snr(alpha_bar) -> np.ndarray:
    """Signal-to-noise ratio SNR(t) = alpha_bar_t / (1 - alpha_bar_t) of x_t (Theorem 21.4).

    SNR(0) = inf (no noise at t = 0).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        alpha_bar (np.ndarray or NoiseSchedule): alpha_bar_0..alpha_bar_T
    Returns:
        snr (np.ndarray): same shape
    Raises:
        ValueError: values outside (0, 1] or not 1-D
    """
    if isinstance(alpha_bar, NoiseSchedule):
        return np.array(alpha_bar.snr)
    ab = np.asarray(alpha_bar, dtype=float)
    if ab.ndim != 1 or ab.size < 1:
        raise ValueError(f"alpha_bar must be a non-empty 1-D array, got shape {ab.shape}")
    if np.any(~((ab > 0) & (ab <= 1))):
        raise ValueError("alpha_bar values must lie in (0, 1]")
    with np.errstate(divide="ignore"):
        return np.where(ab < 1, ab / np.where(ab < 1, 1.0 - ab, 1.0), np.inf)
