"""Part I: every theorem checked numerically on random irreducible aperiodic matrices."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2d import markov as mk


def random_chain(seed: int, n: int = 12, density: float = 0.6) -> np.ndarray:
    """A random irreducible aperiodic chain: a random sparse matrix plus a cycle and a self-loop."""
    rng = np.random.default_rng(seed)
    W = rng.random((n, n)) * (rng.random((n, n)) < density)
    W[np.arange(n), (np.arange(n) + 1) % n] += 0.1  # cycle: irreducible
    W[0, 0] += 0.1  # self-loop: aperiodic
    return mk.normalize_rows(W)


seeds = st.integers(0, 10_000)


# ---------------------------------------------------------------- Definition 21.2
@pytest.mark.parametrize("P,msg", [
    ([[0.5, 0.5]], "square"),
    ([0.5, 0.5], "2-D"),
    ([[0.5, 0.6], [0.5, 0.5]], r"row 0 sums to 1\.1"),
    ([[1.0, 0.0], [0.3, 0.3]], r"row 1 sums to 0\.6"),
    ([[1.2, -0.2], [0.5, 0.5]], r"negative entry P\[0, 1\] = -0\.2"),
    ([[np.nan, 1.0], [0.5, 0.5]], r"P\[0, 0\] is nan"),
    ([[np.inf, 0.0], [0.5, 0.5]], r"P\[0, 0\] is inf"),
    ([["a", "b"], ["c", "d"]], "numbers"),
    (np.zeros((0, 0)), "empty"),
])
def test_check_stochastic_rejects_with_message(P, msg):
    with pytest.raises(ValueError, match=msg):
        mk.check_stochastic(P)


def test_check_stochastic_accepts_and_copies():
    P = [[0.2, 0.3, 0.5], [0.1, 0.3, 0.6], [0.3, 0.1, 0.6]]
    A = mk.check_stochastic(P)
    assert A.dtype == float and A.shape == (3, 3)


def test_normalize_rows_errors():
    with pytest.raises(ValueError, match="all zeros"):
        mk.normalize_rows([[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="negative"):
        mk.normalize_rows([[1, -1], [1, 1]])


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
    np.testing.assert_array_equal(mk.n_step(mk.TOY_CEG, 0), np.eye(3))
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative integer"):
            mk.n_step(mk.TOY_CEG, bad)


def test_n_step_matches_monte_carlo():
    P = mk.TOY_CEG
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
    P = mk.illiac_matrix()
    x = mk.sample_melody(P, 200_000, start="F#", rng=7)
    np.testing.assert_allclose(mk.empirical_frequencies(x), mk.stationary_distribution(P), atol=0.006)


def test_toy_chain_g_dominates():
    pi = mk.stationary_distribution(mk.TOY_CEG)
    assert np.allclose(mk.TOY_CEG[0], [0.2, 0.3, 0.5])
    assert np.argmax(pi) == 2 and pi[2] > 0.5


def test_reducible_pi_not_unique():
    P = mk.reducible_example()
    assert not mk.is_irreducible(P)
    assert len(mk.closed_classes(P)) == 2
    with pytest.raises(ValueError, match="not unique"):
        mk.stationary_distribution(P)


def test_one_closed_class_has_unique_pi():
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])  # state 0 transient
    pi = mk.stationary_distribution(P)
    np.testing.assert_allclose(pi, [0, 0.5, 0.5], atol=1e-12)


def test_periodic_fifths():
    P = mk.fifths_permutation()
    assert mk.is_irreducible(P) and mk.period(P) == 12
    np.testing.assert_allclose(mk.stationary_distribution(P), np.full(12, 1 / 12))
    d = mk.distance_to_stationarity(P, 30)
    assert np.all(d == pytest.approx(11 / 12))  # never converges
    with pytest.raises(ValueError, match="period 12"):
        mk.mixing_time(P, t_max=50)


def test_period_of_aperiodic_and_bipartite():
    assert mk.period(mk.illiac_matrix()) == 1
    P = np.array([[0, 1.0], [1.0, 0]])
    assert mk.period(P) == 2
    with pytest.raises(ValueError, match="reducible"):
        mk.period(mk.reducible_example())


# ---------------------------------------------------------------- Definition 21.4
def test_mixing_time_definition():
    P = mk.stepwise_matrix()
    t = mk.mixing_time(P)
    d = mk.distance_to_stationarity(P, t)
    assert d[t] <= 0.25 < d[t - 1]
    assert mk.mixing_time(mk.illiac_matrix()) < t  # the Illiac chain forgets faster
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        mk.mixing_time(P, eps=1.5)


def test_tv_distance():
    assert mk.tv_distance([1, 0], [0, 1]) == 1.0
    assert mk.tv_distance([0.5, 0.5], [0.5, 0.5]) == 0.0


# ---------------------------------------------------------------- sampling
def test_sample_melody_reproducible_and_valid():
    P = mk.illiac_matrix()
    a = mk.sample_melody(P, 500, "C", rng=1)
    b = mk.sample_melody(P, 500, 0, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a[0] == 0 and a.shape == (500,)
    assert np.all(P[a[:-1], a[1:]] > 0)  # only allowed transitions


def test_sample_melody_transition_frequencies():
    P = mk.TOY_CEG
    x = mk.sample_melody(P, 300_000, 0, rng=11)
    Phat = mk.fit_transition_matrix([x], n_states=3)
    np.testing.assert_allclose(Phat, P, atol=0.01)


def test_sample_melody_errors():
    with pytest.raises(ValueError, match="start state"):
        mk.sample_melody(mk.TOY_CEG, 10, start=5)
    with pytest.raises(ValueError, match="not a note name"):
        mk.sample_melody(mk.illiac_matrix(), 10, start="H")
    with pytest.raises(ValueError, match="positive integer"):
        mk.sample_melody(mk.TOY_CEG, 0)


def test_sequence_probability():
    P = mk.TOY_CEG
    assert mk.sequence_probability(P, [0, 1, 2]) == pytest.approx(0.3 * 0.6)


# ---------------------------------------------------------------- pitch helpers
def test_note_parsing_and_voicing():
    assert mk.parse_note("C4") == 60 and mk.parse_note("Bb") == 10 and mk.parse_note("F#5") == 78
    with pytest.raises(ValueError, match="'X9'"):
        mk.parse_note("X9")
    pcs = mk.sample_melody(mk.illiac_matrix(), 400, 0, rng=2)
    midi = mk.pcs_to_midi(pcs)
    assert midi.min() >= 55 and midi.max() <= 81
    np.testing.assert_array_equal(midi % 12, pcs)
    # nearest octave: leaps beyond a tritone only where the range forced an octave fold
    assert np.mean(np.abs(np.diff(midi)) <= 6) > 0.9


# ---------------------------------------------------------------- Proposition 21.1 and fitting
def test_parameter_count_exact():
    assert mk.kth_order_parameter_count(12, 1) == 144
    assert mk.kth_order_parameter_count(12, 16) == 12**17 == 2218611106740436992
    assert mk.kth_order_parameter_count(12, 16) > 10**18


@pytest.mark.parametrize("order", [0, 1, 2])
def test_fitted_matrix_is_stochastic_and_mle(order, bach_split):
    P = mk.fit_transition_matrix(bach_split["train"], order=order, smoothing=0.5)
    assert P.shape == (12**order, 12)
    mk.check_stochastic(P) if order == 1 else np.testing.assert_allclose(P.sum(1), 1)


def test_fit_counts_by_hand():
    seqs = [np.array([0, 1, 0, 1, 2])]
    P = mk.fit_transition_matrix(seqs, n_states=3)
    np.testing.assert_allclose(P, [[0, 1, 0], [0.5, 0, 0.5], [1 / 3] * 3])
    P2 = mk.fit_transition_matrix(seqs, n_states=3, order=2)
    # context (prev2=0, prev1=1) has code 1 + 0*3 = 1... codes: prev1 + 3*prev2
    assert P2[1 + 3 * 0, 0] == 0.5 and P2[1 + 3 * 0, 2] == 0.5


def test_dense_fit_refuses_huge():
    with pytest.raises(ValueError, match="NGramModel"):
        mk.fit_transition_matrix([[0, 1]], order=7)


def test_k_sweep_collapses(bach_split):
    """Held-out NLL improves with k, then sparsity makes k = 6 worse than the best k."""
    bits = []
    for k in range(7):
        m = mk.NGramModel(12, k, alpha=0.1).fit(bach_split["train"])
        bits.append(m.bits_per_note(bach_split["val"], first=6))
    best = int(np.argmin(bits))
    assert 1 <= best < 6
    assert bits[6] > bits[best] + 0.05
    assert bits[1] < bits[0]


def test_ngram_probabilities_sum_to_one(bach_split):
    m = mk.NGramModel(12, 3, alpha=0.1).fit(bach_split["train"])
    for code in list(m.counts)[:50] + [10**9]:
        assert m.probs(code).sum() == pytest.approx(1.0)


def test_longest_shared_run():
    assert mk.longest_shared_run([1, 2, 3, 4], [[9, 2, 3, 4, 8], [1]]) == 3
    assert mk.longest_shared_run([5, 5], [[1, 2]]) == 0


# ---------------------------------------------------------------- chapter helpers
def test_monte_carlo_n_step_close_to_matrix_power():
    P = mk.illiac_matrix()
    est = mk.monte_carlo_n_step(P, 3, n_chains=20_000, rng=0)
    np.testing.assert_allclose(est.sum(axis=1), 1.0)
    np.testing.assert_allclose(est, mk.n_step(P, 3), atol=0.015)  # > 5 standard errors


def test_embed_matrix_keeps_long_run():
    P = mk.embed_matrix(mk.TOY_CEG, [0, 4, 7])
    mk.check_stochastic(P)
    pi = mk.stationary_distribution(P)
    np.testing.assert_allclose(pi[[0, 4, 7]], mk.stationary_distribution(mk.TOY_CEG), atol=1e-12)
    assert pi.sum() == pytest.approx(pi[[0, 4, 7]].sum())
    with pytest.raises(ValueError, match="states"):
        mk.embed_matrix(mk.TOY_CEG, [0, 4])


def test_order_sweep_agrees_with_models(bach_split):
    tab = mk.order_sweep(bach_split["train"], bach_split["val"], orders=[0, 2])
    m = mk.NGramModel(12, 2, 0.1).fit(bach_split["train"])
    assert tab["bits"][1] == pytest.approx(m.bits_per_note(bach_split["val"], first=6))
    assert tab["dense_entries"][1] == 12**3 and tab["unseen"][0] == 0


def test_high_order_chains_copy_more(bach_split):
    train = bach_split["train"]
    low = mk.copy_run_lengths(mk.NGramModel(12, 1, 0.0).fit(train), train, 64, 10, rng=0)
    high = mk.copy_run_lengths(mk.NGramModel(12, 8, 0.0).fit(train), train, 64, 10, rng=0)
    assert high.mean() > 2 * low.mean()


def test_style_statistics_are_fractions(bach_split):
    st = mk.style_statistics(bach_split["train"])
    assert st["repeats"] + st["steps"] + st["leaps"] == pytest.approx(1.0)
    assert all(0 <= v <= 1 for v in st.values())


def test_pentatonic_example_21_1():
    P = mk.check_stochastic(mk.PENTATONIC)
    C, D, E, G = 0, 1, 2, 3
    assert P[C, D] == P[C, G] == P[D, E] == P[E, G] == 0.3
    terms = mk.two_step_terms(P, C, E)
    assert terms.sum() == pytest.approx(mk.n_step(P, 2)[C, E])
    assert terms[D] == pytest.approx(0.3 * 0.3)
    assert mk.sequence_probability(P, [C, D, E, G]) == pytest.approx(0.027)


def test_parse_matrix():
    np.testing.assert_array_equal(mk.parse_matrix("1 0; 0.5, 0.5"), [[1, 0], [0.5, 0.5]])
    with pytest.raises(ValueError, match="'x' is not a number"):
        mk.parse_matrix("1 x\n0 1")
    with pytest.raises(ValueError, match="different lengths"):
        mk.parse_matrix("1 0 0; 1 0")


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
    P = mk.illiac_matrix()
    pi = mk.stationary_distribution(P)
    curve = mk.tv_curve(P, 6, 10)
    np.testing.assert_allclose(curve, [mk.tv_distance(mk.n_step(P, t)[6], pi) for t in range(11)],
                               atol=1e-12)


def test_cross_entropy_bits_is_the_shared_metric():
    """Every model's bits/note is -mean log2 p over the scored positions; none scored is an error
    that says why."""
    rng = np.random.default_rng(3)
    lp = np.log2(rng.uniform(0.05, 1, 200))
    assert mk.cross_entropy_bits(lp) == pytest.approx(-lp.mean())
    assert mk.cross_entropy_bits(np.full(10, -2.0)) == 2.0  # p = 1/4 everywhere: 2 bits
    with pytest.raises(ValueError, match="too short"):
        mk.cross_entropy_bits(np.zeros(0), "too short")
    train = mk.as_state_sequences([rng.integers(0, 12, 40) for _ in range(5)], 12)
    model = mk.NGramModel(12, 2, alpha=0.5).fit(train)
    assert model.bits_per_note(train, first=2) == pytest.approx(
        mk.cross_entropy_bits(model.log2_probs(train, 2)[0]))
