"""The code Transformer (Definition 21.12): a distribution over codes, exact chain-rule likelihood,
causal, seeded sampling, cached training."""

import itertools

import numpy as np
import pytest
import torch

from m2d.models import code_lm
from m2d.models.transformer import TransformerConfig

TINY = TransformerConfig(d_model=16, n_heads=2, n_layers=1, d_ff=32, dropout=0.0, max_len=16, max_rel=8)


# ----------------------------------------------------------------------------------------------
# the autoregressive code Transformer


def tiny_model(K=5, seed=0):
    torch.manual_seed(seed)
    return code_lm.CodeTransformer(K, TINY).eval()


def test_code_transformer_shapes_and_vocabulary():
    m = tiny_model(K=7)
    assert m.vocab_size == 7 and m.bos == 7
    logits = m(torch.tensor([[7, 1, 2, 6]]))
    assert logits.shape == (1, 4, 7)
    with pytest.raises(ValueError, match="0..7"):
        m(torch.tensor([[8]]))
    with pytest.raises(ValueError, match="vocab_size"):
        code_lm.CodeTransformer(1, TINY)


def test_next_distributions_sum_to_one_over_the_vocabulary():
    m = tiny_model(K=9)
    codes = np.random.default_rng(0).integers(0, 9, size=(6, 12))
    P = code_lm.next_distributions(m, codes)
    assert P.shape == (6, 12, 9)
    assert np.all(P > 0)
    np.testing.assert_allclose(P.sum(-1), 1.0, atol=1e-12)
    lp = code_lm.log2_probs(m, codes)
    np.testing.assert_allclose(lp, np.log2(np.take_along_axis(P, codes[..., None], -1)[..., 0]), atol=1e-9)


def test_chain_rule_likelihood_is_a_distribution_over_all_sequences():
    """Summing p(c_1..c_T) = prod_t p(c_t | c_<t) over all K^T sequences gives exactly 1 (Def. 21.12)."""
    K, T = 3, 4
    m = tiny_model(K=K, seed=3)
    every = np.array(list(itertools.product(range(K), repeat=T)))
    total = np.exp2(code_lm.log2_probs(m, every).sum(1)).sum()
    assert total == pytest.approx(1.0, abs=1e-9)


def test_the_model_is_causal():
    m = tiny_model(K=5)
    a = np.array([[0, 1, 2, 3, 4, 0]])
    b = a.copy()
    b[0, 4:] = [1, 1]
    la, lb = code_lm.log2_probs(m, a), code_lm.log2_probs(m, b)
    np.testing.assert_allclose(la[0, :4], lb[0, :4], atol=1e-12)  # c_5, c_6 never affect t <= 4


def test_sampling_is_seeded_keeps_the_prefix_and_slides_past_max_len():
    m = tiny_model(K=5)
    a = code_lm.sample(m, 3, 10, rng=1)
    assert a.shape == (3, 10) and a.min() >= 0 and a.max() < 5
    np.testing.assert_array_equal(a, code_lm.sample(m, 3, 10, rng=1))
    prefix = np.array([[4, 4, 4]] * 3)
    c = code_lm.sample(m, 3, 10, rng=2, prefix=prefix)
    np.testing.assert_array_equal(c[:, :3], prefix)
    long = code_lm.sample(m, 2, 40, rng=0)  # longer than max_len = 16
    assert long.shape == (2, 40)
    with pytest.raises(ValueError, match="temperature"):
        code_lm.sample(m, 1, 4, rng=0, temperature=0)
    with pytest.raises(ValueError, match="prefix"):
        code_lm.sample(m, 2, 4, rng=0, prefix=prefix)
    with pytest.raises(ValueError, match="window"):
        code_lm.sample(m, 1, 4, rng=0, window=100)


def cyclic_codes(n, T=12, K=5, seed=0):
    """Sequences c_{t+1} = c_t + 1 mod K from a random start: perfectly predictable after one code."""
    start = np.random.default_rng(seed).integers(0, K, size=(n, 1))
    return (start + np.arange(T)[None]) % K


def test_training_learns_a_predictable_sequence_and_is_cached(tmp_cache):
    train, val = cyclic_codes(64), cyclic_codes(16, seed=1)
    cfg = code_lm.CodeTrainConfig(epochs=25, batch_size=16, lr=1e-2, warmup_steps=5)
    m, extra = code_lm.load_or_train_code_lm(5, train, val, TINY, cfg, progress=False)
    assert extra["best_val_bits"] < 0.5  # log2 5 = 2.32 bits for a uniform guess
    assert len(list(tmp_cache.glob("code-transformer-*.pt"))) == 1
    again, extra2 = code_lm.load_or_train_code_lm(5, train, val, TINY, cfg, progress=False)
    assert extra2 == extra
    for p, q in zip(m.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)


def test_codes_are_validated():
    m = tiny_model(K=5)
    with pytest.raises(ValueError, match="0..4"):
        code_lm.log2_probs(m, np.array([[0, 5]]))
    with pytest.raises(ValueError, match="integers"):
        code_lm.log2_probs(m, np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="epochs"):
        code_lm.train_code_lm(m, cyclic_codes(4), cyclic_codes(4), code_lm.CodeTrainConfig(epochs=0))
