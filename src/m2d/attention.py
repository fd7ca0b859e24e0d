"""Part II: scaled dot-product attention as a content-dependent stochastic matrix
(Definitions 21.5-21.7, Theorem 21.3), on numpy arrays, checked against torch; and what it costs
(Limit 2): measured time and memory against the sequence length, and the memory of the n x n
weights for long audio-token sequences.

Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import math

import numpy as np

from m2d import checks
from m2d.threads import one_blas_thread


def softmax(x, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: softmax(x)_j = exp(x_j - max x) / sum_k exp(x_k - max x).

    Subtracting the maximum changes nothing mathematically (it cancels) but keeps exp from
    overflowing. Entries equal to -inf (masked) get probability 0.
    Raises:
        ValueError: x contains NaN or +inf (x - max x would be inf - inf), or a whole slice is
            -inf (nothing to attend to)
        TypeError: complex or non-numeric x
    """
    a = checks.real_array("x", x, finite=False)
    if np.isnan(a).any():
        raise ValueError("softmax input x contains NaN")
    if np.isposinf(a).any():
        raise ValueError("softmax input x contains +inf: its weight is undefined (inf - inf); "
                         "use finite scores, and -inf only to mask")
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
        if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise ValueError(f"{name} must be real numbers, got dtype {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf; attention needs finite inputs")
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
    s = 1.0 / np.sqrt(d_k) if scale is None else checks.real("scale", scale)
    with np.errstate(over="ignore", invalid="ignore"):
        scores = (Q.astype(float) @ np.swapaxes(K.astype(float), -1, -2)) * s
    if not np.all(np.isfinite(scores)):
        raise ValueError("the scores Q K^T * scale overflow float64 (|score| > 1.8e308): scale Q "
                         "or K down; softmax only sees differences, so nothing is lost")
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


def _check_matrix(name: str, a, ndim: int | None = None) -> np.ndarray:
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    return a.astype(float)


def project_qkv(X, W_q, W_k, W_v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries, keys and values Q = X W^Q, K = X W^K, V = X W^V (Definition 21.5).

    Notebook: notebooks/02_attention.ipynb
    Args:
        X (np.ndarray): token embeddings as rows, shape (..., n, d_model)
        W_q, W_k (np.ndarray): shape (d_model, d_k)
        W_v (np.ndarray): shape (d_model, d_v)
    Returns:
        Q, K (np.ndarray): shape (..., n, d_k); V (np.ndarray): shape (..., n, d_v)
    Raises:
        ValueError: non-numeric input, X with fewer than 2 dimensions, a W that is not 2-D or whose
            row count differs from d_model, W_q and W_k of different widths
    """
    X = _check_matrix("X", X)
    if X.ndim < 2:
        raise ValueError(f"X must have at least 2 dimensions (tokens, features), got shape {X.shape}")
    Ws = [_check_matrix(name, W, 2) for name, W in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v))]
    for name, W in zip(("W_q", "W_k", "W_v"), Ws, strict=True):
        if W.shape[0] != X.shape[-1]:
            raise ValueError(f"{name} has {W.shape[0]} rows but X has d_model = {X.shape[-1]} columns")
    if Ws[0].shape[1] != Ws[1].shape[1]:
        raise ValueError(f"W_q and W_k need the same width d_k, got {Ws[0].shape[1]} and {Ws[1].shape[1]}")
    return X @ Ws[0], X @ Ws[1], X @ Ws[2]


def multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads: int, mask=None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """MultiHead(X) = Concat(head_1, ..., head_h) W^O with head_i = Attention(X W_i^Q, X W_i^K, X W_i^V)
    (Definition 21.7).

    The per-head projections W_i^Q are the i-th block of d_model / h columns of W_q (likewise for
    W_k, W_v), the layout of ``torch.nn.MultiheadAttention``: with its ``in_proj_weight`` split into
    three (E, E) blocks, ``W_q = block_q.T``, and ``W_o = out_proj.weight.T`` (biases zero).

    Notebook: notebooks/02_attention.ipynb
    Args:
        X (np.ndarray): token embeddings, shape (..., n, d_model)
        W_q, W_k, W_v (np.ndarray): shape (d_model, d_model)
        W_o (np.ndarray): shape (d_model, d_out)
        n_heads (int): number of heads h; d_model must be divisible by h
        mask (np.ndarray of bool): broadcastable to (n, n), True = keep (e.g. :func:`causal_mask`)
    Returns:
        output (np.ndarray): shape (..., n, d_out)
        weights_per_head (np.ndarray): shape (..., h, n, n); each row is a probability vector
    Raises:
        ValueError: n_heads not a positive integer dividing d_model, shapes that do not fit,
            non-numeric input, a bad mask
    """
    if isinstance(n_heads, bool) or not isinstance(n_heads, (int, np.integer)) or n_heads < 1:
        raise ValueError(f"n_heads must be a positive integer, got {n_heads!r}")
    Q, K, V = project_qkv(X, W_q, W_k, W_v)
    W_o = _check_matrix("W_o", W_o, 2)
    d_model = Q.shape[-1]
    if d_model % n_heads or V.shape[-1] % n_heads:
        raise ValueError(f"d_model = {d_model} is not divisible by n_heads = {n_heads}")
    if W_o.shape[0] != V.shape[-1]:
        raise ValueError(f"W_o has {W_o.shape[0]} rows but the concatenated heads have {V.shape[-1]} columns")

    def split(a: np.ndarray) -> np.ndarray:  # (..., n, h*d) -> (..., h, n, d)
        return np.swapaxes(a.reshape(*a.shape[:-1], n_heads, a.shape[-1] // n_heads), -2, -3)

    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = keep), got dtype {mask.dtype}")
    heads, weights = scaled_dot_product_attention(split(Q), split(K), split(V), mask=mask)
    concat = np.swapaxes(heads, -2, -3)
    concat = concat.reshape(*concat.shape[:-2], -1)
    return concat @ W_o, weights


def difference_to_torch(Q, K, V, mask=None) -> float:
    """max |Attention(Q, K, V) - torch's| : :func:`scaled_dot_product_attention` (Definition 21.6)
    against ``torch.nn.functional.scaled_dot_product_attention`` on the same float64 inputs.

    Notebook: notebooks/02_attention.ipynb
    Args:
        Q, K, V (np.ndarray): as for :func:`scaled_dot_product_attention`
        mask (np.ndarray of bool or None): True = keep
    Returns:
        error (float): largest absolute difference of the outputs (rounding only: ~1e-16)
    Raises:
        ValueError: as :func:`scaled_dot_product_attention`
    """
    import torch

    out, _ = scaled_dot_product_attention(Q, K, V, mask=mask)
    t = [torch.tensor(np.asarray(a, dtype=float)) for a in (Q, K, V)]
    ref = torch.nn.functional.scaled_dot_product_attention(
        *t, attn_mask=None if mask is None else torch.tensor(np.asarray(mask)))
    return float(np.abs(out - ref.numpy()).max())


def torch_mha_weights(mha) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(W_q, W_k, W_v, W_o) of a ``torch.nn.MultiheadAttention`` in the layout of
    :func:`multi_head_attention` (Definition 21.7): ``in_proj_weight`` split into three (E, E)
    blocks, each transposed, and ``W_o = out_proj.weight.T``.

    Notebook: notebooks/02_attention.ipynb
    Args:
        mha (torch.nn.MultiheadAttention): built with ``bias=False`` and equal q/k/v sizes
    Returns:
        W_q, W_k, W_v, W_o (np.ndarray): float64, shape (E, E)
    Raises:
        ValueError: a module with biases or separate q/k/v projection weights
    """
    if mha.in_proj_weight is None:
        raise ValueError("mha has separate q/k/v projections (kdim/vdim differ from embed_dim)")
    if mha.in_proj_bias is not None or mha.out_proj.bias is not None:
        raise ValueError("mha has biases; Definition 21.7 has none: build it with bias=False")
    E = mha.embed_dim
    W_in = mha.in_proj_weight.detach().double().numpy()
    W_o = mha.out_proj.weight.detach().double().numpy().T
    return W_in[:E].T, W_in[E:2 * E].T, W_in[2 * E:].T, W_o


def compare_with_torch_mha(X, mha, mask=None) -> dict[str, np.ndarray | float]:
    """:func:`multi_head_attention` (Definition 21.7) with the weights of a torch
    ``nn.MultiheadAttention`` (:func:`torch_mha_weights`), against that module's own output.

    Notebook: notebooks/02_attention.ipynb
    Args:
        X (np.ndarray): one sequence of token embeddings, shape (n, E)
        mha (torch.nn.MultiheadAttention): ``bias=False``, ``batch_first=True``
        mask (np.ndarray of bool or None): (n, n), True = keep (e.g. :func:`causal_mask`)
    Returns:
        result (dict): ``output`` (n, E) and ``weights`` (heads, n, n) of ours,
        ``max_output_error`` and ``max_weight_error`` (largest absolute differences to torch)
    Raises:
        ValueError: X not 2-D, or as :func:`torch_mha_weights` / :func:`multi_head_attention`
    """
    import torch

    X = _check_matrix("X", X, 2)
    out, w = multi_head_attention(X, *torch_mha_weights(mha), mha.num_heads, mask=mask)
    x = torch.tensor(X[None], dtype=next(mha.parameters()).dtype)
    with torch.no_grad():
        ref, ref_w = mha(x, x, x, need_weights=True, average_attn_weights=False,
                         attn_mask=None if mask is None else torch.tensor(~np.asarray(mask)))
    return {"output": out, "weights": w,
            "max_output_error": float(np.abs(out - ref[0].numpy()).max()),
            "max_weight_error": float(np.abs(w - ref_w[0].numpy()).max())}


def stochasticity(A, axis: int = -1) -> tuple[float, float]:
    """How far A is from a strictly positive row-stochastic matrix (Theorem 21.3):
    (min_{i,j} A_ij, max_i |sum_j A_ij - 1|).

    Notebook: notebooks/02_attention.ipynb
    Returns:
        min_entry (float), max_row_error (float)
    """
    A = np.asarray(A, dtype=float)
    return float(A.min()), float(np.abs(A.sum(axis=axis) - 1.0).max())


def entropy_bits(p, axis: int = -1) -> np.ndarray:
    """Shannon entropy H(p) = -sum_j p_j log2 p_j of probability vectors along ``axis`` (0 log 0 = 0).

    Notebook: notebooks/02_attention.ipynb
    Args:
        p (array-like): probability vectors
        axis (int): the axis that sums to 1
    Returns:
        H (np.ndarray): entropies in bits
    """
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=axis)


def scaling_experiment(d_ks, n_keys: int = 16, n_samples: int = 2000,
                       rng: np.random.Generator | int | None = None) -> dict[str, np.ndarray]:
    """Why divide by sqrt(d_k): with q, k ~ N(0, I_{d_k}) independent, Var(q . k) = d_k, so the
    scaled score q . k / sqrt(d_k) has variance 1; unscaled softmax rows saturate as d_k grows.

    For each d_k draws ``n_samples`` rows of ``n_keys`` scores q . k_j and reports the sample
    variance of the scores and the mean entropy (bits) and mean largest weight of softmax rows,
    without and with the 1/sqrt(d_k) scaling.

    Notebook: notebooks/02_attention.ipynb
    Args:
        d_ks (sequence of int): key dimensions d_k >= 1
        n_keys (int): keys per softmax row (the row's maximal entropy is log2 n_keys)
        n_samples (int): rows per d_k
        rng (Generator or int): randomness
    Returns:
        result (dict): arrays over d_ks: ``d_k``, ``var_raw``, ``var_scaled``, ``entropy_raw``,
            ``entropy_scaled``, ``max_weight_raw``, ``max_weight_scaled``
    Raises:
        ValueError: a d_k below 1, n_keys below 2, n_samples below 2
    """
    d_ks = np.asarray(d_ks, dtype=int)
    if d_ks.size == 0 or d_ks.min() < 1:
        raise ValueError("every d_k must be a positive integer")
    if n_keys < 2 or n_samples < 2:
        raise ValueError(f"need n_keys >= 2 and n_samples >= 2, got {n_keys}, {n_samples}")
    rng = np.random.default_rng(rng)
    out: dict[str, list[float]] = {k: [] for k in ("var_raw", "var_scaled", "entropy_raw",
                                                   "entropy_scaled", "max_weight_raw",
                                                   "max_weight_scaled")}
    for d in d_ks:
        q = rng.standard_normal((n_samples, 1, d))
        k = rng.standard_normal((n_samples, n_keys, d))
        s = (q * k).sum(axis=-1)  # (n_samples, n_keys)
        for tag, z in (("raw", s), ("scaled", s / np.sqrt(d))):
            w = softmax(z, axis=-1)
            out[f"var_{tag}"].append(float(z.var()))
            out[f"entropy_{tag}"].append(float(entropy_bits(w).mean()))
            out[f"max_weight_{tag}"].append(float(w.max(axis=-1).mean()))
    return {"d_k": d_ks, **{k: np.asarray(v) for k, v in out.items()}}


def aggregate_by_label(weights, labels, n_labels: int) -> np.ndarray:
    """Attention mass per label: m_c = sum_{j : label_j = c} w_j (rows of ``weights`` over keys).

    With pitch classes as labels this turns an attention row over positions into a distribution
    over the 12 notes, comparable with a Markov row.

    Notebook: notebooks/02_attention.ipynb
    Args:
        weights (np.ndarray): shape (..., n_keys)
        labels (array of int): shape (n_keys,), values in 0..n_labels-1
        n_labels (int): number of labels
    Returns:
        mass (np.ndarray): shape (..., n_labels); sums equal the rows' sums
    Raises:
        ValueError: label count differs from the number of keys, or labels out of range
    """
    w = np.asarray(weights, dtype=float)
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != (w.shape[-1],):
        raise ValueError(f"{lab.size} labels for {w.shape[-1]} keys")
    if lab.size and (lab.min() < 0 or lab.max() >= n_labels):
        raise ValueError(f"labels must lie in 0..{n_labels - 1}")
    onehot = np.eye(n_labels)[lab]  # (n_keys, n_labels)
    return w @ onehot


def attention_cost(ns, d_k: int = 64, reps: int = 3, rng: np.random.Generator | int | None = None
                   ) -> dict[str, np.ndarray]:
    """Time and memory of one scaled dot-product attention (Definition 21.6) against sequence length n
    (Limit 2: the n x n score matrix costs O(n^2 d_k) time and O(n^2) memory).

    Time is the fastest of ``reps`` calls of :func:`scaled_dot_product_attention` on random (n, d_k)
    inputs, after one untimed warm-up call (the minimum is the run least disturbed by other work on
    the machine), with the BLAS library limited to one thread when ``threadpoolctl`` is available
    (Limit 2 is about the operation count, not about parallel speed-up or thread contention); memory
    is the peak of numpy's allocations during one call (tracemalloc), which is dominated by the n x n
    matrices.

    Notebook: notebooks/02_attention.ipynb
    Args:
        ns (sequence of int): sequence lengths
        d_k (int): feature size of queries, keys and values
        reps (int): timed repetitions per n (>= 1)
        rng (Generator or int): randomness of the inputs
    Returns:
        cost (dict): arrays ``n``, ``seconds``, ``peak_bytes``
    Raises:
        ValueError: a length below 1, d_k or reps below 1
    """
    ns = np.asarray(ns, dtype=int)
    if ns.size == 0 or ns.min() < 1 or d_k < 1 or reps < 1:
        raise ValueError("lengths, d_k and reps must be positive")
    rng = np.random.default_rng(rng)
    with one_blas_thread():
        return _attention_cost(ns, d_k, reps, rng)


def _attention_cost(ns: np.ndarray, d_k: int, reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    import time
    import tracemalloc

    secs, peaks = [], []
    for n in ns:
        Q, K, V = rng.standard_normal((3, n, d_k))
        scaled_dot_product_attention(Q, K, V)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            scaled_dot_product_attention(Q, K, V)
            times.append(time.perf_counter() - t0)
        secs.append(float(np.min(times)))
        tracemalloc.start()
        try:
            scaled_dot_product_attention(Q, K, V)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return {"n": ns, "seconds": np.asarray(secs), "peak_bytes": np.asarray(peaks, dtype=float)}


def loglog_slope(x, y) -> float:
    """Least-squares slope b of log y = a + b log x (the exponent of a power law y ~ x^b; Limit 2).

    Notebook: notebooks/02_attention.ipynb
    Args:
        x, y (array-like): positive values of equal length
    Returns:
        b (float): the fitted exponent
    Raises:
        ValueError: fewer than two points, or non-positive values
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("need at least two (x, y) pairs of equal length")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("log-log fit needs positive x and y")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# --------------------------------------------------------------------------------------------------
# Limit 2: attention memory over long audio-token sequences


def codec_sequence_length(seconds: float, frame_rate: float = 50.0, n_codebooks: int = 4,
                          interleaved: bool = True) -> int:
    """Length n of the token sequence a Transformer attends over for ``seconds`` of audio from a codec
    with ``frame_rate`` frames per second and ``n_codebooks`` residual codebooks per frame: one step
    per frame when the codebooks are predicted in parallel (MusicGen's delay pattern), one step per
    token (n = seconds x frame_rate x codebooks) when they are flattened into one sequence.

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: non-positive seconds, frame rate or number of codebooks
    """
    if seconds <= 0 or frame_rate <= 0 or n_codebooks < 1:
        raise ValueError("seconds, frame_rate and n_codebooks must be positive")
    frames = math.ceil(seconds * frame_rate)
    return frames if interleaved else frames * int(n_codebooks)


def attention_matrix_bytes(n: int, n_heads: int = 1, n_layers: int = 1, bytes_per_value: int = 4,
                           batch: int = 1) -> int:
    """Memory of the materialised attention weights A = softmax(Q K^T / sqrt(d_k)) (Definition 21.6):
    one n x n matrix per head, layer and sequence, i.e. n^2 x heads x layers x batch x bytes.

    (Memory-efficient kernels such as FlashAttention avoid storing A but still do the O(n^2) work.)

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: non-positive arguments
    """
    if min(n, n_heads, n_layers, bytes_per_value, batch) < 1:
        raise ValueError("n, n_heads, n_layers, bytes_per_value and batch must be positive")
    return int(n) ** 2 * int(n_heads) * int(n_layers) * int(bytes_per_value) * int(batch)


def fit_quadratic_memory(ns, peak_bytes) -> float:
    """Least-squares c in peak_bytes ~ c n^2 (through the origin): bytes per attention-score entry
    measured by Part II's :func:`m2d.attention.attention_cost`.

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: fewer than one pair, non-positive values
    """
    n = np.asarray(ns, dtype=float)
    y = np.asarray(peak_bytes, dtype=float)
    if n.shape != y.shape or n.size < 1 or np.any(n <= 0) or np.any(y <= 0):
        raise ValueError("need positive (n, bytes) pairs of equal length")
    return float((n**2 @ y) / (n**4).sum())
