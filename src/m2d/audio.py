"""Sound: an additive synthesizer for melodies, mel-spectrograms and their inversion (librosa).

No soundfont or download is needed: notes are sums of a few decaying harmonics. Mel-spectrograms use
``librosa.feature.melspectrogram`` and go back to sound with Griffin-Lim
(``librosa.feature.inverse.mel_to_audio``). librosa's numba kernels compile on first use (about
17 s in a fresh environment): :func:`warm_up` pays that once, in set-up, never inside a widget.

Notebook: every chapter that plays sound
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d import checks
from m2d.pitch import note_durations
from m2d.rng import as_generator

#: Sample rate used throughout the book (Hz).
SR = 22050
#: Mel-spectrogram settings shared by Part III and the landscape chapter.
N_FFT = 1024
HOP = 256
N_MELS = 64
FMIN = 50.0
FMAX = 8000.0

_HARMONICS = np.array([1.0, 0.45, 0.25, 0.12, 0.06])


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    """Equal-tempered frequency f = 440 * 2^((m - 69) / 12) of MIDI note(s) ``midi``."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def synthesize(
    pitches: Sequence[int] | np.ndarray,
    durations: Sequence[float] | np.ndarray | float = 1.0,
    tempo: float = 120.0,
    sr: int = SR,
    peak: float = 0.8,
) -> np.ndarray:
    """Render a melody with a soft additive (piano-like) tone.

    Each note k of MIDI pitch m_k lasting d_k quarter notes sounds for d_k * 60 / tempo seconds as
    sum_h a_h sin(2 pi h f(m_k) t) * exp(-3 t) with a 5 ms attack and a 30 ms release, so notes never
    click. The result is scaled to the given peak amplitude.

    Notebook: notebooks/01_markov.ipynb
    Args:
        pitches (array of int): MIDI note numbers (0..127)
        durations (array of float or float): durations in quarter notes (one per note, or one for all)
        tempo (float): quarter notes per minute
        sr (int): sample rate in Hz
        peak (float): peak amplitude of the output, in (0, 1]
    Returns:
        y (np.ndarray): mono float32 signal of length round(sum(durations) * 60 / tempo * sr)
    Raises:
        ValueError: empty melody, pitch outside 0..127, non-positive duration or tempo, bad peak
    """
    p = np.asarray(pitches, dtype=float).ravel()
    if p.size == 0:
        raise ValueError("empty melody: nothing to synthesize")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 127:
        raise ValueError(f"pitches must be MIDI numbers in 0..127, got range {p.min()}..{p.max()}")
    d = note_durations(p, durations)
    bad = np.flatnonzero(~np.isfinite(d) | (d <= 0))
    if bad.size:
        raise ValueError(f"durations must be positive and finite; note {bad[0]} (MIDI "
                         f"{p[bad[0]]:g}) has duration {d[bad[0]]}")
    tempo = checks.real("tempo", tempo, low=0, low_open=True)
    peak = checks.real("peak", peak, low=0, high=1, low_open=True)
    seconds = d * 60.0 / tempo
    bounds = np.round(np.concatenate([[0.0], np.cumsum(seconds)]) * sr).astype(int)
    y = np.zeros(bounds[-1], dtype=np.float64)
    attack, release = int(0.005 * sr), int(0.03 * sr)
    freqs = midi_to_hz(p)
    for k in range(p.size):
        n = bounds[k + 1] - bounds[k]
        t = np.arange(n) / sr
        h = np.arange(1, _HARMONICS.size + 1)
        audible = h * freqs[k] < sr / 2  # no aliasing
        tone = (_HARMONICS[audible, None] * np.sin(2 * np.pi * np.outer(h[audible] * freqs[k], t))
                ).sum(axis=0)
        env = np.exp(-3.0 * t)
        env[: min(attack, n)] *= np.linspace(0, 1, min(attack, n))
        r = min(release, n)
        env[n - r:] *= np.linspace(1, 0, r)
        y[bounds[k]: bounds[k + 1]] = tone * env
    m = np.abs(y).max()
    if m > 0:
        y *= peak / m
    return y.astype(np.float32)


#: Sample rate of the sound embedded in the pages (MP3 keeps a 4 s clip near 15 kB; the book's
#: spectrograms stop at FMAX = 8 kHz, the Nyquist frequency of this rate).
CLIP_SR = 16000


def encode_mp3(y: np.ndarray, sr: int = SR) -> bytes:
    """Encode a signal in [-1, 1] as mono MP3 at CLIP_SR (libsndfile through soundfile).

    A WAV of 10 s at 22.05 kHz is 440 kB in a page; the MP3 is about 35 kB.
    Raises:
        ValueError: empty, non-finite or out-of-range signal
    """
    import io

    import librosa
    import soundfile as sf

    y = np.asarray(y, dtype=np.float32)
    if y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError("signal must be non-empty and finite")
    if np.abs(y).max() > 1:
        raise ValueError("signal exceeds [-1, 1]; scale it first (it would clip)")
    if sr != CLIP_SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=CLIP_SR)
    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1, 1), CLIP_SR, format="MP3")
    return buf.getvalue()


def audio_stats(y: np.ndarray, sr: int = SR) -> dict[str, float]:
    """Listen-check figures: duration (s), RMS, peak and fraction of clipped samples."""
    y = np.asarray(y, dtype=float)
    return {
        "seconds": y.size / sr,
        "rms": float(np.sqrt(np.mean(y**2))) if y.size else 0.0,
        "peak": float(np.abs(y).max(initial=0.0)),
        "clipped_fraction": float(np.mean(np.abs(y) >= 1.0)) if y.size else 0.0,
    }


def mel_spectrogram(y: np.ndarray, sr: int = SR, n_mels: int = N_MELS) -> np.ndarray:
    """Power mel-spectrogram M = mel_basis @ |STFT(y)|^2 (librosa), shape (n_mels, frames).

    Notebook: notebooks/03_diffusion.ipynb
    """
    import librosa

    return librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float32), sr=sr, n_fft=N_FFT, hop_length=HOP, n_mels=n_mels,
        fmin=FMIN, fmax=FMAX, power=2.0,
    )


def log_mel(y: np.ndarray, sr: int = SR, n_mels: int = N_MELS, top_db: float = 80.0) -> np.ndarray:
    """Log-mel spectrogram in dB relative to 1.0 (full scale), floored at -top_db.

    S_dB = 10 log10(max(M, 10^(-top_db/10))): a fixed reference, so spectrograms of different
    melodies are on one scale (needed when a model is trained on them).
    """
    m = mel_spectrogram(y, sr=sr, n_mels=n_mels)
    return 10.0 * np.log10(np.maximum(m, 10.0 ** (-top_db / 10.0)))


def db_to_power(s_db: np.ndarray) -> np.ndarray:
    """Inverse of the dB mapping of :func:`log_mel`: M = 10^(S_dB / 10)."""
    return 10.0 ** (np.asarray(s_db, dtype=float) / 10.0)


def mel_to_audio(mel_power: np.ndarray, sr: int = SR, n_iter: int = 32,
                 rng: int | np.random.Generator = 0) -> np.ndarray:
    """Invert a power mel-spectrogram to sound: mel -> STFT magnitude (NNLS) -> Griffin-Lim.

    Same as ``librosa.feature.inverse.mel_to_audio`` (``mel_to_stft`` then ``griffinlim``) with the
    book's STFT settings and a seeded initial phase; the phase is
    estimated, so the result sounds "smeared" but keeps pitch and rhythm. Peak-normalised to 0.8.
    Args:
        mel_power (np.ndarray): shape (n_mels, frames), non-negative
        sr (int): sample rate
        n_iter (int): Griffin-Lim iterations
        rng (int or np.random.Generator): seed of the random initial phase (reproducible audio)
    Returns:
        y (np.ndarray): float32 signal, length about frames * HOP
    Raises:
        ValueError: wrong shape or negative entries
    """
    import librosa

    m = np.asarray(mel_power, dtype=np.float32)
    if m.ndim != 2:
        raise ValueError(f"mel spectrogram must be 2-D (n_mels, frames), got shape {m.shape}")
    if np.any(m < 0) or not np.all(np.isfinite(m)):
        raise ValueError("mel power must be finite and non-negative (did you pass dB values?)")
    stft_mag = librosa.feature.inverse.mel_to_stft(
        m, sr=sr, n_fft=N_FFT, power=2.0, fmin=FMIN, fmax=FMAX
    )
    y = librosa.griffinlim(stft_mag, n_iter=n_iter, hop_length=HOP, n_fft=N_FFT,
                           random_state=as_generator(rng))
    peak = np.abs(y).max(initial=0.0)
    return (y * (0.8 / peak) if peak > 0 else y).astype(np.float32)


def warm_up() -> None:
    """Compile librosa's numba kernels once (first call about 17 s in a fresh environment)."""
    y = synthesize([60, 64, 67], 0.5)
    mel_to_audio(mel_spectrogram(y), n_iter=2)
