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
    assert np.all(w > 0)
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
