"""Row-stochastic matrices (Definition 21.2): P[i, j] >= 0 and sum_j P[i, j] = 1 for every row.

The transition matrix of a Markov chain (Part I, :mod:`m2d.markov`) and the attention weights of a
Transformer (Part II, Theorem 21.3) are both such matrices; this module validates them, builds them
from weights, edits one row (the control a chain offers, Limit 5), and measures the total-variation
distance between their rows.

Notebook: notebooks/01_markov.ipynb, notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import numpy as np

from m2d import checks


def check_stochastic(P, atol: float = 1e-8) -> np.ndarray:
    """Validate a row-stochastic matrix (Definition 21.2) and return it as a float array.

    Conditions: P is square, P[i, j] >= 0, and sum_j P[i, j] = 1 for every row i (within ``atol``).

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (array-like): candidate transition matrix, shape (n, n)
        atol (float): tolerance on the row sums
    Returns:
        P (np.ndarray): float64 copy, shape (n, n)
    Raises:
        ValueError: naming the first problem: entries that are not numbers, not 2-D, not square,
            empty, NaN/inf entry (row, column), negative entry (row, column), a row not summing to 1
            (which row, its sum)
    """
    atol = checks.real("atol", atol, low=0)
    if np.iscomplexobj(np.asarray(P, dtype=object if isinstance(P, str) else None)):
        raise ValueError("P must be real: complex entries (their imaginary part would be lost)")
    try:
        A = np.array(P, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"entries must be numbers ({exc})") from None
    if A.ndim != 2:
        raise ValueError(f"P must be a 2-D matrix, got an array with shape {A.shape}")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"P must be square, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError("P is empty (0 states)")
    bad = np.argwhere(~np.isfinite(A))
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"entry P[{i}, {j}] is {A[i, j]}; entries must be finite numbers")
    bad = np.argwhere(A < 0)
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"negative entry P[{i}, {j}] = {A[i, j]:g}; probabilities must be >= 0")
    sums = A.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        i = bad[0]
        raise ValueError(f"row {i} sums to {sums[i]:.10g}, not 1 (off by {sums[i] - 1:+.1e}; "
                         f"tolerance {atol:g}; every row must sum to 1)")
    return A


def normalize_rows(W) -> np.ndarray:
    """Turn non-negative weights into a stochastic matrix: P[i, j] = W[i, j] / sum_k W[i, k].

    Raises:
        ValueError: negative or non-finite weights, or a row of zeros (no way to leave that state)
    """
    A = np.array(W, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"weights must be a 2-D matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        i, j = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(f"weight W[{i}, {j}] is {A[i, j]}; weights must be finite")
    if np.any(A < 0):
        i, j = np.argwhere(A < 0)[0]
        raise ValueError(f"negative weight W[{i}, {j}] = {A[i, j]:g}")
    sums = A.sum(axis=1, keepdims=True)
    if np.any(sums == 0):
        raise ValueError(f"row {int(np.flatnonzero(sums[:, 0] == 0)[0])} is all zeros; "
                         "it cannot be normalised")
    return A / sums


def tv_distance(p, q) -> np.ndarray | float:
    """Total variation distance ||p - q||_TV = (1/2) sum_x |p(x) - q(x)| (along the last axis)."""
    d = 0.5 * np.abs(np.asarray(p, dtype=float) - np.asarray(q, dtype=float)).sum(axis=-1)
    return float(d) if np.ndim(d) == 0 else d


def edit_row(P, i: int, row) -> np.ndarray:
    """A copy of the transition matrix P with row i replaced by ``row`` / sum(row): the complete
    control a Markov chain offers -- every P(x_{t+1} = . | x_t = i) is a number one can set.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        P (np.ndarray): stochastic matrix (n, n)
        i (int): the state whose row is replaced, 0..n-1
        row (array): n non-negative weights with a positive sum
    Returns:
        P_new (np.ndarray): stochastic matrix (n, n); P itself is unchanged
    Raises:
        ValueError: P not stochastic, i out of range, row of the wrong length, negative or all zero
    """
    A = check_stochastic(P).copy()
    n = len(A)
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
        raise ValueError(f"row index must be an integer in 0..{n - 1}, got {i!r}")
    r = np.asarray(row, dtype=float)
    if r.shape != (n,):
        raise ValueError(f"the new row needs {n} entries, got shape {r.shape}")
    if not np.all(np.isfinite(r)) or np.any(r < 0) or r.sum() <= 0:
        raise ValueError("the new row must be finite, non-negative and not all zero")
    A[i] = r / r.sum()
    return check_stochastic(A)
