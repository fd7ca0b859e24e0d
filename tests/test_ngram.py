"""Chains estimated from corpora: k-th order counts (Proposition 21.1), held-out bits per note,
the order sweep, and how much high-order chains copy their training melodies."""

import numpy as np
import pytest

from m2d import markov, ngram


def test_parameter_count_exact():
    # free parameters n^k (n - 1): each of the n^k rows sums to 1
    assert ngram.kth_order_parameter_count(12, 1) == 132
    assert ngram.kth_order_parameter_count(12, 16) == 12**16 * 11 == 2033726847845400576
    assert ngram.kth_order_parameter_count(12, 16) > 2 * 10**18
    # entries n^(k+1)
    assert ngram.kth_order_entry_count(12, 1) == 144
    assert ngram.kth_order_entry_count(12, 16) == 12**17 == 2218611106740436992


@pytest.mark.parametrize("n,k", [(1, 0), (2, 0), (3, 2), (12, 3)])
def test_free_count_is_what_a_fitted_matrix_leaves_after_row_sums(n, k):
    """Entries minus one constraint per row = free parameters, and the dense fitted matrix has
    exactly the entry count (its rank of constraints: n^k row sums)."""
    entries, free = ngram.kth_order_entry_count(n, k), ngram.kth_order_parameter_count(n, k)
    P = ngram.fit_transition_matrix([np.arange(n).repeat(2)], n_states=n, order=k, smoothing=1.0)
    assert P.size == entries and P.shape[0] == n**k
    assert entries - free == P.shape[0]
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


@pytest.mark.parametrize("bad", [(0, 1), (12, -1)])
def test_counts_reject_bad_arguments(bad):
    with pytest.raises(ValueError, match="n_states"):
        ngram.kth_order_parameter_count(*bad)
    with pytest.raises(ValueError, match="n_states"):
        ngram.kth_order_entry_count(*bad)


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


# ---------------------------------------------------------------- notes with rhythm (Part II's baselines)
def _toy_notes():
    """Two training melodies (pitch classes, durations) and one held-out melody."""
    train = [(np.array([0, 2, 4, 0, 2, 4]), np.array([1.0, 1.0, 2.0, 1.0, 1.0, 2.0])),
             (np.array([7, 7, 0]), np.array([0.5, 0.5, 1.0]))]
    return train, (np.array([0, 2, 0, 7]), np.array([1.0, 2.0, 1.0, 0.5]))


def test_duration_and_note_sequences():
    train, _ = _toy_notes()
    d = ngram.duration_sequences(train)
    q, h, e = (ngram.DURATION_BINS.index(x) for x in (1.0, 2.0, 0.5))
    assert d[0].tolist() == [q, q, h, q, q, h] and d[1].tolist() == [e, e, q]
    toks = ngram.note_sequences(train)
    assert toks[1].tolist() == [7 * 8 + e, 7 * 8 + e, 0 * 8 + q] and ngram.N_NOTE_TOKENS == 96
    with pytest.raises(ValueError, match="positive"):
        ngram.duration_sequences([(np.array([0]), np.array([0.0]))])
    with pytest.raises(ValueError, match="0..11"):
        ngram.note_sequences([(np.array([12]), np.array([1.0]))])


def test_duration_chain_bits_by_hand():
    """The first-order duration chain's probabilities are the add-alpha counts of the toy corpus."""
    train, held = _toy_notes()
    a = 0.5
    chain = ngram.FactoredNGram(pitch_order=1, duration_order=1, alpha=a).fit(train)
    lp = chain.log2_probs([held], first=1)
    # held-out durations 1, 2, 1, 0.5: transitions quarter->half, half->quarter, quarter->eighth.
    # Training transitions out of a quarter note: q->q, q->h, q->q, q->h (melody 2's quarter is its
    # last note); out of a half note: h->q once (the other half note ends melody 1)
    n_q = 4
    want = [(2 + a) / (n_q + 8 * a), (1 + a) / (1 + 8 * a), (0 + a) / (n_q + 8 * a)]
    np.testing.assert_allclose(lp["duration"], np.log2(want))
    # the pitch part is the pitch-class chain of Part I, and the joint bits are the sum
    pitch_lp, _ = ngram.NGramModel(12, 1, a).fit([p for p, _ in train]).log2_probs([held[0]], first=1)
    np.testing.assert_allclose(lp["pitch"], pitch_lp)
    np.testing.assert_allclose(lp["joint"], lp["pitch"] + lp["duration"])
    # the same duration bits as an NGramModel on duration_sequences (the chain used for the sweep)
    dur_lp, _ = ngram.NGramModel(ngram.N_DURATIONS, 1, a).fit(
        ngram.duration_sequences(train)).log2_probs(ngram.duration_sequences([held]), first=1)
    np.testing.assert_allclose(lp["duration"], dur_lp)


def test_joint_chain_marginals(bach_split):
    train, held = _toy_notes()
    chain = ngram.JointNGram(order=1, alpha=0.1).fit(train)
    table = chain.next_table([0, 2], [1.0, 1.0])
    assert table.shape == (12, ngram.N_DURATIONS) and table.sum() == pytest.approx(1.0)
    # (2, quarter) occurs twice in training, followed both times by (4, half): (2 + a) / (2 + 96 a)
    assert table[4, ngram.DURATION_BINS.index(2.0)] == pytest.approx(2.1 / (2 + 9.6))
    lp = chain.log2_probs([held], first=1)
    t = chain.next_table(held[0][:1], held[1][:1])
    c = ngram.DURATION_BINS.index(2.0)
    assert lp["joint"][0] == pytest.approx(np.log2(t[2, c]))
    assert lp["pitch"][0] == pytest.approx(np.log2(t[2].sum()))
    assert lp["duration"][0] == pytest.approx(np.log2(t[:, c].sum()))
    # joint bits equal an NGramModel on the 96 note tokens at the same positions
    m = ngram.NGramModel(96, 2, 0.1).fit(ngram.note_sequences(bach_split["train"]))
    want, _ = m.log2_probs(ngram.note_sequences(bach_split["val"]), first=6)
    got = ngram.JointNGram(order=2, alpha=0.1).fit(bach_split["train"]).log2_probs(bach_split["val"])
    np.testing.assert_allclose(got["joint"], want)
    assert np.all(got["joint"] <= np.minimum(got["pitch"], got["duration"]) + 1e-12)


def test_select_order_is_the_sweeps_best(bach_split):
    tr, va = (ngram.duration_sequences(bach_split[s]) for s in ("train", "val"))
    k, sweep = ngram.select_order(tr, va, range(5), n_states=ngram.N_DURATIONS)
    assert k == int(sweep["order"][np.argmin(sweep["bits"])]) and sweep["bits"].size == 5
    # rhythm is predictable: the best duration chain beats the note-value frequencies (order 0)
    assert sweep["bits"][k] < sweep["bits"][0] - 0.3
    with pytest.raises(ValueError, match="first"):
        ngram.select_order(tr, va, [7], n_states=ngram.N_DURATIONS)


def test_note_chain_sampling(bach_split):
    for chain in (ngram.FactoredNGram(3, 2).fit(bach_split["train"]),
                  ngram.JointNGram(1).fit(bach_split["train"])):
        pcs, durs = chain.sample(20, [0, 4], [1.0, 0.5], rng=1)
        again = chain.sample(20, [0, 4], [1.0, 0.5], rng=np.random.default_rng(1))
        assert pcs.tolist() == again[0].tolist() and durs.tolist() == again[1].tolist()
        assert pcs[:2].tolist() == [0, 4] and durs[:2].tolist() == [1.0, 0.5]
        assert pcs.size == durs.size == 20 and set(durs[2:].tolist()) <= set(ngram.DURATION_BINS)
        # the first new note is one draw from the table after the prefix
        rng = np.random.default_rng(1)
        t = chain.next_table([0, 4], [1.0, 0.5])
        x, c = divmod(int(rng.choice(t.size, p=t.ravel())), ngram.N_DURATIONS)
        assert (pcs[2], durs[2]) == (x, ngram.DURATION_BINS[c])
        assert chain.sample(5, rng=0)[0].size == 5  # from nothing: the lower orders start it
        with pytest.raises(ValueError, match="more than length"):
            chain.sample(1, [0, 4], [1.0, 0.5])
        with pytest.raises(ValueError, match="1-D"):
            chain.sample(5, [0, 4], [1.0])
