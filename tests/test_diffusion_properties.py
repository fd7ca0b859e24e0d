"""Property tests (hypothesis) for the diffusion module, as Part I has for stochastic matrices:
for any valid schedule and inputs, the identities of Definitions 21.8-21.11 and Theorems 21.4-21.6
hold to rounding, and nothing non-finite comes out of finite input."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from m2d import diffusion as df

schedules = st.tuples(st.integers(1, 400), st.floats(1e-5, 0.05), st.floats(0.0, 0.5)).map(
    lambda a: df.linear_beta_schedule(a[0], a[1], min(a[1] + a[2], 0.999)))
values = st.floats(-5, 5, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(schedules)
def test_alpha_bar_decreases_from_one_and_snr_with_it(betas):
    ab = df.alpha_bars(betas)
    assert ab[0] == 1.0 and np.all(np.diff(ab) < 0) and np.all(ab > 0)
    np.testing.assert_allclose(ab[1:], np.cumprod(1 - betas), rtol=1e-12)
    s = df.snr(ab)
    assert np.isinf(s[0]) and np.all(np.diff(s[1:]) < 0)


@settings(max_examples=60, deadline=None)
@given(schedules, st.data(), values, values)
def test_q_sample_is_the_affine_map_of_theorem_21_4(betas, data, x0, eps):
    ab = df.alpha_bars(betas)
    t = data.draw(st.integers(0, len(betas)))
    x_t = df.q_sample(np.array([x0]), t, ab, np.array([eps]))[0]
    assert np.isfinite(x_t)
    assert np.isclose(x_t, np.sqrt(ab[t]) * x0 + np.sqrt(1 - ab[t]) * eps, rtol=1e-12, atol=1e-12)
    # predict_x0 inverts it given the true noise (Definition 21.10's parameterisation)
    if t > 0:
        x0_hat = df.predict_x0(np.array([x_t]), t, np.array([eps]), ab)[0]
        assert np.isclose(x0_hat, x0, atol=1e-6 * (1 + abs(eps)) / np.sqrt(ab[t]))


@settings(max_examples=60, deadline=None)
@given(schedules, st.data(), values, values)
def test_posterior_variance_and_mean(betas, data, x0, x_t):
    """Lemma (posterior): beta_tilde_t = (1 - ab_{t-1}) / (1 - ab_t) beta_t in (0, beta_t], and the
    posterior mean is the convex-type combination of x0 and x_t with the closed-form coefficients."""
    t = data.draw(st.integers(1, len(betas)))
    mean, var = df.q_posterior(np.array([x0]), np.array([x_t]), t, betas)
    ab = df.alpha_bars(betas)
    expected_var = (1 - ab[t - 1]) / (1 - ab[t]) * betas[t - 1]
    assert np.isclose(var if np.ndim(var) == 0 else np.ravel(var)[0], expected_var, rtol=1e-10)
    assert 0 <= expected_var <= betas[t - 1] * (1 + 1e-12)
    c0 = np.sqrt(ab[t - 1]) * betas[t - 1] / (1 - ab[t])
    ct = np.sqrt(1 - betas[t - 1]) * (1 - ab[t - 1]) / (1 - ab[t])
    assert np.isclose(mean[0], c0 * x0 + ct * x_t, rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(schedules, st.data(), values, values)
def test_reverse_mean_with_the_true_noise_is_the_posterior_mean(betas, data, x0, eps):
    ab = df.alpha_bars(betas)
    t = data.draw(st.integers(1, len(betas)))
    x_t = df.q_sample(np.array([x0]), t, ab, np.array([eps]))
    mu = df.reverse_mean(x_t, t, np.array([eps]), betas)
    post, _ = df.q_posterior(np.array([x0]), x_t, t, betas)
    assert np.isclose(mu[0], post[0], rtol=1e-7, atol=1e-7 * (1 + abs(x0) + abs(eps)) / np.sqrt(ab[t]))


@settings(max_examples=60, deadline=None)
@given(schedules, st.data(), values)
def test_score_of_the_true_noise(betas, data, eps):
    """Theorem 21.6: s = -eps / sqrt(1 - ab_t); for Gaussian q(x_t | x_0) it is the exact score
    -(x_t - sqrt(ab_t) x_0) / (1 - ab_t)."""
    ab = df.alpha_bars(betas)
    t = data.draw(st.integers(1, len(betas)))
    x0 = 0.3
    x_t = df.q_sample(np.array([x0]), t, ab, np.array([eps]))[0]
    s = df.score_from_noise(np.array([eps]), t, ab)[0]
    assert np.isclose(s, -(x_t - np.sqrt(ab[t]) * x0) / (1 - ab[t]), rtol=1e-6, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(-3, 3), st.floats(1e-3, 3), st.floats(-3, 3), st.floats(1e-3, 3))
def test_gaussian_kl_is_non_negative_and_zero_only_on_equal(m1, v1, m2, v2):
    kl = df.gaussian_kl(m1, v1, m2, v2)
    assert np.isfinite(kl) and kl >= -1e-12
    assert abs(df.gaussian_kl(m1, v1, m1, v1)) < 1e-12
