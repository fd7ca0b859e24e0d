"""Limit 1: the neural k-gram (learned note embeddings) against Part I's count-based chain, on the same
positions. Tiny configurations: every test runs in seconds."""

import numpy as np
import pytest
import torch

from m2d import ngram
from m2d.models import common
from m2d.models import neural_ngram as ng

FAST = ng.NGramTrainConfig(epochs=3, hidden=16, d_embed=4, batch_size=512)


def test_contexts_and_targets_in_ngram_order():
    seq = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    X, y = ng.contexts_and_targets([seq], order=2)
    np.testing.assert_array_equal(X[0], [0, 1])
    np.testing.assert_array_equal(y, seq[2:])
    X, y = ng.contexts_and_targets([seq, seq[:3]], order=2, first=6)
    np.testing.assert_array_equal(X, [[4, 5], [5, 6]])
    np.testing.assert_array_equal(y, [6, 7])
    X0, y0 = ng.contexts_and_targets([seq], order=0)
    assert X0.shape == (8, 0) and y0.size == 8
    with pytest.raises(ValueError, match="0..11"):
        ng.contexts_and_targets([np.array([0, 12])], order=1)
    with pytest.raises(ValueError, match="order"):
        ng.contexts_and_targets([seq], order=-1)


@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_scores_exactly_the_positions_part_one_scores(bach_split, k):
    torch.manual_seed(0)
    model = ng.NeuralNGram(k, d_embed=4, hidden=8)
    lp = ng.log2_probs(model, bach_split["val"], first=6)
    chain = ngram.NGramModel(12, k, alpha=0.1).fit(bach_split["train"])
    ref, _ = chain.log2_probs(bach_split["val"], first=6)
    assert lp.shape == ref.shape


def test_next_distributions_sum_to_one():
    torch.manual_seed(0)
    model = ng.NeuralNGram(3, d_embed=4, hidden=8)
    ctx = np.random.default_rng(0).integers(0, 12, size=(50, 3))
    P = ng.next_distributions(model, ctx)
    assert P.shape == (50, 12) and np.all(P > 0)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros((2, 2), dtype=torch.long))


def test_learns_a_deterministic_rule():
    """x_{t+1} = x_t + 2 (mod 12): after training, next notes are predicted almost surely."""
    rng = np.random.default_rng(0)
    train = [(s + 2 * np.arange(20)) % 12 for s in rng.choice([0, 2, 4, 6, 8, 10], size=40)]
    test = [(s + 2 * np.arange(20)) % 12 for s in rng.choice([0, 2, 4], size=10)]
    cfg = ng.NGramTrainConfig(epochs=60, hidden=32, d_embed=4, batch_size=64, lr=1e-2, dropout=0.0)
    torch.manual_seed(0)
    model = ng.NeuralNGram(1, d_embed=4, hidden=32, dropout=0.0)
    extra = ng.train_neural_ngram(model, train, test, cfg, progress=False)
    assert extra["best_val_bits"] < 0.2
    assert ng.bits_per_note(model, test) == pytest.approx(extra["best_val_bits"], abs=1e-12)


def test_training_on_bach_beats_uniform_and_order_zero_matches_counts(bach_split):
    torch.manual_seed(0)
    cfg = ng.NGramTrainConfig(epochs=30, batch_size=1024, lr=3e-2)
    m0 = ng.NeuralNGram(0)
    ng.train_neural_ngram(m0, bach_split["train"], bach_split["val"], cfg, progress=False)
    counts = ngram.NGramModel(12, 0, alpha=0.1).fit(bach_split["train"]).bits_per_note(bach_split["val"], 6)
    assert ng.bits_per_note(m0, bach_split["val"]) == pytest.approx(counts, abs=0.03)
    m2 = ng.NeuralNGram(2, d_embed=4, hidden=16)
    ng.train_neural_ngram(m2, bach_split["train"], bach_split["val"], FAST, progress=False)
    assert ng.bits_per_note(m2, bach_split["val"]) < np.log2(12) - 0.5


def test_load_or_train_caches(bach_split, tmp_cache):
    train, val = bach_split["train"][:30], bach_split["val"][:10]
    a, ea = ng.load_or_train_neural_ngram(2, train, val, FAST, progress=False)
    assert len(list(tmp_cache.glob("neural-2gram-*.pt"))) == 1
    b, eb = ng.load_or_train_neural_ngram(2, train, val, FAST, progress=False)
    assert ea == eb
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert common.n_parameters(a) == 12 * 4 + (2 * 4 * 16 + 16) + (16 * 12 + 12)


def test_bad_input():
    with pytest.raises(ValueError, match="order"):
        ng.NeuralNGram(-1)
    with pytest.raises(ValueError, match="no training pairs"):
        ng.train_neural_ngram(ng.NeuralNGram(3), [np.array([0, 1])], [np.arange(12)], FAST, progress=False)
    with pytest.raises(ValueError, match="no positions"):
        ng.bits_per_note(ng.NeuralNGram(1), [np.array([0, 1, 2])], first=6)


def test_sampling_continues_the_prefix_and_is_seeded():
    torch.manual_seed(0)
    model = ng.NeuralNGram(3, d_embed=4, hidden=8)
    a = ng.sample(model, [0, 4, 7], 20, rng=1)
    assert a.shape == (20,) and a.min() >= 0 and a.max() < 12
    np.testing.assert_array_equal(a[:3], [0, 4, 7])
    np.testing.assert_array_equal(a, ng.sample(model, [0, 4, 7], 20, rng=1))
    assert ng.sample(ng.NeuralNGram(0), [], 5, rng=0).shape == (5,)
    with pytest.raises(ValueError, match="prefix"):
        ng.sample(model, [0], 20)
    with pytest.raises(ValueError, match="temperature"):
        ng.sample(model, [0, 1, 2], 20, temperature=0)


@pytest.mark.parametrize("k", [0, 2, 5])
def test_seen_contexts_agree_with_the_count_chain(bach_split, k):
    chain = ngram.NGramModel(12, k, alpha=0.1).fit(bach_split["train"])
    seen = ng.seen_contexts(chain, bach_split["test"], first=6)
    lp, unseen = chain.log2_probs(bach_split["test"], first=6)
    assert seen.shape == lp.shape and int((~seen).sum()) == unseen
    np.testing.assert_allclose(lp[~seen], np.log2(1 / 12))  # unseen context: the uniform row


def test_compare_orders_matches_each_model_scored_alone(bach_split, tmp_cache):
    from m2d import ngram

    small = {s: bach_split[s][:40] for s in ("train", "val", "test")}
    cmp = ng.compare_orders(small, orders=(0, 2), first=6, cfg=FAST)
    np.testing.assert_array_equal(cmp["order"], [0, 2])
    np.testing.assert_array_equal(cmp["entries"], [12, 12**3])
    chain = ngram.NGramModel(12, 2, alpha=0.1).fit(small["train"])
    assert cmp["count_test"][1] == pytest.approx(chain.bits_per_note(small["test"], first=6))
    assert cmp["contexts_seen"][1] == chain.n_contexts_seen
    net, _ = ng.load_or_train_neural_ngram(2, small["train"], small["val"], FAST, progress=False)
    assert cmp["neural_val"][1] == pytest.approx(ng.bits_per_note(net, small["val"], first=6))
    assert cmp["parameters"][1] == sum(p.numel() for p in net.parameters())
    with pytest.raises(ValueError, match="exceeds first"):
        ng.compare_orders(small, orders=(7,), first=6, cfg=FAST)


def test_bits_by_context_splits_the_mean():
    lp = np.log2(np.array([0.5, 0.25, 0.125, 1.0]))
    seen = np.array([True, True, False, False])
    out = ng.bits_by_context({"m": lp}, seen)
    assert out["m"] == pytest.approx((1.5, 1.5))
    total = -lp.mean()
    assert total == pytest.approx(np.mean(out["m"]))   # equal group sizes here
    assert np.isnan(ng.bits_by_context({"m": lp}, np.ones(4, bool))["m"][1])
    with pytest.raises(ValueError, match="positions"):
        ng.bits_by_context({"m": lp[:3]}, seen)
