import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from m2d import attention as at


@pytest.mark.parametrize("causal", [False, True])
def test_matches_torch_sdpa(causal):
    rng = np.random.default_rng(0)
    Q, K, V = rng.normal(size=(3, 2, 7, 8))
    mask = at.causal_mask(7) if causal else None
    out, w = at.scaled_dot_product_attention(Q, K, V, mask=mask)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (Q, K, V)), is_causal=causal)
    np.testing.assert_allclose(out, ref.numpy(), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 16), st.floats(0.1, 10.0), st.integers(0, 1000))
def test_rows_are_probability_vectors(n, d, s, seed):
    """Theorem 21.3: softmax attention is a strictly positive row-stochastic matrix."""
    rng = np.random.default_rng(seed)
    Q, K, V = rng.normal(scale=s, size=(3, n, d))
    _, w = at.scaled_dot_product_attention(Q, K, V)
    # positive in exact arithmetic; in float64 exp underflows to 0 once a score trails its row's
    # maximum by more than about 745, so positivity is checked where the gap is representable
    scores = Q @ K.T / np.sqrt(d)
    gap = scores.max(axis=-1, keepdims=True) - scores
    assert np.all(w[gap < 700] > 0) and np.all(w >= 0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-12)


def test_softmax_stable_and_errors():
    np.testing.assert_allclose(at.softmax([1000.0, 1000.0]), [0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        at.softmax([np.nan, 1.0])
    with pytest.raises(ValueError, match="fully masked"):
        at.softmax([-np.inf, -np.inf])


@pytest.mark.parametrize("shapes,msg", [
    (((3, 4), (3, 5), (3, 4)), "same feature size"),
    (((3, 4), (3, 4), (2, 4)), "same number of tokens"),
    (((4,), (3, 4), (3, 4)), "at least 2 dimensions"),
])
def test_shape_errors(shapes, msg):
    Q, K, V = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match=msg):
        at.scaled_dot_product_attention(Q, K, V)


def test_mask_errors():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="boolean"):
        at.scaled_dot_product_attention(x, x, x, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        at.scaled_dot_product_attention(x, x, x, mask=np.ones((2, 2), dtype=bool))


# ---------------------------------------------------------------- Definition 21.5 / 21.7
def _torch_mha(E, h, seed=0):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(E, h, bias=False, batch_first=True).double()
    return (mha, *at.torch_mha_weights(mha))


def test_torch_mha_weights_layout():
    """W_q is the transposed first block of in_proj_weight: X W_q equals torch's query projection."""
    mha, W_q, W_k, W_v, W_o = _torch_mha(8, 2)
    X = np.random.default_rng(4).normal(size=(5, 8))
    q_torch = torch.nn.functional.linear(torch.tensor(X), mha.in_proj_weight[:8]).detach().numpy()
    np.testing.assert_allclose(X @ W_q, q_torch, atol=1e-12)
    np.testing.assert_allclose(X @ W_o, mha.out_proj(torch.tensor(X)).detach().numpy(), atol=1e-12)
    assert W_k.shape == W_v.shape == (8, 8) and not np.allclose(W_q, W_k)
    with pytest.raises(ValueError, match="bias"):
        at.torch_mha_weights(torch.nn.MultiheadAttention(8, 2, batch_first=True))


@pytest.mark.parametrize("causal", [False, True])
def test_compare_with_torch_mha(causal):
    mha = _torch_mha(16, 4)[0]
    X = np.random.default_rng(7).normal(size=(7, 16))
    mask = at.causal_mask(7) if causal else None
    c = at.compare_with_torch_mha(X, mha, mask)
    assert c["weights"].shape == (4, 7, 7) and c["output"].shape == (7, 16)
    assert c["max_output_error"] < 1e-12 and c["max_weight_error"] < 1e-12
    assert np.all(np.triu(c["weights"], 1) == 0) == causal
    # a different module gives a large difference: the comparison can fail
    other = _torch_mha(16, 4, seed=1)[0]
    c2 = at.compare_with_torch_mha(X, other, mask)
    mine, _ = at.multi_head_attention(X, *at.torch_mha_weights(mha), 4, mask=mask)
    np.testing.assert_allclose(c2["output"] - mine, c2["output"] - c["output"])
    assert np.abs(c2["output"] - c["output"]).max() > 1e-3
    with pytest.raises(ValueError, match="2-D"):
        at.compare_with_torch_mha(X[None], mha)


def test_difference_to_torch():
    rng = np.random.default_rng(0)
    Q, K, V = rng.normal(size=(3, 5, 4))
    assert at.difference_to_torch(Q, K, V) < 1e-12
    assert at.difference_to_torch(Q, K, V, mask=at.causal_mask(5)) < 1e-12
    with pytest.raises(ValueError, match="same feature size"):
        at.difference_to_torch(Q, K[:, :3], V)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("E,h", [(8, 1), (8, 2), (12, 3), (16, 4)])
def test_multi_head_matches_torch(E, h, causal):
    mha, W_q, W_k, W_v, W_o = _torch_mha(E, h)
    X = np.random.default_rng(1).normal(size=(2, 6, E))
    mask = at.causal_mask(6) if causal else None
    out, w = at.multi_head_attention(X, W_q, W_k, W_v, W_o, h, mask=mask)
    ref, ref_w = mha(*(torch.tensor(X),) * 3, need_weights=True, average_attn_weights=False,
                     attn_mask=None if mask is None else torch.tensor(~mask))
    assert w.shape == (2, h, 6, 6)
    np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(w, ref_w.detach().numpy(), atol=1e-5)


def test_multi_head_single_sequence_and_heads_are_stochastic():
    _, W_q, W_k, W_v, W_o = _torch_mha(8, 2)
    X = np.random.default_rng(2).normal(size=(5, 8))
    out, w = at.multi_head_attention(X, W_q, W_k, W_v, W_o, 2, mask=at.causal_mask(5))
    assert out.shape == (5, 8) and w.shape == (2, 5, 5)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-12)
    assert np.all(np.triu(w, 1) == 0)


@pytest.mark.parametrize("kwargs,msg", [
    (dict(n_heads=3), "not divisible"),
    (dict(n_heads=0), "positive integer"),
    (dict(n_heads=2.0), "positive integer"),
    (dict(n_heads=2, W_q=np.zeros((5, 8))), "W_q has 5 rows"),
    (dict(n_heads=2, W_k=np.zeros((8, 4))), "same width"),
    (dict(n_heads=2, W_o=np.zeros((4, 8))), "W_o has 4 rows"),
    (dict(n_heads=2, X=np.zeros(8)), "at least 2 dimensions"),
    (dict(n_heads=2, X=np.array([["a"] * 8] * 3)), "numeric"),
    (dict(n_heads=2, mask=np.ones((3, 3))), "boolean"),
])
def test_multi_head_errors(kwargs, msg):
    args = dict(X=np.zeros((3, 8)), W_q=np.eye(8), W_k=np.eye(8), W_v=np.eye(8), W_o=np.eye(8))
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        at.multi_head_attention(**args)


def test_project_qkv_is_definition_21_5():
    rng = np.random.default_rng(3)
    X, Wq, Wk, Wv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), \
        rng.normal(size=(4, 5))
    Q, K, V = at.project_qkv(X, Wq, Wk, Wv)
    np.testing.assert_allclose(Q, X @ Wq)
    np.testing.assert_allclose(K, X @ Wk)
    assert V.shape == (3, 5)


# ---------------------------------------------------------------- Theorem 21.3 and the sqrt(d_k) argument
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 10), st.integers(0, 1000), st.booleans())
def test_theorem_21_3_stochasticity(n, seed, causal):
    rng = np.random.default_rng(seed)
    _, w = at.scaled_dot_product_attention(*rng.normal(size=(3, n, 4)),
                                           mask=at.causal_mask(n) if causal else None)
    lo, err = at.stochasticity(w)
    assert err < 1e-12 and lo >= 0
    if not causal:
        assert lo > 0
    from m2d import markov
    markov.check_stochastic(w)  # the same check as a Markov transition matrix


def test_scaling_experiment_matches_prediction():
    r = at.scaling_experiment([2, 16, 128, 512], n_keys=16, n_samples=2000, rng=0)
    np.testing.assert_allclose(r["var_raw"], r["d_k"], rtol=0.1)  # Var(q.k) = d_k
    np.testing.assert_allclose(r["var_scaled"], 1.0, rtol=0.1)
    assert np.all(np.diff(r["entropy_raw"]) < 0)  # saturation as d_k grows
    assert r["entropy_raw"][-1] < 0.5 and r["max_weight_raw"][-1] > 0.85
    assert np.ptp(r["entropy_scaled"]) < 0.15 and r["entropy_scaled"].min() > 2.5
    with pytest.raises(ValueError, match="positive"):
        at.scaling_experiment([0, 2])


def test_entropy_and_aggregate():
    np.testing.assert_allclose(at.entropy_bits([0.5, 0.5, 0.0]), 1.0)
    np.testing.assert_allclose(at.entropy_bits(np.full((2, 8), 1 / 8)), [3.0, 3.0])
    w = np.array([[0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(at.aggregate_by_label(w, [2, 0, 2, 1], 3), [[0.2, 0.4, 0.4]])
    with pytest.raises(ValueError, match="labels"):
        at.aggregate_by_label(w, [0, 1], 3)
    with pytest.raises(ValueError, match="0..2"):
        at.aggregate_by_label(w, [0, 1, 2, 3], 3)


# ---------------------------------------------------------------- Limit 2
def test_attention_cost_and_slope():
    c = at.attention_cost([16, 64], d_k=8, reps=1, rng=0)
    assert c["seconds"].shape == (2,) and np.all(c["seconds"] > 0)
    assert c["peak_bytes"][1] > 8 * c["peak_bytes"][0]  # n x n matrices dominate: ~16x
    x = np.array([64, 128, 256, 512])
    assert at.loglog_slope(x, 3 * x**2.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="positive"):
        at.loglog_slope([1, 2], [0, 1])
    with pytest.raises(ValueError, match="two"):
        at.loglog_slope([1], [1])


# ---------------------------------------------------------------- attention memory (Limit 2)
def test_codec_sequence_length():
    assert at.codec_sequence_length(240, 50, 4, interleaved=True) == 12_000
    assert at.codec_sequence_length(240, 50, 4, interleaved=False) == 48_000
    assert at.codec_sequence_length(0.01, 50, 1) == 1
    with pytest.raises(ValueError):
        at.codec_sequence_length(-1)


def test_attention_matrix_bytes():
    assert at.attention_matrix_bytes(1000) == 4_000_000
    assert at.attention_matrix_bytes(10, n_heads=2, n_layers=3, bytes_per_value=2) == 1200
    with pytest.raises(ValueError):
        at.attention_matrix_bytes(0)


def test_fit_quadratic_memory_recovers_the_constant():
    ns = np.array([64, 128, 256])
    assert at.fit_quadratic_memory(ns, 24.0 * ns**2) == pytest.approx(24.0)
    with pytest.raises(ValueError):
        at.fit_quadratic_memory([0], [1])
