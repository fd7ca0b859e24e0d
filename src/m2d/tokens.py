"""Audio tokens in miniature: a vector-quantisation codebook of log-mel frames (k-means), and the helpers
that turn spectrogram patches into code sequences and back (the discrete side of Definition 21.12).

MusicGen and MusicLM do not model sound directly: a neural codec (EnCodec, SoundStream) first maps
every short frame of audio to one code of a finite codebook, and the Transformer models the code
sequence. Here the codec is the simplest one there is: each frame of a Part III patch (a column of
64 mel values in [-1, 1], 11.6 ms of sound) is replaced by the nearest of K learned codewords,

    c(x) = argmin_k ||x - mu_k||^2,    x_hat = mu_{c(x)},

and the codewords minimise the mean squared reconstruction error D(K) = E ||x - x_hat||^2 / 64
(Lloyd's k-means). Codebooks of growing size are *nested*: the codebook of size 2K starts from the
K codewords of the smaller one plus K new ones, and neither Lloyd step can increase the error, so
D(K) on the fitting frames never increases as the codebook grows.

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d import audio, cache
from m2d.rng import as_generator
from m2d.threads import one_blas_thread

#: Bumped whenever the codebook learning below changes what it returns (invalidates the cache).
TOKENS_VERSION = 1
#: Frames per second of the book's spectrograms (hop 256 at 22.05 kHz): one code per frame.
FRAME_RATE = audio.SR / audio.HOP


# --------------------------------------------------------------------------------------------------
# frames <-> patches


def patch_frames(patches: np.ndarray, frames_per_patch: int | None = None) -> np.ndarray:
    """The frames (mel columns) of spectrogram patches as rows: (n, n_mels, F) -> (n * F', n_mels).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        patches (np.ndarray): shape (n, n_mels, F)
        frames_per_patch (int or None): keep only the first F' frames of each patch (e.g. the stride
            of overlapping training patches, so that no frame is counted twice); None keeps all F
    Returns:
        X (np.ndarray): float32, shape (n * F', n_mels), patch by patch, frame by frame
    Raises:
        ValueError: not 3-D, or frames_per_patch outside 1..F
    """
    p = np.asarray(patches, dtype=np.float32)
    if p.ndim != 3:
        raise ValueError(f"patches must be (n, n_mels, frames), got shape {p.shape}")
    f = p.shape[2] if frames_per_patch is None else int(frames_per_patch)
    if not 1 <= f <= p.shape[2]:
        raise ValueError(f"frames_per_patch must be in 1..{p.shape[2]}, got {frames_per_patch}")
    return np.ascontiguousarray(p[:, :, :f].transpose(0, 2, 1).reshape(-1, p.shape[1]))


def _check_codebook(codebook: np.ndarray, dim: int | None = None) -> np.ndarray:
    c = np.asarray(codebook, dtype=np.float32)
    if c.ndim != 2 or c.shape[0] < 1:
        raise ValueError(f"a codebook must be a non-empty (K, dim) array, got shape {c.shape}")
    if dim is not None and c.shape[1] != dim:
        raise ValueError(f"codebook vectors have dimension {c.shape[1]}, data has {dim}")
    return c


def _check_sigma(sigma: np.ndarray, dim: int) -> np.ndarray:
    """The decoder's standard deviations: positive, one per dimension."""
    s = np.asarray(sigma, dtype=float)
    if s.shape != (dim,) or np.any(s <= 0):
        raise ValueError(f"sigma must be positive with shape ({dim},), got {s.shape}")
    return s


def _check_data(X: np.ndarray) -> np.ndarray:
    x = np.asarray(X, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"data must be a non-empty (n, dim) array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("data must be finite")
    return x


def _nearest(x: np.ndarray, c: np.ndarray, chunk: int = 32768) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest codeword and the squared distance to it, for every row of x."""
    c2 = (c.astype(np.float64) ** 2).sum(1)
    idx = np.empty(len(x), dtype=np.int64)
    d2 = np.empty(len(x), dtype=np.float64)
    for s in range(0, len(x), chunk):
        xb = x[s:s + chunk]
        # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2; the argmin does not need ||x||^2
        score = c2[None, :] - 2.0 * (xb @ c.T).astype(np.float64)
        j = np.argmin(score, axis=1)
        idx[s:s + chunk] = j
        r = xb - c[j]
        d2[s:s + chunk] = np.einsum("ij,ij->i", r, r, dtype=np.float64)
    return idx, d2


def encode(X: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Vector quantisation c(x) = argmin_k ||x - mu_k||^2 of every row of X (its token).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        X (np.ndarray): frames, shape (n, dim)
        codebook (np.ndarray): codewords mu_0..mu_{K-1}, shape (K, dim)
    Returns:
        codes (np.ndarray): int64, shape (n,), values in 0..K-1
    Raises:
        ValueError: bad shapes or non-finite data
    """
    x = _check_data(X)
    return _nearest(x, _check_codebook(codebook, x.shape[1]))[0]


def decode(codes: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Reconstruction x_hat = mu_c of every code c (any shape of codes; a trailing dim axis is added).

    Raises:
        ValueError: codes outside 0..K-1
    """
    c = _check_codebook(codebook)
    k = np.asarray(codes)
    if not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"codes must be integers, got dtype {k.dtype}")
    if k.size and (k.min() < 0 or k.max() >= len(c)):
        raise ValueError(f"codes must lie in 0..{len(c) - 1}, got {k.min()}..{k.max()}")
    return c[k]


def encode_patches(patches: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Code sequences of spectrogram patches: one token per frame, (n, n_mels, F) -> (n, F).

    Notebook: notebooks/05_landscape.ipynb
    """
    p = np.asarray(patches, dtype=np.float32)
    if p.ndim != 3:
        raise ValueError(f"patches must be (n, n_mels, frames), got shape {p.shape}")
    return encode(patch_frames(p), codebook).reshape(p.shape[0], p.shape[2])


def decode_patches(codes: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Patches from code sequences: (n, F) -> (n, n_mels, F), frame f of patch i = mu_{codes[i, f]}.

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: codes not 2-D, or outside 0..K-1
    """
    k = np.asarray(codes)
    if k.ndim != 2:
        raise ValueError(f"code sequences must be (n, frames), got shape {k.shape}")
    return np.ascontiguousarray(decode(k, codebook).transpose(0, 2, 1))


def reconstruct(patches: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """The patches as the codec returns them: every frame replaced by its nearest codeword,
    x_hat = mu_{c(x)} (:func:`encode_patches` then :func:`decode_patches`).

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        x_hat (np.ndarray): same shape as ``patches``
    """
    return decode_patches(encode_patches(patches, codebook), codebook)


def distortion(X: np.ndarray, codebook: np.ndarray) -> float:
    """Mean squared reconstruction error per value, D = (1 / (n dim)) sum_i ||x_i - mu_{c(x_i)}||^2.

    Notebook: notebooks/05_landscape.ipynb
    """
    x = _check_data(X)
    return float(_nearest(x, _check_codebook(codebook, x.shape[1]))[1].mean() / x.shape[1])


# --------------------------------------------------------------------------------------------------
# k-means


def rate_distortion(X: np.ndarray, codebooks: dict[int, np.ndarray], db_per_unit: float = 55.0
                    ) -> dict[str, np.ndarray]:
    """The codec's rate-distortion curve on frames X: for each codebook size K, the rate log2 K bits
    per frame and the distortion D(K) = E ||x - x_hat||^2 / d (:func:`distortion`), also as an RMS
    error in dB (sqrt(D) times the dB width of one model unit).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        X (np.ndarray): frames, shape (N, d)
        codebooks (dict[int, np.ndarray]): size K -> (K, d) codebook
        db_per_unit (float): dB per model unit ((DB_HI - DB_LO) / 2 for Part III's patches)
    Returns:
        curve (dict): arrays ``K``, ``bits``, ``mse``, ``rms_db`` in increasing K
    Raises:
        ValueError: no codebooks, or a codebook that does not fit X
    """
    if not codebooks:
        raise ValueError("codebooks is empty")
    sizes = np.array(sorted(int(k) for k in codebooks))
    mse = np.array([distortion(X, codebooks[int(k)]) for k in sizes])
    return {"K": sizes, "bits": np.log2(sizes), "mse": mse, "rms_db": np.sqrt(mse) * db_per_unit}


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator, start: np.ndarray | None) -> np.ndarray:
    """k-means++ (D^2) seeding: add k centres to ``start``, each drawn with probability proportional to
    the squared distance to the nearest centre already chosen."""
    centres = [] if start is None else list(start)
    if not centres:
        centres.append(x[rng.integers(len(x))])
    d2 = _nearest(x, np.asarray(centres, dtype=np.float32))[1]
    x64 = x.astype(np.float64)
    target = (0 if start is None else len(start)) + k
    while len(centres) < target:
        total = d2.sum()
        j = int(rng.choice(len(x), p=d2 / total)) if total > 0 else int(rng.integers(len(x)))
        centres.append(x[j])
        r = x64 - x64[j]
        d2 = np.minimum(d2, np.einsum("ij,ij->i", r, r))
    return np.asarray(centres, dtype=np.float32)


def kmeans(X: np.ndarray, k: int, n_iter: int = 20, rng: int | np.random.Generator = 0,
           init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means: alternate c_i = argmin_k ||x_i - mu_k||^2 and mu_k = mean{x_i : c_i = k},
    minimising D = (1 / (n dim)) sum_i ||x_i - mu_{c_i}||^2; neither step can increase D.

    Seeding is k-means++ (seeded). With ``init`` (m < k codewords) the first m centres are those and
    the other k - m are added by k-means++, so D starts at most at the error of ``init``. A centre that
    loses all its points moves to the point with the largest error (D still does not increase).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        X (np.ndarray): data, shape (n, dim), n >= k
        k (int): codebook size, >= 1
        n_iter (int): Lloyd iterations, >= 0 (stops early when no assignment changes)
        rng (int or np.random.Generator): seed of the k-means++ draws
        init (np.ndarray or None): starting codewords, shape (m, dim) with m <= k
    Returns:
        codebook (np.ndarray): float32, shape (k, dim)
        history (np.ndarray): D after seeding and after every iteration (non-increasing)
    Raises:
        ValueError: k < 1, fewer data points than k, n_iter < 0, init of the wrong shape or size
    """
    x = _check_data(X)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"codebook size k must be a positive integer, got {k!r}")
    if len(x) < k:
        raise ValueError(f"need at least k = {k} data points, got {len(x)}")
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0, got {n_iter}")
    rng = as_generator(rng)
    if init is not None:
        init = _check_codebook(init, x.shape[1])
        if len(init) > k:
            raise ValueError(f"init has {len(init)} codewords, more than k = {k}")
    c = _plus_plus(x, k - (0 if init is None else len(init)), rng, init)
    idx, d2 = _nearest(x, c)
    history = [d2.mean() / x.shape[1]]
    dim = x.shape[1]
    for _ in range(n_iter):
        counts = np.bincount(idx, minlength=k)
        order = np.argsort(idx, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.zeros((k, dim), dtype=np.float64)
        full = counts > 0
        sums[full] = np.add.reduceat(x[order].astype(np.float64), starts[full], axis=0)
        c = c.copy()
        c[full] = (sums[full] / counts[full, None]).astype(np.float32)
        empty = np.flatnonzero(~full)
        if empty.size:  # re-seed empty centres at the worst-represented points (distinct ones)
            worst = np.argsort(d2)[::-1][: empty.size]
            c[empty] = x[worst]
        new_idx, d2 = _nearest(x, c)
        history.append(d2.mean() / dim)
        if np.array_equal(new_idx, idx) and not empty.size:
            break
        idx = new_idx
    return c, np.asarray(history)


def grow_codebooks(X: np.ndarray, sizes: Sequence[int], n_iter: int = 20,
                   rng: int | np.random.Generator = 0
                   ) -> dict[int, np.ndarray]:
    """Nested codebooks of increasing size: each one is :func:`kmeans` started from the previous
    (smaller) codebook plus k-means++ additions, so D(K) on X is non-increasing in K.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        X (np.ndarray): fitting frames, shape (n, dim)
        sizes (sequence of int): codebook sizes, strictly increasing, the largest <= n
        n_iter (int): Lloyd iterations per size
        rng (int or np.random.Generator): seed of the k-means++ draws (size i uses rng + i)
    Returns:
        codebooks (dict[int, np.ndarray]): size -> (size, dim) codebook
    Raises:
        ValueError: empty or non-increasing sizes (and the errors of :func:`kmeans`)
    """
    s = [int(v) for v in sizes]
    if not s or any(b <= a for a, b in zip(s[:-1], s[1:], strict=True)) or s[0] < 1:
        raise ValueError(f"sizes must be positive and strictly increasing, got {list(sizes)}")
    out: dict[int, np.ndarray] = {}
    prev = None
    for i, k in enumerate(s):
        prev, _ = kmeans(X, k, n_iter=n_iter, init=prev,
                          rng=rng + i if isinstance(rng, (int, np.integer)) else rng)
        out[k] = prev
    return out


# --------------------------------------------------------------------------------------------------
# the book's codebooks (cached)


def book_codebooks(sizes: Sequence[int] = (2, 4, 8, 16, 32, 64, 128, 256, 512), n_fit: int = 60_000,
                   n_iter: int = 20, rng: int = 0, patches: np.ndarray | None = None,
                   patch_stride: int | None = None) -> dict[int, np.ndarray]:
    """Nested codebooks learned on frames of Part III's training patches (cached on disk).

    The training patches overlap by half (stride 32 of 64 frames), so only the first ``stride`` frames
    of each are used; ``n_fit`` of them are drawn at random (seeded) to fit k-means.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        sizes (sequence of int): codebook sizes (strictly increasing)
        n_fit (int): number of frames k-means is fitted on
        n_iter (int): Lloyd iterations per size
        rng (int): seed of the frame selection and of k-means++ (an integer: it is part of the
            cache key)
        patches (np.ndarray or None): training patches; default ``spectro.load_patches("train")``
        patch_stride (int or None): frames per patch kept; default the PatchConfig stride
    Returns:
        codebooks (dict[int, np.ndarray]): size -> (size, n_mels) float32 codebook
    """
    from m2d import spectro

    cfg = spectro.PatchConfig()
    stride = cfg.stride if patch_stride is None else int(patch_stride)
    p = spectro.load_patches("train", cfg) if patches is None else np.asarray(patches, dtype=np.float32)
    sizes = [int(v) for v in sizes]

    def build() -> dict[str, np.ndarray]:
        X = patch_frames(p, stride)
        pick = np.random.default_rng(rng).choice(len(X), size=min(n_fit, len(X)), replace=False)
        with one_blas_thread():  # on a shared machine, competing BLAS threads only slow k-means down
            books = grow_codebooks(X[np.sort(pick)], sizes, n_iter=n_iter, rng=rng)
        return {str(k): v for k, v in books.items()}

    def check(found: dict[str, np.ndarray]) -> None:
        if sorted(int(k) for k in found) != sorted(sizes):
            raise ValueError("cached codebooks have other sizes")
        for k, v in found.items():
            if v.shape != (int(k), p.shape[1]) or not np.all(np.isfinite(v)):
                raise ValueError(f"cached codebook {k} is malformed")

    found = cache.cached_arrays("codebooks", [sizes, n_fit, n_iter, rng, stride, cache.fingerprint(p)],
                                build, version=TOKENS_VERSION, check=check)
    return {int(k): v for k, v in found.items()}


# --------------------------------------------------------------------------------------------------
# likelihood of a patch under a token model, and rates


def fit_decoder_std(X: np.ndarray, codebook: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Per-dimension standard deviation of the quantisation residual, sigma_d^2 = mean (x_d - x_hat_d)^2:
    the maximum-likelihood sigma of the decoder p(x | c) = N(mu_c, diag(sigma^2)).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        X (np.ndarray): frames (n, dim), e.g. training frames
        codebook (np.ndarray): (K, dim)
        floor (float): smallest sigma returned (> 0)
    Returns:
        sigma (np.ndarray): shape (dim,)
    """
    x = _check_data(X)
    c = _check_codebook(codebook, x.shape[1])
    r = x - c[_nearest(x, c)[0]]
    return np.maximum(np.sqrt((r.astype(np.float64) ** 2).mean(0)), floor)


def decoder_bits(patches: np.ndarray, codebook: np.ndarray, sigma: np.ndarray, bits: int = 8) -> np.ndarray:
    """-log2 p(x | c(x)) of each patch in bits: every value of the 8-bit patch under the discretised
    Gaussian N(mu_c, sigma_d^2) integrated over its quantisation bin (the decoder L_0 of Part III,
    :func:`m2d.diffusion.discretized_gaussian_log_likelihood`).

    Adding -log2 p(c_1..c_F) of an autoregressive model over the codes gives -log2 p(x, c(x)) >=
    -log2 p(x): an upper bound on the patch's code length, in the same units as the diffusion ELBO.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        patches (np.ndarray): (n, dim, F) on the 2^bits grid of [-1, 1]
        codebook (np.ndarray): (K, dim)
        sigma (np.ndarray): (dim,) decoder standard deviations (:func:`fit_decoder_std`)
        bits (int): quantisation of the patches
    Returns:
        nll (np.ndarray): bits per patch, shape (n,)
    """
    from m2d import diffusion

    p = np.asarray(patches, dtype=np.float64)
    codes = encode_patches(p, codebook)
    mean = decode_patches(codes, codebook).astype(np.float64)
    s = _check_sigma(sigma, p.shape[1])
    ll = diffusion.discretized_gaussian_log_likelihood(p, mean, s[None, :, None], bits)
    return -ll.reshape(len(p), -1).sum(1) / np.log(2.0)


def decoder_bits_lower_bound(patches: np.ndarray, codebook: np.ndarray, sigma: np.ndarray,
                             bits: int = 8, chunk: int = 4) -> np.ndarray:
    """A lower bound on -log2 p(x) of each patch under *any* token model with this decoder:
    the sum over frames of the fewest bits any single codeword's decoder gives the frame,

        -log2 p(x) >= sum_n min_k [-log2 p(x_n | k)],

    because p(x) = sum_c p(c) prod_n p(x_n | c_n) <= max_c prod_n p(x_n | c_n) (the weights p(c)
    sum to 1) and the maximum of a product of per-frame factors is the product of per-frame
    maxima. With :func:`decoder_bits` plus the exact code bits as the upper bound, it brackets
    the patch's code length under the token model of chapter 5, whatever the code model p(c).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        patches (np.ndarray): (n, dim, F) on the 2^bits grid of [-1, 1]
        codebook (np.ndarray): (K, dim)
        sigma (np.ndarray): (dim,) decoder standard deviations (:func:`fit_decoder_std`)
        bits (int): quantisation of the patches
        chunk (int): codewords evaluated at once (memory: n * F * chunk * dim floats)
    Returns:
        nll (np.ndarray): bits per patch, shape (n,), never above :func:`decoder_bits`
    Raises:
        ValueError: bad shapes, sigma not positive with shape (dim,), chunk below 1
    """
    from m2d import diffusion

    p = np.asarray(patches, dtype=np.float64)
    if p.ndim != 3:
        raise ValueError(f"patches must be (n, dim, frames), got shape {p.shape}")
    c = _check_codebook(codebook, p.shape[1]).astype(np.float64)
    s = _check_sigma(sigma, p.shape[1])
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    frames = p.transpose(0, 2, 1).reshape(-1, 1, p.shape[1])  # (n * F, 1, dim), float64
    best = np.full(len(frames), np.inf)
    for start in range(0, len(c), chunk):
        ll = diffusion.discretized_gaussian_log_likelihood(frames, c[None, start:start + chunk],
                                                           s[None, None, :], bits)
        best = np.minimum(best, -ll.sum(-1).max(-1) / np.log(2.0))
    return best.reshape(len(p), -1).sum(1)
