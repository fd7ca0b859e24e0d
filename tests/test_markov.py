"""Part I: every theorem checked numerically on random irreducible aperiodic matrices, and the
MarkovChain object against the plain functions (validated once, each property computed once)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2d import example_chains as ex
from m2d import markov as mk
from m2d import ngram


def random_chain(seed: int, n: int = 12, density: float = 0.6) -> np.ndarray:
    """A random irreducible aperiodic chain: a random sparse matrix plus a cycle and a self-loop."""
    rng = np.random.default_rng(seed)
    W = rng.random((n, n)) * (rng.random((n, n)) < density)
    W[np.arange(n), (np.arange(n) + 1) % n] += 0.1  # cycle: irreducible
    W[0, 0] += 0.1  # self-loop: aperiodic
    return mk.normalize_rows(W)


seeds = st.integers(0, 10_000)


# ---------------------------------------------------------------- Theorem 21.1
@settings(max_examples=30, deadline=None)
@given(seeds, st.integers(1, 20))
def test_chapman_kolmogorov(seed, n):
    P = random_chain(seed)
    Pn = mk.n_step(P, n)
    np.testing.assert_allclose(Pn.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(Pn, P @ mk.n_step(P, n - 1), atol=1e-12)
    m = n // 2
    np.testing.assert_allclose(Pn, mk.n_step(P, m) @ mk.n_step(P, n - m), atol=1e-12)


def test_n_step_zero_is_identity_and_rejects_bad_n():
    np.testing.assert_array_equal(mk.n_step(ex.TOY_CEG, 0), np.eye(3))
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative integer"):
            mk.n_step(ex.TOY_CEG, bad)


def test_n_step_matches_monte_carlo():
    P = ex.TOY_CEG
    runs = mk.sample_chains(P, 4, starts=np.zeros(40_000, dtype=int), rng=3)
    freq = np.bincount(runs[:, 3], minlength=3) / runs.shape[0]
    np.testing.assert_allclose(freq, mk.n_step(P, 3)[0], atol=0.01)  # ~5 standard errors


# ---------------------------------------------------------------- Theorem 21.2
@settings(max_examples=30, deadline=None)
@given(seeds)
def test_stationary_is_left_eigenvector(seed):
    P = random_chain(seed)
    pi = mk.stationary_distribution(P)
    assert np.all(pi > 0) and pi.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(pi @ P, pi, atol=1e-12)
    # the eigenvector from numpy's eigen-solver agrees
    w, v = np.linalg.eig(P.T)
    u = np.real(v[:, np.argmin(np.abs(w - 1))])
    np.testing.assert_allclose(pi, u / u.sum(), atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(seeds)
def test_convergence_tv_non_increasing(seed):
    P = random_chain(seed)
    d = mk.distance_to_stationarity(P, 60)
    assert np.all(np.diff(d) <= 1e-12)
    assert d[-1] < 1e-3


def test_long_run_frequency_matches_pi():
    P = ex.illiac_matrix()
    x = mk.sample_melody(P, 200_000, start="F#", rng=7)
    np.testing.assert_allclose(ngram.empirical_frequencies(x), mk.stationary_distribution(P), atol=0.006)


def test_toy_chain_g_dominates():
    pi = mk.stationary_distribution(ex.TOY_CEG)
    assert np.allclose(ex.TOY_CEG[0], [0.2, 0.3, 0.5])
    assert np.argmax(pi) == 2 and pi[2] > 0.5


def test_reducible_pi_not_unique():
    P = ex.reducible_example()
    assert not mk.is_irreducible(P)
    assert len(mk.closed_classes(P)) == 2
    with pytest.raises(ValueError, match="not unique"):
        mk.stationary_distribution(P)


def test_one_closed_class_has_unique_pi():
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])  # state 0 transient
    pi = mk.stationary_distribution(P)
    np.testing.assert_allclose(pi, [0, 0.5, 0.5], atol=1e-12)


def test_periodic_fifths():
    P = ex.fifths_permutation()
    assert mk.is_irreducible(P) and mk.period(P) == 12
    np.testing.assert_allclose(mk.stationary_distribution(P), np.full(12, 1 / 12))
    d = mk.distance_to_stationarity(P, 30)
    assert np.all(d == pytest.approx(11 / 12))  # never converges
    with pytest.raises(ValueError, match="period 12"):
        mk.mixing_time(P, t_max=50)


def test_period_of_aperiodic_and_bipartite():
    assert mk.period(ex.illiac_matrix()) == 1
    P = np.array([[0, 1.0], [1.0, 0]])
    assert mk.period(P) == 2
    with pytest.raises(ValueError, match="reducible"):
        mk.period(ex.reducible_example())


# ---------------------------------------------------------------- Definition 21.4
def test_mixing_time_definition():
    P = ex.stepwise_matrix()
    t = mk.mixing_time(P)
    d = mk.distance_to_stationarity(P, t)
    assert d[t] <= 0.25 < d[t - 1]
    assert mk.mixing_time(ex.illiac_matrix()) < t  # the Illiac chain forgets faster
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        mk.mixing_time(P, eps=1.5)


# ---------------------------------------------------------------- sampling
def test_sample_melody_reproducible_and_valid():
    P = ex.illiac_matrix()
    a = mk.sample_melody(P, 500, "C", rng=1)
    b = mk.sample_melody(P, 500, 0, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a[0] == 0 and a.shape == (500,)
    assert np.all(P[a[:-1], a[1:]] > 0)  # only allowed transitions


def test_sample_melody_transition_frequencies():
    P = ex.TOY_CEG
    x = mk.sample_melody(P, 300_000, 0, rng=11)
    Phat = ngram.fit_transition_matrix([x], n_states=3)
    np.testing.assert_allclose(Phat, P, atol=0.01)


def test_sample_melody_errors():
    with pytest.raises(ValueError, match="start state"):
        mk.sample_melody(ex.TOY_CEG, 10, start=5)
    with pytest.raises(ValueError, match="not a note name"):
        mk.sample_melody(ex.illiac_matrix(), 10, start="H")
    with pytest.raises(ValueError, match="positive integer"):
        mk.sample_melody(ex.TOY_CEG, 0)


def test_sequence_probability():
    P = ex.TOY_CEG
    assert mk.sequence_probability(P, [0, 1, 2]) == pytest.approx(0.3 * 0.6)


# ---------------------------------------------------------------- Monte Carlo and the graph
def test_monte_carlo_n_step_close_to_matrix_power():
    P = ex.illiac_matrix()
    est = mk.monte_carlo_n_step(P, 3, n_chains=20_000, rng=0)
    np.testing.assert_allclose(est.sum(axis=1), 1.0)
    np.testing.assert_allclose(est, mk.n_step(P, 3), atol=0.015)  # > 5 standard errors


@settings(max_examples=40, deadline=None)
@given(seeds, st.floats(0.05, 0.4))
def test_closed_classes_agree_with_graph_algorithm(seed, density):
    """The numpy transitive closure agrees with scipy's strongly connected components."""
    rng = np.random.default_rng(seed)
    W = rng.random((12, 12)) * (rng.random((12, 12)) < density)
    W[np.arange(12), np.arange(12)] += 0.01  # no zero rows
    P = mk.normalize_rows(W)
    fast = sorted(tuple(c.tolist()) for c in mk.closed_classes(P))
    slow = []
    for c in mk.communicating_classes(P):
        out = np.setdiff1d(np.arange(12), c)
        if not np.any(P[np.ix_(c, out)] > 0):
            slow.append(tuple(c.tolist()))
    assert fast == sorted(slow)


def test_tv_curve_matches_matrix_powers():
    P = ex.illiac_matrix()
    pi = mk.stationary_distribution(P)
    curve = mk.tv_curve(P, 6, 10)
    np.testing.assert_allclose(curve, [mk.tv_distance(mk.n_step(P, t)[6], pi) for t in range(11)],
                               atol=1e-12)


# ---------------------------------------------------------------- the MarkovChain object
@pytest.mark.parametrize("make", [ex.illiac_matrix, ex.stepwise_matrix, lambda: ex.TOY_CEG,
                                  lambda: random_chain(5)])
def test_chain_properties_equal_the_plain_functions(make):
    P = make()
    chain = mk.MarkovChain(P)
    np.testing.assert_array_equal(chain.P, mk.check_stochastic(P))
    np.testing.assert_array_equal(chain.stationary, mk.stationary_distribution(P))
    assert chain.period == mk.period(P) == 1 and chain.is_irreducible == mk.is_irreducible(P)
    assert [c.tolist() for c in chain.closed_classes] == [c.tolist() for c in mk.closed_classes(P)]
    assert chain.mixing_time() == mk.mixing_time(P)
    assert chain.mixing_time(0.01) == mk.mixing_time(P, 0.01) > chain.mixing_time()
    np.testing.assert_array_equal(chain.n_step(4), mk.n_step(P, 4))
    np.testing.assert_array_equal(chain.distance_to_stationarity(12),
                                  mk.distance_to_stationarity(P, 12))
    np.testing.assert_array_equal(chain.tv_curve(1, 12), mk.tv_curve(P, 1, 12))
    np.testing.assert_array_equal(chain.sample(200, 1, rng=4), mk.sample_melody(P, 200, 1, rng=4))
    np.testing.assert_array_equal(chain.sample_chains(5, [0, 1, 2], rng=4),
                                  mk.sample_chains(P, 5, [0, 1, 2], rng=4))
    mu = np.full(len(P), 1 / len(P))
    np.testing.assert_array_equal(chain.distribution_after(mu, 3), mk.distribution_after(mu, P, 3))


def test_chain_validates_once(monkeypatch):
    """mixing_time (pi, the loop, the error hint) and sample_melody check P exactly once."""
    calls = []
    check = mk.check_stochastic

    def counting(P, atol=1e-8):
        calls.append(1)
        return check(P, atol)

    monkeypatch.setattr(mk, "check_stochastic", counting)
    mk.mixing_time(ex.illiac_matrix())
    assert len(calls) == 1
    with pytest.raises(ValueError, match="period 12"):
        mk.mixing_time(ex.fifths_permutation(), t_max=30)
    assert len(calls) == 2
    mk.sample_melody(ex.TOY_CEG, 10, rng=0)
    mk.stationary_distribution(ex.TOY_CEG)
    assert len(calls) == 4
    with pytest.raises(ValueError, match="row 0 sums to"):
        mk.MarkovChain([[0.5, 0.6], [0.5, 0.5]])


def test_cached_properties_are_computed_once(monkeypatch):
    chain = mk.MarkovChain(ex.illiac_matrix())
    solves = []
    solve = np.linalg.solve
    monkeypatch.setattr(np.linalg, "solve", lambda *a: solves.append(1) or solve(*a))
    pi = chain.stationary
    assert chain.stationary is pi and len(solves) == 1
    t = chain.mixing_time()
    monkeypatch.setattr(mk, "tv_distance", lambda *a: pytest.fail("mixing time recomputed"))
    assert chain.mixing_time() == t and chain.mixing_time(0.25, 10_000) == t
    assert chain.closed_classes is chain.closed_classes
    assert chain.entropy_rate is not None and len(solves) == 1
    with pytest.raises(ValueError, match="read-only"):
        pi[0] = 1.0  # a cached array cannot be changed by a caller
    out = mk.stationary_distribution(ex.illiac_matrix())
    out[0] = 1.0  # the plain function's result is the caller's own


def test_n_step_one_is_a_copy():
    chain = mk.MarkovChain(ex.TOY_CEG)
    P1 = chain.n_step(1)
    P1[0, 0] = 5.0
    assert chain.P[0, 0] == 0.2


def test_entropy_rate():
    assert mk.MarkovChain(np.full((12, 12), 1 / 12)).entropy_rate == pytest.approx(np.log2(12))
    assert mk.MarkovChain(ex.fifths_permutation()).entropy_rate == 0.0
    P = ex.TOY_CEG
    pi = mk.stationary_distribution(P)
    h = -sum(pi[i] * P[i, j] * np.log2(P[i, j]) for i in range(3) for j in range(3))
    assert mk.MarkovChain(P).entropy_rate == pytest.approx(h)
    with pytest.raises(ValueError, match="not unique"):
        _ = mk.MarkovChain(ex.reducible_example()).entropy_rate


def test_distribution_path_rows_are_mu_p_t():
    chain = mk.MarkovChain(ex.illiac_matrix())
    path = chain.distribution_path("D", 6)
    assert path.shape == (7, 12) and path[0, 2] == 1.0
    np.testing.assert_allclose(path[6], chain.n_step(6)[2], atol=1e-14)
    np.testing.assert_allclose(path.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="start state"):
        chain.distribution_path(12, 3)

