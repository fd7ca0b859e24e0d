"""The book's example chains: the page's toy chain, Example 21.1's pentatonic chain and its worked
numbers, the Illiac-style matrix, and the counterexamples of Theorem 21.2."""

import numpy as np
import pytest

from m2d import example_chains as ex
from m2d import markov as mk


def test_toy_chain_g_dominates():
    pi = mk.stationary_distribution(ex.TOY_CEG)
    assert np.allclose(ex.TOY_CEG[0], [0.2, 0.3, 0.5])
    assert np.argmax(pi) == 2 and pi[2] > 0.5
    np.testing.assert_allclose(pi, np.array([22, 17, 53]) / 92, atol=1e-12)


def test_illiac_matrix_favours_steps_and_the_scale():
    P = ex.illiac_matrix()
    mk.check_stochastic(P)
    assert P[0, 2] > P[0, 6] * 10  # a step D beats the tritone F#
    assert P[0, 2] > P[0, 1]  # C# is off the scale
    with pytest.raises(ValueError, match="7 entries"):
        ex.illiac_matrix(np.ones(6))


def test_counterexamples():
    assert mk.period(ex.fifths_permutation()) == 12
    assert len(mk.closed_classes(ex.reducible_example())) == 2
    assert mk.mixing_time(ex.stepwise_matrix()) > mk.mixing_time(ex.illiac_matrix())
    with pytest.raises(ValueError, match="stay"):
        ex.stepwise_matrix(1.0)


def test_embed_matrix_keeps_long_run():
    P = ex.embed_matrix(ex.TOY_CEG, [0, 4, 7])
    mk.check_stochastic(P)
    pi = mk.stationary_distribution(P)
    np.testing.assert_allclose(pi[[0, 4, 7]], mk.stationary_distribution(ex.TOY_CEG), atol=1e-12)
    assert pi.sum() == pytest.approx(pi[[0, 4, 7]].sum())
    with pytest.raises(ValueError, match="states"):
        ex.embed_matrix(ex.TOY_CEG, [0, 4])


def test_pentatonic_example_21_1():
    P = mk.check_stochastic(ex.PENTATONIC)
    C, D, E, G = 0, 1, 2, 3
    assert P[C, D] == P[C, G] == P[D, E] == P[E, G] == 0.3
    terms = ex.two_step_terms(P, C, E)
    assert terms.sum() == pytest.approx(mk.n_step(P, 2)[C, E])
    assert terms[D] == pytest.approx(0.3 * 0.3)
    assert mk.sequence_probability(P, [C, D, E, G]) == pytest.approx(0.027)


def test_monte_carlo_sequence_probability_converges():
    P, seq = ex.PENTATONIC, [0, 1, 2, 3]
    freq = ex.monte_carlo_sequence_probability(P, seq, 200_000, rng=0)
    assert freq == ex.monte_carlo_sequence_probability(P, seq, 200_000, rng=0)  # reproducible
    se = np.sqrt(0.027 * (1 - 0.027) / 200_000)
    assert abs(freq - mk.sequence_probability(P, seq)) < 5 * se
    runs = mk.sample_chains(P, 4, starts=np.zeros(200_000, dtype=int), rng=0)
    assert freq == np.all(runs == seq, axis=1).mean()  # the same draws as the chains themselves
    with pytest.raises(ValueError, match="non-empty"):
        ex.monte_carlo_sequence_probability(P, [])


def test_ceg_attention_is_part_twos_worked_example():
    from m2d import attention

    Q, K, V = attention.project_qkv(np.eye(3), ex.CEG_ATTENTION_WQ, ex.CEG_ATTENTION_WK,
                                    ex.CEG_ATTENTION_WV)
    np.testing.assert_allclose(Q @ K.T, [[0, 1, 1], [1, 0, 1], [1, 1, 2]])
    _, A = attention.scaled_dot_product_attention(Q, K, V)
    e = np.exp(1 / np.sqrt(2))  # row C: (1, e, e) / (1 + 2e), the page's 0.198, 0.401, 0.401
    np.testing.assert_allclose(A[0], np.array([1, e, e]) / (1 + 2 * e), atol=1e-12)
    mk.check_stochastic(A)


def test_forward_pixel_rows_match_the_closed_form_and_the_loop_of_part_three():
    from m2d import diffusion

    patch = np.linspace(-1, 0.5, 12).reshape(3, 4)
    assert ex.loudest_pixel(patch) == (0.5, 2, 3)
    lin = diffusion.NoiseSchedule.make("linear", 1000)
    rows = ex.forward_pixel_rows(0.5, lin)
    rng = np.random.default_rng(ex.PIXEL_SEED)  # chapter 3's own loop, step by step
    for row, t in zip(rows, ex.PIXEL_TIMES, strict=True):
        x = lin.q_sample(np.full(ex.PIXEL_DRAWS, 0.5), t, rng.standard_normal(ex.PIXEL_DRAWS))
        assert row["t"] == t and row["sample_mean"] == x.mean() and row["sample_sd"] == x.std()
        assert abs(row["mean"] - np.sqrt(lin.alpha_bar[t]) * 0.5) < 1e-15
        assert abs(row["sample_mean"] - row["mean"]) < 5 * row["sd"] / np.sqrt(ex.PIXEL_DRAWS)
    with pytest.raises(ValueError, match="t must be <= 1000"):
        ex.forward_pixel_rows(0.5, lin, times=(1001,))
    with pytest.raises(ValueError, match="patch must have 2 dimension"):
        ex.loudest_pixel(np.ones(3))
