"""Part III: the DDPM forward process, its closed form and score matching (Definitions 21.8-21.11,
Theorems 21.4-21.6), on numpy arrays.

A :class:`NoiseSchedule` validates beta_1..beta_T once and computes everything derived from it once
(alpha_t, alpha_bar_t, SNR(t), the posterior coefficients, the reverse variances, the ELBO weights
lambda_t), in the style of ``quantecon.MarkovChain``. The plain functions (:func:`alpha_bars`,
:func:`q_sample`, :func:`q_posterior`, :func:`reverse_mean`, :func:`elbo_terms`, ...) keep their
signatures and accept either the betas or a schedule; they build (or reuse) one schedule per call.

Convention: ``betas`` holds beta_1..beta_T (length T); ``alpha_bar`` holds alpha_bar_t for
t = 0..T (length T + 1) with alpha_bar_0 = 1, so ``alpha_bar[t]`` is alpha_bar_t.

The package's modules, one idea each: :mod:`~m2d.diffusion.schedule` (NoiseSchedule, Definitions
21.8-21.9), :mod:`~m2d.diffusion.forward` (Theorems 21.4-21.5), :mod:`~m2d.diffusion.reverse`
(Definition 21.10, the ELBO of Theorem 21.5), :mod:`~m2d.diffusion.score` (Definition 21.11,
Theorem 21.6). Their public functions are re-exported here: ``diffusion.alpha_bars``,
``diffusion.q_sample``, ``diffusion.elbo_terms``, ...

Notebook: notebooks/03_diffusion.ipynb
"""

from m2d.diffusion.forward import (  # noqa: F401
    forward_chain,
    forward_marginal_check,
    marginal_variance_step,
    posterior_by_bayes,
    posterior_check,
    posterior_coefficients,
    q_posterior,
    q_sample,
)
from m2d.diffusion.reverse import (  # noqa: F401
    discretized_gaussian_log_likelihood,
    elbo_direct,
    elbo_terms,
    elbo_weights,
    gaussian_data_eps_coef,
    gaussian_kl,
    linear_predictor_elbo,
    linear_reverse_marginal_variance,
    predict_x0,
    reverse_mean,
    reverse_variances,
)
from m2d.diffusion.schedule import (  # noqa: F401
    NoiseSchedule,
    alpha_bars,
    as_schedule,
    check_betas,
    cosine_beta_schedule,
    linear_beta_schedule,
    make_schedule,
    snr,
)
from m2d.diffusion.score import (  # noqa: F401
    GaussianMixture,
    mixture_score_check,
    score_from_noise,
)
