import numpy as np
import pytest

from m2d import diffusion as df


def test_linear_schedule_and_alpha_bar():
    b = df.linear_beta_schedule(1000)
    assert b.shape == (1000,) and b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    ab = df.alpha_bars(b)
    assert ab.shape == (1001,) and ab[0] == 1.0
    assert ab[1] == pytest.approx(1 - 1e-4)
    assert ab[10] == pytest.approx(np.prod(1 - b[:10]))
    assert np.all(np.diff(ab) < 0)


def test_q_sample_mean_and_variance():
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    rng = np.random.default_rng(0)
    n = 200_000
    for t in (1, 250, 1000):
        x = df.q_sample(np.full(n, 0.8), t, ab, rng.standard_normal(n))
        se = np.sqrt(1 - ab[t]) / np.sqrt(n)
        assert abs(x.mean() - np.sqrt(ab[t]) * 0.8) < 5 * se + 1e-12
        assert x.var() == pytest.approx(1 - ab[t], rel=0.02)


@pytest.mark.parametrize("betas,msg", [
    ([0.1, 1.0], r"beta_2 = 1 is outside"), ([0.0], r"beta_1 = 0"), ([], "T must be"),
    ([[0.1]], "1-D"),
])
def test_bad_schedules(betas, msg):
    with pytest.raises(ValueError, match=msg):
        df.alpha_bars(betas)


def test_bad_t_and_shapes():
    ab = df.alpha_bars(df.linear_beta_schedule(10))
    with pytest.raises(ValueError, match=r"0\.\.10"):
        df.q_sample(np.zeros(3), 11, ab, np.zeros(3))
    with pytest.raises(ValueError, match="noise shape"):
        df.q_sample(np.zeros(3), 1, ab, np.zeros(4))
    with pytest.raises(ValueError, match="T must be"):
        df.linear_beta_schedule(0)


# ----------------------------------------------------------------------------------------------
# schedules


def _cosine_reference(T, s=0.008):
    """Independent loop implementation of Nichol & Dhariwal's schedule (their eq. 17, betas clipped)."""
    import math

    f = [math.cos(((t / T) + s) / (1 + s) * math.pi / 2) ** 2 for t in range(T + 1)]
    return np.array([min(1 - (f[t] / f[0]) / (f[t - 1] / f[0]), 0.999) for t in range(1, T + 1)])


@pytest.mark.parametrize("T", [1, 10, 1000])
def test_cosine_schedule_matches_formula(T):
    b = df.cosine_beta_schedule(T)
    assert b.shape == (T,)
    np.testing.assert_allclose(b, _cosine_reference(T), rtol=1e-12, atol=1e-15)
    assert b[-1] == pytest.approx(0.999)  # f(T) = 0 is clipped
    ab = df.alpha_bars(b)
    f = np.cos((np.arange(T + 1) / T + 0.008) / 1.008 * np.pi / 2) ** 2
    np.testing.assert_allclose(ab[:-1], (f / f[0])[:-1], rtol=1e-10)


def test_schedules_agree_with_diffusers_if_installed():
    diffusers = pytest.importorskip("diffusers")
    lin = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    np.testing.assert_allclose(df.linear_beta_schedule(1000), lin.betas.numpy(), atol=1e-6)
    np.testing.assert_allclose(df.alpha_bars(df.linear_beta_schedule(1000))[1:],
                               lin.alphas_cumprod.numpy(), atol=1e-6)
    cos = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    np.testing.assert_allclose(df.cosine_beta_schedule(1000), cos.betas.numpy(), atol=1e-6)


def test_alpha_bar_is_the_product():
    b = df.cosine_beta_schedule(50)
    ab = df.alpha_bars(b)
    for t in (0, 1, 7, 50):
        prod = 1.0
        for s in range(1, t + 1):
            prod *= 1 - b[s - 1]
        assert ab[t] == pytest.approx(prod, rel=1e-12)


def test_snr():
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    r = df.snr(ab)
    assert r.shape == (1001,) and np.isinf(r[0])
    np.testing.assert_allclose(r[1:], ab[1:] / (1 - ab[1:]))
    assert np.all(np.diff(r[1:]) < 0)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        df.snr([1.0, 0.0])


@pytest.mark.parametrize("call,msg", [
    (lambda: df.cosine_beta_schedule(0), "T must be"),
    (lambda: df.cosine_beta_schedule(10, s=-1), "s must be"),
    (lambda: df.linear_beta_schedule(10, 0.5, 1.5), r"beta_end = 1\.5 is outside"),
    (lambda: df.linear_beta_schedule(10, -0.1, 0.2), r"beta_start = -0\.1 is outside"),
    (lambda: df.make_schedule("linear", 10, 0.1, 0.01), "must increase"),
    (lambda: df.make_schedule("sigmoid", 10), "unknown schedule"),
    (lambda: df.alpha_bars([0.1, np.nan]), "beta_2"),
])
def test_each_bad_schedule_gives_its_error(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


# ----------------------------------------------------------------------------------------------
# forward chain (Definition 21.8) against the closed form (Theorem 21.4)


def test_forward_chain_marginals_match_q_sample():
    b = df.linear_beta_schedule(200, 1e-3, 0.05)
    ab = df.alpha_bars(b)
    n, x0 = 40_000, 0.8
    xs = df.forward_chain(np.full(n, x0), b, np.random.default_rng(1))
    assert xs.shape == (201, n) and np.all(xs[0] == x0)
    closed = df.q_sample(np.full(n, x0), 200, ab, np.random.default_rng(2).standard_normal(n))
    for t in (1, 20, 100, 200):
        sd = np.sqrt(1 - ab[t])
        assert abs(xs[t].mean() - np.sqrt(ab[t]) * x0) < 5 * sd / np.sqrt(n)
        # sample variance has standard error ~ var * sqrt(2 / n)
        assert abs(xs[t].var() - (1 - ab[t])) < 5 * (1 - ab[t]) * np.sqrt(2 / n)
    assert abs(xs[200].mean() - closed.mean()) < 5 * np.sqrt(2 / n)
    assert xs[200].var() == pytest.approx(closed.var(), rel=0.05)


def test_forward_marginal_check_is_within_tolerance():
    b = df.linear_beta_schedule(1000)
    c = df.forward_marginal_check(0.5, b, 4000, 0, [1, 500, 1000])
    np.testing.assert_allclose(c["mean_theory"], np.sqrt(df.alpha_bars(b)[[1, 500, 1000]]) * 0.5)
    assert np.all(np.abs(c["z_mean"]) < 4) and np.all(np.abs(c["z_var"]) < 4)
    with pytest.raises(ValueError, match="2 chains"):
        df.forward_marginal_check(0.5, b, 1, 0, [1])


def test_forward_chain_reproducible_and_validates_rng():
    b = df.linear_beta_schedule(5)
    a = df.forward_chain(np.zeros((2, 3)), b, 7)
    assert a.shape == (6, 2, 3)
    np.testing.assert_array_equal(a, df.forward_chain(np.zeros((2, 3)), b, np.random.default_rng(7)))
    with pytest.raises(ValueError, match="rng"):
        df.forward_chain(np.zeros(2), b, "seed")


def test_variance_algebra_of_the_proof():
    # alpha_t (1 - alpha_bar_{t-1}) + beta_t = 1 - alpha_bar_t, the step of the induction
    b = df.cosine_beta_schedule(300)
    ab = df.alpha_bars(b)
    np.testing.assert_allclose((1 - b) * (1 - ab[:-1]) + b, 1 - ab[1:], atol=1e-14)


def test_q_sample_broadcasts_array_t():
    ab = df.alpha_bars(df.linear_beta_schedule(10))
    x = df.q_sample(np.ones((3, 4)), np.array([0, 5, 10]), ab, np.zeros((3, 4)))
    np.testing.assert_allclose(x[:, 0], np.sqrt(ab[[0, 5, 10]]))
    with pytest.raises(ValueError, match="broadcast"):
        df.q_sample(np.ones((3, 4)), np.array([0, 5]), ab, np.zeros((3, 4)))


# ----------------------------------------------------------------------------------------------
# posterior (Theorem 21.5)


@pytest.mark.parametrize("t", [2, 10, 100, 1000])
def test_posterior_matches_numerical_bayes(t):
    b = df.linear_beta_schedule(1000)
    x0, x_t = 0.6, -0.3
    mean, var = df.q_posterior(x0, x_t, t, b)
    sd = np.sqrt(var)
    grid = np.linspace(mean - 12 * sd, mean + 12 * sd, 4001)
    m_num, v_num, dens = df.posterior_by_bayes(x0, x_t, t, b, grid)
    assert m_num == pytest.approx(float(mean), abs=1e-6 * max(1, abs(mean)))
    assert v_num == pytest.approx(float(var), rel=1e-5)


def test_posterior_closed_form_and_edge_cases():
    b = df.linear_beta_schedule(1000)
    ab = df.alpha_bars(b)
    t = 500
    mean, var = df.q_posterior(1.0, 0.0, t, b)
    assert float(mean) == pytest.approx(np.sqrt(ab[t - 1]) * b[t - 1] / (1 - ab[t]))
    assert var == pytest.approx((1 - ab[t - 1]) / (1 - ab[t]) * b[t - 1])
    m1, v1 = df.q_posterior(0.3, 2.0, 1, b)  # x_0 is known at t = 1
    assert float(m1) == pytest.approx(0.3) and v1 == pytest.approx(0.0)
    for bad in (0, 1001):
        with pytest.raises(ValueError, match=r"1\.\.1000"):
            df.q_posterior(0.0, 0.0, bad, b)
    with pytest.raises(ValueError, match="broadcast"):
        df.q_posterior(np.zeros(3), np.zeros(4), 2, b)
    with pytest.raises(ValueError, match=r"2\.\.1000"):
        df.posterior_by_bayes(0.0, 0.0, 1, b, np.linspace(-1, 1, 11))


def test_reverse_mean_equals_posterior_mean_of_predicted_x0():
    b = df.cosine_beta_schedule(100)
    ab = df.alpha_bars(b)
    rng = np.random.default_rng(3)
    x_t, eps = rng.standard_normal(5), rng.standard_normal(5)
    for t in (1, 2, 50, 100):
        x0_hat = df.predict_x0(x_t, t, eps, ab)
        np.testing.assert_allclose(df.reverse_mean(x_t, t, eps, b), df.q_posterior(x0_hat, x_t, t, b)[0],
                                   rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# ELBO (Theorem 21.5) on 1-D Gaussian data, where log p_theta(x_0) is exact


def test_elbo_decomposition_and_bound():
    T, s2 = 20, 0.25
    b = df.linear_beta_schedule(T, 1e-3, 0.3)
    ab = df.alpha_bars(b)
    c = df.gaussian_data_eps_coef(ab, s2)

    def eps_fn(x, t):
        return c[t] * x

    x0 = np.random.default_rng(0).normal(0, np.sqrt(s2), 20_000)
    terms = df.elbo_terms(x0, eps_fn, b, 1, decoder="gaussian")
    direct = df.elbo_direct(x0, eps_fn, b, 2)
    se = direct.std() / np.sqrt(direct.size)
    assert -terms["total"] == pytest.approx(direct.mean(), abs=5 * se + 2e-3)
    assert terms["L_T"] > 0 and np.all(terms["L"] >= 0)
    v0 = df.linear_reverse_marginal_variance(c, b)
    log_p = -0.5 * np.log(2 * np.pi * v0) - 0.5 * x0**2 / v0
    assert direct.mean() <= log_p.mean() + 5 * se  # ELBO <= log-likelihood
    # and for single values of x_0 (the bound holds pointwise)
    for x in (0.0, 0.9):
        e = df.elbo_direct(np.full(20_000, x), eps_fn, b, 3)
        assert e.mean() <= -0.5 * np.log(2 * np.pi * v0) - 0.5 * x**2 / v0 + 5 * e.std() / np.sqrt(e.size)


def test_elbo_terms_weighted_subset_estimates_the_full_sum():
    T, s2 = 50, 0.25
    b = df.linear_beta_schedule(T, 0.01, 0.2)
    c = df.gaussian_data_eps_coef(df.alpha_bars(b), s2) * 0.7  # an imperfect predictor

    def eps_fn(x, t):
        return c[t] * x

    x0 = np.random.default_rng(0).normal(0, np.sqrt(s2), 50_000)
    full = df.elbo_terms(x0, eps_fn, b, 1, decoder="gaussian")
    assert full["t"].tolist() == list(range(2, T + 1))
    # the steep first steps exactly, then one step per stratum of 5 with weight 5
    ts = np.concatenate([np.arange(2, 11), np.arange(13, 51, 5)])
    w = np.concatenate([np.ones(9), np.full(8, 5.0)])
    subset = df.elbo_terms(x0, eps_fn, b, 1, ts=ts, weights=w, decoder="gaussian")
    assert w.sum() == T - 1 and subset["sum_L"] == pytest.approx(full["sum_L"], rel=0.03)
    with pytest.raises(ValueError, match="weights shape"):
        df.elbo_terms(x0, eps_fn, b, 1, ts=[2, 3], weights=[1.0], decoder="gaussian")


def test_discretized_likelihood_sums_to_one():
    grid = np.arange(256) * 2 / 255 - 1
    for mean, std in ((0.1, 0.01), (-0.99, 0.3), (0.999, 0.004), (5.0, 0.1)):
        p = np.exp(df.discretized_gaussian_log_likelihood(grid, mean, std))
        assert p.sum() == pytest.approx(1.0, abs=1e-6 if abs(mean) < 2 else 1e-3)
    with pytest.raises(ValueError, match="std"):
        df.discretized_gaussian_log_likelihood(grid, 0.0, 0.0)


def test_gaussian_kl():
    assert df.gaussian_kl(0.0, 1.0, 0.0, 1.0) == pytest.approx(0.0)
    assert df.gaussian_kl(1.0, 1.0, 0.0, 1.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive"):
        df.gaussian_kl(0, 0, 0, 1)


# ----------------------------------------------------------------------------------------------
# score (Definition 21.11, Theorem 21.6)


def _mixture2d():
    return df.GaussianMixture([0.5, 0.3, 0.2], [[-2.0, 0.0], [1.5, 1.5], [1.0, -2.0]], [0.3, 0.5, 0.4])


@pytest.mark.parametrize("t", [1, 50, 300, 999])
def test_exact_score_equals_score_from_optimal_noise(t):
    mix = _mixture2d()
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    x = np.random.default_rng(t).normal(0, 2, (200, 2))
    exact = mix.noised(ab[t]).score(x)
    from_eps = df.score_from_noise(mix.optimal_eps(x, ab[t]), t, ab)
    np.testing.assert_allclose(from_eps, exact, rtol=1e-7, atol=1e-7)


def test_mixture_score_is_the_gradient_and_optimal_eps_the_posterior_mean():
    mix = df.GaussianMixture([0.6, 0.4], [[-1.0], [2.0]], [0.2, 0.5])
    ab_t = 0.7
    pt = mix.noised(ab_t)
    x = np.linspace(-3, 4, 15)[:, None]
    h = 1e-5
    num = (pt.log_density(x + h) - pt.log_density(x - h)) / (2 * h)
    np.testing.assert_allclose(pt.score(x)[:, 0], num, rtol=1e-5, atol=1e-6)
    # E[eps | x_t] by quadrature over x_0 (Bayes, no formula for the posterior)
    g = np.linspace(-6, 8, 20001)[:, None]
    prior = np.exp(mix.log_density(g))
    for xt in (-1.0, 0.5, 2.5):
        lik = np.exp(-0.5 * (xt - np.sqrt(ab_t) * g[:, 0]) ** 2 / (1 - ab_t))
        eps = (xt - np.sqrt(ab_t) * g[:, 0]) / np.sqrt(1 - ab_t)
        e_num = np.sum(eps * prior * lik) / np.sum(prior * lik)
        assert mix.optimal_eps(np.array([[xt]]), ab_t)[0, 0] == pytest.approx(e_num, abs=1e-6)


def test_score_from_noise_validates():
    ab = df.alpha_bars(df.linear_beta_schedule(10))
    with pytest.raises(ValueError, match=r"1\.\.10"):
        df.score_from_noise(np.zeros(3), 0, ab)
    with pytest.raises(ValueError, match="broadcast"):
        df.score_from_noise(np.zeros((3, 2)), np.array([1, 2]), ab)
    np.testing.assert_allclose(df.score_from_noise(np.ones(2), 10, ab), -1 / np.sqrt(1 - ab[10]))


def test_mixture_validation():
    with pytest.raises(ValueError, match="sum to 1"):
        df.GaussianMixture([0.5, 0.6], [[0.0], [1.0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="stds"):
        df.GaussianMixture([1.0], [[0.0]], [0.0])
    with pytest.raises(ValueError, match="last axis"):
        df.GaussianMixture([1.0], [[0.0, 0.0]], [1.0]).score(np.zeros((3, 3)))


def test_q_sample_keeps_float32_and_matches_float64():
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((8, 16, 16)).astype(np.float32)
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    t = rng.integers(0, 1001, size=8)
    x32 = df.q_sample(x0, t, ab, eps)
    x64 = df.q_sample(x0.astype(np.float64), t, ab, eps.astype(np.float64))
    assert x32.dtype == np.float32 and x64.dtype == np.float64
    np.testing.assert_allclose(x32, x64, atol=1e-6)


@pytest.mark.parametrize("t", [np.arange(64) * 15, 700])
def test_q_sample_large_float32_batches_match_float64(t):
    """Large float32 batches take the vectorised (torch) path; scalar and per-item t, same numbers as
    float64 arithmetic, and read-only input (numpy path) gives the same result."""
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((64, 32, 32)).astype(np.float32)
    assert x0.size >= df.forward._TORCH_MIN_SIZE
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    x32 = df.q_sample(x0, t, ab, eps)
    x64 = df.q_sample(x0.astype(np.float64), t, ab, eps.astype(np.float64))
    assert x32.dtype == np.float32 and x32.shape == x0.shape
    np.testing.assert_allclose(x32, x64, atol=1e-6)
    x0.flags.writeable = False
    np.testing.assert_allclose(df.q_sample(x0, t, ab, eps), x32, atol=1e-6)
    with pytest.raises(ValueError, match="does not broadcast"):
        df.q_sample(x0, np.arange(5), ab, eps)


# ----------------------------------------------------------------------------------------------
# NoiseSchedule: validated once, quantities equal the formulas and the plain functions


def test_noise_schedule_quantities_equal_the_formulas():
    b = df.cosine_beta_schedule(200)
    s = df.NoiseSchedule(b)
    assert s.T == 200 and "T=200" in repr(s)
    np.testing.assert_array_equal(s.betas, b)
    np.testing.assert_array_equal(s.alphas, 1 - b)
    np.testing.assert_allclose(s.alpha_bar[[0, 1, 50, 200]],
                               [1.0, 1 - b[0], np.prod(1 - b[:50]), np.prod(1 - b)], rtol=1e-12)
    np.testing.assert_array_equal(s.alpha_bar, df.alpha_bars(b))
    np.testing.assert_array_equal(s.snr, df.snr(s.alpha_bar))
    assert np.isinf(s.snr[0]) and s.snr[7] == pytest.approx(s.alpha_bar[7] / (1 - s.alpha_bar[7]))
    for mine, plain in zip(s.posterior_coefficients, df.posterior_coefficients(b), strict=True):
        np.testing.assert_array_equal(mine, plain)
    t = 30
    ab = s.alpha_bar
    assert s.beta_tilde[t] == pytest.approx((1 - ab[t - 1]) / (1 - ab[t]) * b[t - 1])
    for kind in ("beta", "posterior"):
        np.testing.assert_array_equal(s.reverse_variances(kind), df.reverse_variances(b, kind))
    assert s.reverse_variances("posterior")[1] == s.beta_tilde[2]
    with pytest.raises(ValueError, match="unknown variance"):
        s.reverse_variances("learned")
    # the plain functions accept the schedule wherever they accept betas or alpha_bar
    x0, x_t = np.array([0.3, -0.2]), np.array([1.0, 0.5])
    np.testing.assert_array_equal(df.q_posterior(x0, x_t, t, s)[0], df.q_posterior(x0, x_t, t, b)[0])
    np.testing.assert_array_equal(s.reverse_mean(x_t, t, x0), df.reverse_mean(x_t, t, x0, b))
    np.testing.assert_array_equal(df.q_sample(x0, t, s, x_t), df.q_sample(x0, t, ab, x_t))
    np.testing.assert_array_equal(s.predict_x0(x_t, t, x0), df.predict_x0(x_t, t, x0, ab))
    np.testing.assert_array_equal(s.score_from_noise(x0, t), df.score_from_noise(x0, t, ab))
    assert s.summary() == {"beta_1": b[0], "beta_T": b[-1], "alpha_bar_T": ab[-1],
                           "snr_below_1_from": int(np.flatnonzero(s.snr < 1)[0])}


def test_noise_schedule_is_validated_once_and_read_only(monkeypatch):
    calls = []
    real = df.check_betas
    monkeypatch.setattr(df.schedule, "check_betas", lambda b: calls.append(1) or real(b))
    b = np.linspace(1e-3, 0.2, 30)
    s = df.NoiseSchedule(b)
    x0 = np.random.default_rng(0).normal(0, 0.5, 200)
    df.elbo_terms(x0, lambda x, t: 0.1 * x, s, 1, decoder="gaussian")
    df.elbo_direct(x0, lambda x, t: 0.1 * x, s, 2)
    df.q_posterior(0.1, 0.2, 5, s)
    assert len(calls) == 1  # built once, reused by every function
    calls.clear()
    df.elbo_terms(x0, lambda x, t: 0.1 * x, b, 1, decoder="gaussian")
    assert len(calls) == 1  # from betas: one schedule per call, not one per step
    with pytest.raises(ValueError):
        s.alpha_bar[3] = 0.5
    b[0] = 0.5  # the schedule keeps its own copy
    assert s.betas[0] == 1e-3
    assert df.NoiseSchedule(s).betas is s.betas
    with pytest.raises(ValueError, match="beta_2"):
        df.NoiseSchedule([0.1, 1.5])
    assert df.NoiseSchedule.make("cosine", 10).T == 10


def test_elbo_weights_give_the_kl_term_from_the_noise_error():
    """L_{t-1} = lambda_t E||eps - eps_theta||^2 when sigma_t^2 = beta_tilde_t (Theorem 21.5)."""
    b = df.linear_beta_schedule(50, 1e-3, 0.2)
    s = df.NoiseSchedule(b)
    lam = df.elbo_weights(s, "posterior")
    assert np.isnan(lam[0]) and lam.shape == (51,)
    np.testing.assert_allclose(df.elbo_weights(b)[1:], b / (2 * (1 - b) * (1 - s.alpha_bar[1:])))
    x0 = np.random.default_rng(0).normal(0, 0.5, (4000,))
    eps_fn = lambda x, t: 0.3 * x  # noqa: E731
    terms = df.elbo_terms(x0, eps_fn, s, 3, ts=[10, 40], decoder="gaussian")
    rng = np.random.default_rng(3)
    for t, L in zip((10, 40), terms["L"], strict=True):
        eps = rng.standard_normal(x0.shape)
        x_t = s.q_sample(x0, t, eps)
        assert L == pytest.approx(lam[t] * np.mean((eps - eps_fn(x_t, t)) ** 2), rel=1e-9)


def test_marginal_variance_step_and_marginal_pdf():
    s = df.NoiseSchedule(df.cosine_beta_schedule(300))
    lhs, rhs = df.marginal_variance_step(s)
    np.testing.assert_allclose(lhs, rhs, atol=1e-14)
    x = np.linspace(-6, 6, 20001)
    p = s.marginal_pdf(x, 100, 0.5)
    assert np.sum(p) * (x[1] - x[0]) == pytest.approx(1.0, abs=1e-6)
    assert np.sum(x * p) * (x[1] - x[0]) == pytest.approx(np.sqrt(s.alpha_bar[100]) * 0.5, abs=1e-6)
    with pytest.raises(ValueError, match=r"1\.\.300"):
        s.marginal_pdf(x, 0, 0.5)


def test_posterior_check_agrees_with_numerical_bayes():
    c = df.posterior_check(0.6, -0.3, [2, 100, 1000], df.linear_beta_schedule(1000))
    assert list(c["t"]) == [2, 100, 1000] and len(c["density"]) == 3 and c["grid"][0].size == 4001
    np.testing.assert_allclose(c["mean_bayes"], c["mean"], atol=1e-6)
    assert np.all(c["rel_err_var"] < 1e-5)


def test_linear_predictor_elbo_is_a_bound_with_a_gap():
    b = df.linear_beta_schedule(20, 1e-3, 0.3)
    c = df.gaussian_data_eps_coef(df.alpha_bars(b), 0.25)
    x0 = np.random.default_rng(0).normal(0, 0.5, 20_000)
    good = df.linear_predictor_elbo(x0, c, b, 1, 2)
    bad = df.linear_predictor_elbo(x0, c / 2, b, 1, 2)
    for r in (good, bad):
        assert r["elbo"] == pytest.approx(r["elbo_direct"], abs=5 * r["se"] + 2e-3)
        assert r["elbo"] == pytest.approx(-(r["L_T"] + r["sum_L"] + r["L_0"]))
        assert r["gap"] == pytest.approx(r["log_p"] - r["elbo"]) and r["gap"] > -5 * r["se"]
    assert bad["elbo"] < good["elbo"] and bad["gap"] > good["gap"]


def test_mixture_score_check_identity_and_a_perfect_predictor():
    mix = _mixture2d()
    s = df.NoiseSchedule(df.linear_beta_schedule(1000))
    pts = np.random.default_rng(0).normal(0, 2, (50, 2))
    exact_eps = lambda x, t: mix.optimal_eps(x, s.alpha_bar[t])  # noqa: E731
    c = df.mixture_score_check(mix, s, [10, 500], exact_eps, pts, n=500)
    assert c["t"] == [10, 500] and max(c["max_abs"]) < 1e-7
    assert max(c["rel_err"]) < 1e-12 and np.allclose(c["learned"][0], c["exact"][0], atol=1e-7)
    zero = df.mixture_score_check(mix, s, [10], lambda x, t: np.zeros_like(x), pts, n=500)
    assert zero["rel_err"][0] == pytest.approx(1.0)
