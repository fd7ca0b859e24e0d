"""Part II: scaled dot-product attention as a content-dependent stochastic matrix
(Definitions 21.5-21.7, Theorem 21.3), on numpy arrays.

Notebook: notebooks/02_attention.ipynb
"""

from __future__ import annotations

import numpy as np


def softmax(x, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: softmax(x)_j = exp(x_j - max x) / sum_k exp(x_k - max x).

    Subtracting the maximum changes nothing mathematically (it cancels) but keeps exp from
    overflowing. Entries equal to -inf (masked) get probability 0.
    Raises:
        ValueError: x contains NaN, or a whole slice is -inf (nothing to attend to)
    """
    a = np.asarray(x, dtype=float)
    if np.isnan(a).any():
        raise ValueError("softmax input contains NaN")
    m = a.max(axis=axis, keepdims=True)
    if np.isneginf(m).any():
        raise ValueError("a softmax row is entirely -inf (fully masked): nothing to attend to")
    e = np.exp(a - m)
    return e / e.sum(axis=axis, keepdims=True)


def causal_mask(n: int) -> np.ndarray:
    """Boolean (n, n) mask, True = keep: position i may attend to positions j <= i."""
    return np.tril(np.ones((n, n), dtype=bool))


def scaled_dot_product_attention(Q, K, V, mask=None, scale: float | None = None
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """Attention(Q, K, V) = A V with A = softmax(Q K^T / sqrt(d_k)) row-wise (Definition 21.6).

    By Theorem 21.3 every row of A is a probability vector (positive where not masked, summing
    to 1): a transition matrix computed from the content.

    Notebook: notebooks/02_attention.ipynb
    Args:
        Q (np.ndarray): queries, shape (..., n, d_k)
        K (np.ndarray): keys, shape (..., m, d_k)
        V (np.ndarray): values, shape (..., m, d_v)
        mask (np.ndarray of bool): broadcastable to (..., n, m); True = keep
        scale (float): multiplier of the scores; default 1 / sqrt(d_k)
    Returns:
        output (np.ndarray): shape (..., n, d_v)
        weights (np.ndarray): A, shape (..., n, m)
    Raises:
        ValueError: shapes that do not fit together, non-numeric input, a non-boolean mask
    """
    Q, K, V = (np.asarray(a) for a in (Q, K, V))
    for name, a in (("Q", Q), ("K", K), ("V", V)):
        if not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
        if a.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (tokens, features), "
                             f"got shape {a.shape}")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"Q and K need the same feature size d_k, got {Q.shape[-1]} and "
                         f"{K.shape[-1]}")
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(f"K and V need the same number of tokens, got {K.shape[-2]} and "
                         f"{V.shape[-2]}")
    d_k = Q.shape[-1]
    s = 1.0 / np.sqrt(d_k) if scale is None else float(scale)
    scores = (Q.astype(float) @ np.swapaxes(K.astype(float), -1, -2)) * s
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = keep), got dtype {mask.dtype}")
        try:
            scores = np.where(mask, scores, -np.inf)
        except ValueError:
            raise ValueError(f"mask of shape {mask.shape} does not broadcast to scores "
                             f"{scores.shape}") from None
    weights = softmax(scores, axis=-1)
    return weights @ V.astype(float), weights
