"""The landscape chapter's comparison helpers: control (edit a Markov row; diffusion inpainting),
the memory of attention over a long piece of audio tokens (Limit 2), and a timed, cached generation
benchmark of the token and the diffusion model on the same patches.

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from m2d import cache

#: Bumped whenever a cached result below changes meaning (invalidates the cache).
LANDSCAPE_VERSION = 1


# --------------------------------------------------------------------------------------------------
# Limit 5, Markov side: control by editing one row


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
    from m2d import markov

    A = markov.check_stochastic(P).copy()
    n = len(A)
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
        raise ValueError(f"row index must be an integer in 0..{n - 1}, got {i!r}")
    r = np.asarray(row, dtype=float)
    if r.shape != (n,):
        raise ValueError(f"the new row needs {n} entries, got shape {r.shape}")
    if not np.all(np.isfinite(r)) or np.any(r < 0) or r.sum() <= 0:
        raise ValueError("the new row must be finite, non-negative and not all zero")
    A[i] = r / r.sum()
    return markov.check_stochastic(A)


# --------------------------------------------------------------------------------------------------
# Limit 5, diffusion side: inpainting by replacement (RePaint)


def _schedule_steps(T: int, steps: int | None) -> np.ndarray:
    if steps is None:
        return np.arange(T, 0, -1)
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be in 1..{T}, got {steps}")
    return np.unique(np.round(np.linspace(1, T, steps)).astype(int))[::-1]


def inpaint(model, known: np.ndarray, mask: np.ndarray, betas: np.ndarray, seed: int,
            steps: int | None = 50, resample: int = 1,
            clip: bool | tuple[float, float] = True) -> np.ndarray:
    """Fill the unknown part of patches with a trained noise predictor eps_theta: diffusion inpainting
    by replacement (RePaint, Lugmayr et al. 2022), on the DDIM steps tau_S > ... > tau_1.

    At each step tau with next step tau' (0 after tau_1):

    1. known region <- a fresh forward sample sqrt(abar_tau) x_known + sqrt(1 - abar_tau) z
       (Theorem 21.4), so the whole x_tau is consistent with the fixed part;
    2. x0_hat = (x_tau - sqrt(1 - abar_tau) eps_theta(x_tau, tau)) / sqrt(abar_tau) (clipped),
       then the deterministic DDIM step x_tau' = sqrt(abar_tau') x0_hat + sqrt(1 - abar_tau') eps_hat;
    3. with ``resample`` = r > 1, steps 1-2 are repeated r times, re-noising x_tau' back to tau in between
       (x_tau = sqrt(abar_tau / abar_tau') x_tau' + sqrt(1 - abar_tau / abar_tau') z), which lets the
       generated part and the fixed part agree.

    Finally the known region is set to x_known exactly, so the fixed part is kept bit for bit.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (torch.nn.Module): eps_theta(x, t) on (B, 1, H, W) inputs (Part III's U-Net)
        known (np.ndarray): patches (n, H, W) in [-1, 1]; only the masked values are used
        mask (np.ndarray): bool, (H, W) or (n, H, W), True where the value is fixed
        betas (np.ndarray): beta_1..beta_T of the model's training schedule
        seed (int): seed of x_T and of every fresh noise
        steps (int or None): number of DDIM steps S (None: all T steps)
        resample (int): RePaint's resampling count r >= 1
        clip (bool or (lo, hi)): clip x0_hat to [-1, 1] (True), to [lo, hi] (e.g. Part III's interval
            centred on the data mean), or not at all (False)
    Returns:
        x (np.ndarray): float32, shape (n, H, W); x[mask] == known[mask]
    Raises:
        ValueError: shapes that do not match, steps outside 1..T, resample < 1, invalid schedule or clip
    """
    import torch

    from m2d import diffusion as df

    b = df.check_betas(betas)
    ab = df.alpha_bars(b)
    x_known = np.asarray(known, dtype=np.float32)
    if x_known.ndim != 3:
        raise ValueError(f"known patches must be (n, H, W), got shape {x_known.shape}")
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(f"mask must be boolean (True = fixed), got dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, x_known.shape)
    except ValueError:
        raise ValueError(f"mask of shape {m.shape} does not match patches {x_known.shape}") from None
    if resample < 1:
        raise ValueError(f"resample must be >= 1, got {resample}")
    if clip is True:
        lo, hi = -1.0, 1.0
    elif clip is not False:
        lo, hi = (float(v) for v in clip)
        if not lo < hi:
            raise ValueError(f"clip range must have lo < hi, got {clip}")
    taus = _schedule_steps(b.size, steps)
    gen = torch.Generator().manual_seed(int(seed))
    k = torch.from_numpy(x_known)[:, None]
    mt = torch.from_numpy(np.array(m))[:, None]
    x = torch.randn(k.shape, generator=gen)
    with torch.no_grad():
        for i, t in enumerate(taus):
            a = float(ab[t])
            a_prev = float(ab[taus[i + 1]]) if i + 1 < len(taus) else 1.0
            for u in range(resample):
                noisy_known = math.sqrt(a) * k + math.sqrt(1 - a) * torch.randn(k.shape, generator=gen)
                x = torch.where(mt, noisy_known, x)
                eps = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))
                x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
                if clip:
                    x0 = x0.clamp(lo, hi)
                    eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
                x_prev = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
                if u < resample - 1:  # jump back to tau and try again
                    r = a / a_prev
                    x = math.sqrt(r) * x_prev + math.sqrt(1 - r) * torch.randn(k.shape, generator=gen)
                else:
                    x = x_prev
    out = x[:, 0].numpy().astype(np.float32)
    return np.where(m, x_known, out).astype(np.float32)


def seam_jump(patches: np.ndarray, frame: int) -> np.ndarray:
    """How abruptly each patch changes at a frame boundary: mean_f |x[f, frame] - x[f, frame - 1]|
    (per patch). Real music changes smoothly except at onsets; a pasted-together patch jumps.

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: not 3-D or frame outside 1..F-1
    """
    x = np.asarray(patches, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"patches must be (n, H, W), got shape {x.shape}")
    if not 1 <= frame < x.shape[2]:
        raise ValueError(f"frame must be in 1..{x.shape[2] - 1}, got {frame}")
    return np.abs(x[:, :, frame] - x[:, :, frame - 1]).mean(axis=1)


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


# --------------------------------------------------------------------------------------------------
# cached, timed generation


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(fn(), wall-clock seconds)."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def cached_arrays(name: str, key_parts: Any, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A dict of numpy arrays and floats computed once by ``build`` and kept in the versioned cache
    (:func:`m2d.cache.cached`, an ``.npz``): e.g. samples together with the time it took to draw them.
    Timings loaded from the cache are those measured when the entry was built.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        name (str): cache-file prefix
        key_parts: everything the result depends on (JSON-able)
        build (callable): returns {name: np.ndarray or float}
    Returns:
        result (dict): arrays as built (floats come back as 0-d arrays converted to float)
    """
    key = cache.cache_key(LANDSCAPE_VERSION, key_parts)

    def dump(obj: dict[str, Any], path: Path) -> None:
        with open(path, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in obj.items()})

    def load(path: Path) -> dict[str, Any]:
        with np.load(path, allow_pickle=False) as z:
            return {k: (float(z[k]) if z[k].ndim == 0 else z[k]) for k in z.files}

    out = cache.cached(name, key, build, dump, load, suffix="npz")
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def model_fingerprint(model) -> str:
    """Hash of a torch model's weights (names, shapes, values): a cache key for anything computed from
    a trained model, whatever configuration or cache produced it."""
    import hashlib

    h = hashlib.sha256()
    for name, v in sorted(model.state_dict().items()):
        a = v.detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(a.shape)).encode())
        h.update(a.numpy().tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------------
# sound of patches


def patches_audio(patches: np.ndarray, n_iter: int = 32, gap: float = 0.15, seed: int = 0) -> np.ndarray:
    """The sound of several spectrogram patches one after another: each patch (model units) is inverted
    with :func:`m2d.spectro.unit_to_audio` (pseudo-inverse of the mel basis, ``n_iter`` Griffin-Lim
    iterations, peak 0.8) and followed by ``gap`` seconds of silence.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        patches (np.ndarray): (n, n_mels, frames) in [-1, 1]
        n_iter (int): Griffin-Lim iterations per patch
        gap (float): seconds of silence after each patch, >= 0
        seed (int): seed of the initial phases
    Returns:
        y (np.ndarray): float32 signal at audio.SR, peak <= 0.8
    Raises:
        ValueError: not 3-D, empty, or negative gap
    """
    from m2d import audio, spectro

    p = np.asarray(patches, dtype=np.float32)
    if p.ndim != 3 or len(p) == 0:
        raise ValueError(f"patches must be a non-empty (n, n_mels, frames) array, got shape {p.shape}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    silence = np.zeros(int(round(gap * audio.SR)), dtype=np.float32)
    parts = []
    for i, x in enumerate(p):
        parts += [spectro.unit_to_audio(x, n_iter=n_iter, seed=seed + i), silence]
    return np.concatenate(parts).astype(np.float32)


def format_bytes(n_bytes: float) -> str:
    """A byte count in binary units, e.g. 1536 -> "1.5 KiB", 3 * 2**30 -> "3.0 GiB".

    Raises:
        ValueError: negative or non-finite
    """
    b = float(n_bytes)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"byte count must be finite and >= 0, got {n_bytes}")
    if b < 1024:
        return f"{b:,.0f} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        b /= 1024
        if b < 1024 or unit == "TiB":
            break
    return f"{b:,.1f} {unit}"
