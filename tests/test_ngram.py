"""Chains estimated from corpora: k-th order counts (Proposition 21.1), held-out bits per note,
the order sweep, and how much high-order chains copy their training melodies."""

import numpy as np
import pytest

from m2d import markov, ngram


def test_parameter_count_exact():
    assert ngram.kth_order_parameter_count(12, 1) == 144
    assert ngram.kth_order_parameter_count(12, 16) == 12**17 == 2218611106740436992
    assert ngram.kth_order_parameter_count(12, 16) > 10**18


@pytest.mark.parametrize("order", [0, 1, 2])
def test_fitted_matrix_is_stochastic_and_mle(order, bach_split):
    P = ngram.fit_transition_matrix(bach_split["train"], order=order, smoothing=0.5)
    assert P.shape == (12**order, 12)
    markov.check_stochastic(P) if order == 1 else np.testing.assert_allclose(P.sum(1), 1)


def test_fit_counts_by_hand():
    seqs = [np.array([0, 1, 0, 1, 2])]
    P = ngram.fit_transition_matrix(seqs, n_states=3)
    np.testing.assert_allclose(P, [[0, 1, 0], [0.5, 0, 0.5], [1 / 3] * 3])
    P2 = ngram.fit_transition_matrix(seqs, n_states=3, order=2)
    # context (prev2=0, prev1=1) has code 1 + 0*3 = 1... codes: prev1 + 3*prev2
    assert P2[1 + 3 * 0, 0] == 0.5 and P2[1 + 3 * 0, 2] == 0.5


def test_dense_fit_refuses_huge():
    with pytest.raises(ValueError, match="NGramModel"):
        ngram.fit_transition_matrix([[0, 1]], order=7)


def test_k_sweep_collapses(bach_split):
    """Held-out NLL improves with k, then sparsity makes k = 6 worse than the best k."""
    bits = []
    for k in range(7):
        m = ngram.NGramModel(12, k, alpha=0.1).fit(bach_split["train"])
        bits.append(m.bits_per_note(bach_split["val"], first=6))
    best = int(np.argmin(bits))
    assert 1 <= best < 6
    assert bits[6] > bits[best] + 0.05
    assert bits[1] < bits[0]


def test_ngram_probabilities_sum_to_one(bach_split):
    m = ngram.NGramModel(12, 3, alpha=0.1).fit(bach_split["train"])
    for code in list(m.counts)[:50] + [10**9]:
        assert m.probs(code).sum() == pytest.approx(1.0)


def test_longest_shared_run():
    assert ngram.longest_shared_run([1, 2, 3, 4], [[9, 2, 3, 4, 8], [1]]) == 3
    assert ngram.longest_shared_run([5, 5], [[1, 2]]) == 0


def test_order_sweep_agrees_with_models(bach_split):
    tab = ngram.order_sweep(bach_split["train"], bach_split["val"], orders=[0, 2])
    m = ngram.NGramModel(12, 2, 0.1).fit(bach_split["train"])
    assert tab["bits"][1] == pytest.approx(m.bits_per_note(bach_split["val"], first=6))
    assert tab["dense_entries"][1] == 12**3 and tab["unseen"][0] == 0


def test_high_order_chains_copy_more(bach_split):
    train = bach_split["train"]
    low = ngram.copy_run_lengths(ngram.NGramModel(12, 1, 0.0).fit(train), train, 64, 10, rng=0)
    high = ngram.copy_run_lengths(ngram.NGramModel(12, 8, 0.0).fit(train), train, 64, 10, rng=0)
    assert high.mean() > 2 * low.mean()


def test_style_statistics_are_fractions(bach_split):
    st = ngram.style_statistics(bach_split["train"])
    assert st["repeats"] + st["steps"] + st["leaps"] == pytest.approx(1.0)
    assert all(0 <= v <= 1 for v in st.values())


def test_cross_entropy_bits_is_the_shared_metric():
    """Every model's bits/note is -mean log2 p over the scored positions; none scored is an error
    that says why."""
    rng = np.random.default_rng(3)
    lp = np.log2(rng.uniform(0.05, 1, 200))
    assert ngram.cross_entropy_bits(lp) == pytest.approx(-lp.mean())
    assert ngram.cross_entropy_bits(np.full(10, -2.0)) == 2.0  # p = 1/4 everywhere: 2 bits
    with pytest.raises(ValueError, match="too short"):
        ngram.cross_entropy_bits(np.zeros(0), "too short")
    train = ngram.as_state_sequences([rng.integers(0, 12, 40) for _ in range(5)], 12)
    model = ngram.NGramModel(12, 2, alpha=0.5).fit(train)
    assert model.bits_per_note(train, first=2) == pytest.approx(
        ngram.cross_entropy_bits(model.log2_probs(train, 2)[0]))


def test_sample_keeps_the_prefix_and_reads_the_last_k(bach_split):
    """NGramModel.sample continues a prefix of any length >= k: the prefix is kept whole and each
    new state is drawn from P(. | last k states), one rng.choice per state."""
    model = ngram.NGramModel(12, 3, alpha=0.1).fit(bach_split["train"])
    prefix = [0, 2, 4, 5, 7, 9]
    s = model.sample(20, prefix, rng=1)
    assert s.dtype == np.int64 and s.size == 20 and s[:6].tolist() == prefix
    np.testing.assert_array_equal(s, model.sample(20, prefix, rng=np.random.default_rng(1)))
    rng, ref = np.random.default_rng(1), list(prefix)
    while len(ref) < 20:  # the conditional by hand: context code of the last three states
        code = ref[-1] + 12 * ref[-2] + 144 * ref[-3]
        ref.append(int(rng.choice(12, p=model.probs(code))))
    assert s.tolist() == ref
    assert model.sample(3, prefix[:3], rng=0).tolist() == prefix[:3]
    for bad in (prefix[:2], list(range(21))):
        with pytest.raises(ValueError, match="prefix"):
            model.sample(20, bad)
    assert ngram.NGramModel(12, 0).fit(bach_split["train"]).sample(5, [], rng=0).shape == (5,)


def test_heldout_shared_runs(bach_split):
    train, test = bach_split["train"], bach_split["test"][:5]
    runs = ngram.heldout_shared_runs(test, train, length=64)
    want = [ngram.longest_shared_run(m.pitch_classes[:64], [t.pitch_classes for t in train])
            for m in test]
    assert runs.tolist() == want and np.all(runs >= 1)
    assert np.all(runs <= [min(64, len(m)) for m in test])
    assert ngram.heldout_shared_runs([train[0]], train)[0] == min(64, len(train[0]))  # seen
    with pytest.raises(ValueError, match="length"):
        ngram.heldout_shared_runs(test, train, length=0)


def test_empirical_frequencies():
    f = ngram.empirical_frequencies([0, 0, 2, 1], n_states=4)
    np.testing.assert_array_equal(f, [0.5, 0.25, 0.25, 0.0])
