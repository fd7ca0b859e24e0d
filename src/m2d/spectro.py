"""Spectrograms as images for Part III: 8-bit log-mel patches of corpus melodies, a fast inversion to
sound, and a feature-statistics distance for judging generated patches.

"Riffusion in miniature" (Forsyth & Martiros 2022): a chorale's soprano and bass are played by the
SoundFont's church organ (:func:`chorale_audio`; the additive synthesizer of :func:`m2d.audio.synthesize`
remains as ``sound="additive"``), turned into a log-mel spectrogram (:func:`m2d.audio.log_mel`, the book's
64 mel bands, hop 256), mapped linearly from [DB_LO, DB_HI] dB to [-1, 1] and quantised to 8 bits like
an image; patches of 64 bands x 64 frames (0.74 s) are the data of the diffusion model.

The inversion here is fast enough for a slider: the mel basis' pseudo-inverse is precomputed, and the
phase is either given (the clean signal's phase, cached) or estimated by a few Griffin-Lim iterations.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from m2d import audio, cache
from m2d.rng import as_generator

#: Bumped whenever the patch extraction below changes what it returns (invalidates the cache).
SPECTRO_VERSION = 2  # 2: SoundFont organ, soprano + bass
#: dB range mapped linearly onto [-1, 1] (log_mel floors at -80 dB; the synthesizer peaks near +28 dB).
DB_LO, DB_HI = -80.0, 30.0


#: How a chorale becomes sound (:class:`PatchConfig`).
SOUNDS = ("organ", "additive")


@dataclass(frozen=True)
class PatchConfig:
    """How melodies become training patches.

    Attributes:
        frames (int): patch width in STFT frames (hop 256: 64 frames = 0.74 s)
        stride (int): hop between patch starts, in frames, for the training split
        tempo (float): quarter notes per minute used to render the melodies
        bits (int): quantisation of the patch values (8 = an image)
        max_melodies (int or None): use only the first melodies of each split (None = all)
        sound (str): ``"organ"``: soprano + bass on the SoundFont's church organ (only chorales
            whose bass is aligned, :class:`m2d.corpus.Melody`); ``"additive"``: the soprano on the
            additive synthesizer of :mod:`m2d.audio`
    """

    frames: int = 64
    stride: int = 32
    tempo: float = 120.0
    bits: int = 8
    max_melodies: int | None = None
    sound: str = "organ"

    def __post_init__(self) -> None:
        from m2d import checks

        checks.integer("frames", self.frames, low=8)
        checks.integer("stride", self.stride, low=1)
        checks.real("tempo", self.tempo, low=0, low_open=True)
        checks.integer("bits", self.bits, low=1, high=16)
        if self.max_melodies is not None:
            checks.integer("max_melodies", self.max_melodies, low=1)
        if self.sound not in SOUNDS:
            raise ValueError(f"sound must be one of {SOUNDS}, got {self.sound!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def db_to_unit(s_db: np.ndarray) -> np.ndarray:
    """Map dB linearly to the model's range: x = 2 (S - DB_LO) / (DB_HI - DB_LO) - 1, clipped to [-1, 1]."""
    x = 2.0 * (np.asarray(s_db, dtype=float) - DB_LO) / (DB_HI - DB_LO) - 1.0
    return np.clip(x, -1.0, 1.0)


def unit_to_db(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`db_to_unit` (values outside [-1, 1] are clipped first, as for an image)."""
    x = np.clip(np.asarray(x, dtype=float), -1.0, 1.0)
    return DB_LO + (x + 1.0) * (DB_HI - DB_LO) / 2.0


def quantize(x: np.ndarray, bits: int = 8) -> np.ndarray:
    """Round x in [-1, 1] to the grid 2k / (2^bits - 1) - 1, k = 0..2^bits - 1 (an 8-bit image).

    Raises:
        ValueError: bits outside 1..16, or x with NaN (a value with no place on the grid)
    """
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")
    x = np.asarray(x)
    if np.isnan(x).any():
        raise ValueError("x contains NaN: it has no place on the quantisation grid")
    levels = 2**bits - 1
    k = np.round((np.clip(x, -1.0, 1.0) + 1.0) * levels / 2.0)
    return k * 2.0 / levels - 1.0


def melody_log_mel(pitches, durations, tempo: float = 180.0) -> tuple[np.ndarray, np.ndarray]:
    """Render a melody and return (signal, log-mel spectrogram in dB) with the book's settings.

    Notebook: notebooks/03_diffusion.ipynb
    """
    y = audio.synthesize(pitches, durations, tempo=tempo)
    return y, audio.log_mel(y)


def chorale_audio(melody, tempo: float = 120.0, sound: str = "organ") -> np.ndarray:
    """A chorale as sound: soprano and (where the corpus has it aligned) bass on the SoundFont's church
    organ (:func:`m2d.soundfont.render`, General MIDI program 19), or the soprano alone on the additive
    synthesizer (``sound="additive"``).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        melody (corpus.Melody): pitches/durations (and bass_pitches/bass_durations)
        tempo (float): quarter notes per minute
        sound (str): ``"organ"`` or ``"additive"``
    Returns:
        y (np.ndarray): float32 at audio.SR
    Raises:
        ValueError: unknown sound or bad tempo
    """
    from m2d import checks, soundfont

    tempo = checks.real("tempo", tempo, low=0, low_open=True)
    if sound not in SOUNDS:
        raise ValueError(f"sound must be one of {SOUNDS}, got {sound!r}")
    if sound == "additive":
        return audio.synthesize(melody.pitches, melody.durations, tempo=tempo)
    organ = soundfont.CHURCH_ORGAN
    events = soundfont.melody_events(melody.pitches, melody.durations, tempo, organ, velocity=90)
    if getattr(melody, "bass_pitches", None) is not None:
        events += soundfont.melody_events(melody.bass_pitches, melody.bass_durations, tempo, organ,
                                          velocity=80)
    return soundfont.render(events, tail=0.5)


def cut_patches(s_unit: np.ndarray, frames: int, stride: int) -> np.ndarray:
    """Cut a (n_mels, n_frames) image into patches (n, n_mels, frames) starting every ``stride`` frames.

    Raises:
        ValueError: non-positive frames/stride or a 1-D input
    """
    if frames < 1 or stride < 1:
        raise ValueError(f"frames and stride must be positive, got {frames}, {stride}")
    s = np.asarray(s_unit)
    if s.ndim != 2:
        raise ValueError(f"expected a 2-D spectrogram (n_mels, frames), got shape {s.shape}")
    starts = range(0, s.shape[1] - frames + 1, stride)
    return np.stack([s[:, i:i + frames] for i in starts]) if len(starts) else \
        np.zeros((0, s.shape[0], frames), dtype=s.dtype)


def _extract(melodies, config: PatchConfig, stride: int, frames: int | None = None) -> np.ndarray:
    levels = 2**config.bits - 1
    out = []
    for m in melodies:
        s_db = audio.log_mel(chorale_audio(m, config.tempo, config.sound))
        k = np.round((db_to_unit(s_db) + 1.0) * levels / 2.0).astype(np.uint16)
        out.append(cut_patches(k, frames or config.frames, stride))
    return np.concatenate(out).astype(np.uint8 if config.bits <= 8 else np.uint16)


def _melodies(split: str, config: PatchConfig, source: str) -> list:
    from m2d import corpus

    if split not in ("train", "val", "test"):
        raise ValueError(f"unknown split {split!r}; choose 'train', 'val' or 'test'")
    melodies = corpus.load_split(source)[split]
    if config.sound == "organ":  # soprano + bass: the chorales whose bass line is aligned
        melodies = [m for m in melodies if m.bass_pitches is not None]
    return melodies[: config.max_melodies]


def _load(name: str, split: str, config: PatchConfig, source: str, frames: int, stride: int
          ) -> np.ndarray:
    import librosa

    melodies = _melodies(split, config, source)
    key_parts = [librosa.__version__, config.as_dict(), split, [m.id for m in melodies], audio.N_MELS,
                 audio.HOP, audio.N_FFT, frames, stride]

    def check(a: np.ndarray) -> None:  # schema of the cached patches: (n, mels, frames) levels
        if a.ndim != 3 or a.shape[1:] != (audio.N_MELS, frames) or len(a) == 0:
            raise ValueError(f"patches of shape {a.shape}, expected (n, {audio.N_MELS}, {frames})")
        if a.min() < 0 or a.max() > 2**config.bits - 1:
            raise ValueError(f"patch levels outside 0..{2**config.bits - 1}")

    k = cache.cached_array(f"{name}-{source}-{split}", key_parts,
                           lambda: _extract(melodies, config, stride, frames),
                           version=SPECTRO_VERSION, check=check)
    return (k.astype(np.float32) * (2.0 / (2**config.bits - 1)) - 1.0).astype(np.float32)


def load_patches(split: str = "train", config: PatchConfig = PatchConfig(),
                 source: str = "bach") -> np.ndarray:
    """Log-mel patches of one corpus split, in [-1, 1] on the quantisation grid, shape (n, 64, frames).

    The training split uses overlapping patches (``config.stride``), validation and test splits
    non-overlapping ones. Extraction (rendering + STFT of every chorale) runs once and is cached,
    keyed by the configuration, the melody ids, the librosa version and :data:`SPECTRO_VERSION`.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        split (str): ``"train"``, ``"val"`` or ``"test"`` (:func:`m2d.corpus.load_split`)
        config (PatchConfig): patch size, render tempo and sound, quantisation
        source (str): corpus source
    Returns:
        patches (np.ndarray): float32, shape (n, audio.N_MELS, config.frames)
    Raises:
        ValueError: unknown split
    """
    stride = config.stride if split == "train" else config.frames
    return _load("patches", split, config, source, config.frames, stride)


#: Frames of a phrase: 384 hops of 256 samples at 22050 Hz = 4.46 s.
PHRASE_FRAMES = 384


def load_phrases(split: str = "test", config: PatchConfig = PatchConfig(), source: str = "bach",
                 frames: int = PHRASE_FRAMES) -> np.ndarray:
    """Real phrases of the same length as the generated ones: non-overlapping excerpts of
    ``frames`` frames (default 4.46 s) of every chorale of a split, rendered as for
    :func:`load_patches` (cached).

    Notebook: notebooks/03_diffusion.ipynb
    Returns:
        phrases (np.ndarray): float32 in [-1, 1], shape (n, audio.N_MELS, frames)
    Raises:
        ValueError: unknown split, or frames below the patch width
    """
    from m2d import checks

    frames = checks.integer("frames", frames, low=config.frames)
    return _load("phrases", split, config, source, frames, frames)


def phrase_seconds(frames: int = PHRASE_FRAMES) -> float:
    """Duration of a phrase of ``frames`` STFT frames: frames * HOP / SR seconds."""
    return frames * audio.HOP / audio.SR


# --------------------------------------------------------------------------------------------------
# fast inversion


@lru_cache(maxsize=4)
def mel_pinv(sr: int = audio.SR, n_mels: int = audio.N_MELS) -> np.ndarray:
    """Moore-Penrose pseudo-inverse of the mel filter bank (n_fft/2 + 1, n_mels), computed once."""
    import librosa

    basis = librosa.filters.mel(sr=sr, n_fft=audio.N_FFT, n_mels=n_mels, fmin=audio.FMIN, fmax=audio.FMAX)
    return np.linalg.pinv(basis).astype(np.float32)


def stft_phase(y: np.ndarray) -> np.ndarray:
    """Phase angle of the STFT of y with the book's settings (frames align with :func:`audio.log_mel`)."""
    import librosa

    return np.angle(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=audio.N_FFT, hop_length=audio.HOP))


def fast_mel_to_audio(mel_power: np.ndarray, phase: np.ndarray | None = None, n_iter: int = 0,
                      rng: int | np.random.Generator = 0, peak: float = 0.8) -> np.ndarray:
    """Invert a power mel-spectrogram quickly: |X| = sqrt(max(B^+ M, 0)), then an inverse STFT.

    B^+ is the pseudo-inverse of the mel basis (:func:`mel_pinv`). The phase is ``phase`` when given
    (e.g. the clean signal's, :func:`stft_phase`), otherwise uniform random (seeded); ``n_iter``
    Griffin-Lim iterations then refine it. About 10 ms per 3 s of audio with a given phase and no
    iteration, against about 0.6 s for :func:`m2d.audio.mel_to_audio` (NNLS + 32 iterations).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        mel_power (np.ndarray): shape (n_mels, frames), non-negative
        phase (np.ndarray or None): shape (N_FFT/2 + 1, frames)
        n_iter (int): Griffin-Lim iterations (0 keeps the initial phase)
        rng (int or np.random.Generator): seed of the random phase
        peak (float): output peak amplitude (the signal is peak-normalised, so it never clips)
    Returns:
        y (np.ndarray): float32 signal of length (frames - 1) * HOP
    Raises:
        ValueError: wrong shape, negative or non-finite power, phase of the wrong shape, n_iter < 0
    """
    import librosa

    m = np.asarray(mel_power, dtype=np.float32)
    if m.ndim != 2 or m.shape[0] != audio.N_MELS:
        raise ValueError(f"mel spectrogram must be ({audio.N_MELS}, frames), got shape {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError("mel power must be finite and non-negative (did you pass dB values?)")
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0, got {n_iter}")
    mag = np.sqrt(np.maximum(mel_pinv() @ m, 0.0))
    if phase is None:
        phase = as_generator(rng).uniform(-np.pi, np.pi, size=mag.shape)
    elif phase.shape != mag.shape:
        raise ValueError(f"phase shape {phase.shape} does not match the STFT shape {mag.shape}")
    length = (m.shape[1] - 1) * audio.HOP
    X = mag * np.exp(1j * phase)
    for _ in range(n_iter):
        y = librosa.istft(X, hop_length=audio.HOP, n_fft=audio.N_FFT, length=length)
        X = mag * np.exp(1j * np.angle(librosa.stft(y, n_fft=audio.N_FFT, hop_length=audio.HOP)))
    y = librosa.istft(X, hop_length=audio.HOP, n_fft=audio.N_FFT, length=length)
    top = np.abs(y).max(initial=0.0)
    return (y * (peak / top) if top > 0 else y).astype(np.float32)


def unit_to_audio(x: np.ndarray, phase: np.ndarray | None = None, n_iter: int = 0,
                  rng: int | np.random.Generator = 0,
                  griffin_lim: bool = False) -> np.ndarray:
    """Sound of a patch in model units: x -> dB (:func:`unit_to_db`) -> power -> :func:`fast_mel_to_audio`.

    ``griffin_lim=True`` means 32 Griffin-Lim iterations from a random phase (when no phase is known,
    e.g. for generated patches). It uses the pseudo-inverse magnitudes: :func:`m2d.audio.mel_to_audio`
    (NNLS magnitudes) sounds a little cleaner but its NNLS takes seconds on noisy spectrograms.

    Notebook: notebooks/03_diffusion.ipynb
    """
    power = audio.db_to_power(unit_to_db(x))
    return fast_mel_to_audio(power, phase=phase, n_iter=32 if griffin_lim else n_iter, rng=rng)


# --------------------------------------------------------------------------------------------------
# quality: Frechet distance between feature statistics

#: Number of frequency bands (groups of mel bins) the features summarise.
N_BANDS = 8


def patch_features(x: np.ndarray, n_bands: int = N_BANDS) -> np.ndarray:
    """Hand-made, interpretable spectrogram features: per band of mel bins, the mean level, the mean
    temporal change |x[f, n+1] - x[f, n]| (onsets) and the mean spectral change |x[f+1, n] - x[f, n]|
    (harmonic lines), i.e. 3 * n_bands numbers per patch.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        x (np.ndarray): patches, shape (n, n_mels, frames), values in [-1, 1] (larger values are clipped)
        n_bands (int): number of bands; must divide n_mels
    Returns:
        features (np.ndarray): shape (n, 3 * n_bands)
    Raises:
        ValueError: not 3-D, or n_mels not divisible by n_bands
    """
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    if x.ndim != 3:
        raise ValueError(f"patches must be (n, n_mels, frames), got shape {x.shape}")
    n, f, _ = x.shape
    if f % n_bands:
        raise ValueError(f"{f} mel bins do not split into {n_bands} bands")
    band = lambda a: a.reshape(n, n_bands, -1, a.shape[-1]).mean(axis=(2, 3))  # noqa: E731
    level = band(x)
    d_time = band(np.abs(np.diff(x, axis=2)))
    d_freq = np.abs(np.diff(x, axis=1))
    d_freq = band(np.concatenate([d_freq, d_freq[:, -1:]], axis=1))
    return np.concatenate([level, d_time, d_freq], axis=1)


def frechet_distance(fa: np.ndarray, fb: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (as in FID):
    d^2 = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        fa, fb (np.ndarray): features, shapes (n_a, d) and (n_b, d), n_a, n_b >= 2
    Returns:
        d2 (float): the squared distance (>= 0)
    Raises:
        ValueError: not 2-D, fewer than 2 rows, or different feature dimensions
    """
    from scipy import linalg

    fa, fb = np.asarray(fa, dtype=float), np.asarray(fb, dtype=float)
    if fa.ndim != 2 or fb.ndim != 2 or fa.shape[1] != fb.shape[1]:
        raise ValueError(f"need two (n, d) feature arrays with the same d, got {fa.shape} and {fb.shape}")
    if min(len(fa), len(fb)) < 2:
        raise ValueError("need at least 2 samples in each set")
    mu = fa.mean(0) - fb.mean(0)
    sa, sb = np.atleast_2d(np.cov(fa, rowvar=False)), np.atleast_2d(np.cov(fb, rowvar=False))
    covmean = linalg.sqrtm(sa @ sb)
    covmean = np.real(covmean)
    return float(max(mu @ mu + np.trace(sa + sb - 2.0 * covmean), 0.0))


class FeatureDistance:
    """Frechet distance in standardised feature space: features are divided by their standard
    deviation over a reference set (e.g. training patches), so every feature counts equally.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        reference (np.ndarray): patches defining the scale, shape (n, n_mels, frames)
    """

    def __init__(self, reference: np.ndarray):
        f = patch_features(reference)
        self.scale = f.std(axis=0) + 1e-8

    def features(self, x: np.ndarray) -> np.ndarray:
        """Standardised features of patches x."""
        return patch_features(x) / self.scale

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        """Frechet distance between the standardised feature statistics of patch sets a and b."""
        return frechet_distance(self.features(a), self.features(b))


# --------------------------------------------------------------------------------------------------
# pictures


def excerpt(melody, seconds: float = 3.0, tempo: float = 120.0, sound: str = "organ"
            ) -> tuple[np.ndarray, np.ndarray]:
    """The first ``seconds`` of a rendered chorale (zero-padded if shorter; :func:`chorale_audio`,
    soprano + bass on the organ by default) and its log-mel spectrogram in dB
    (:func:`m2d.audio.log_mel`).

    Notebook: notebooks/03_diffusion.ipynb
    Raises:
        ValueError: non-positive seconds, bad tempo or sound
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    y = chorale_audio(melody, tempo, sound)
    n = int(round(seconds * audio.SR))
    y = y[:n] if y.size >= n else np.pad(y, (0, n - y.size))
    return y, audio.log_mel(y)


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


def patches_audio(patches: np.ndarray, n_iter: int = 32, gap: float = 0.15,
                  rng: int = 0) -> np.ndarray:
    """The sound of several spectrogram patches one after another: each patch (model units) is
    inverted with :func:`unit_to_audio` (pseudo-inverse of the mel basis, ``n_iter`` Griffin-Lim
    iterations, peak 0.8) and followed by ``gap`` seconds of silence.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        patches (np.ndarray): (n, n_mels, frames) in [-1, 1]
        n_iter (int): Griffin-Lim iterations per patch
        gap (float): seconds of silence after each patch, >= 0
        rng (int): seed of the initial phases (patch i uses rng + i)
    Returns:
        y (np.ndarray): float32 signal at audio.SR, peak <= 0.8
    Raises:
        ValueError: not 3-D, empty, or negative gap
    """
    p = np.asarray(patches, dtype=np.float32)
    if p.ndim != 3 or len(p) == 0:
        raise ValueError(f"patches must be a non-empty (n, n_mels, frames) array, got shape {p.shape}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    silence = np.zeros(int(round(gap * audio.SR)), dtype=np.float32)
    parts = []
    for i, x in enumerate(p):
        parts += [unit_to_audio(x, n_iter=n_iter, rng=int(rng) + i), silence]
    return np.concatenate(parts).astype(np.float32)


def frechet_baselines(fd, train: np.ndarray, ref: np.ndarray, samples: np.ndarray,
                      label: str = "DDPM samples (1000 steps)", n_draws: int = 10,
                      rng: int | np.random.Generator = 10) -> dict[str, tuple[float, float | None]]:
    """Where a model's Frechet distance sits: the distance to ``ref`` of n = len(samples) real training
    patches (mean and sd over ``n_draws`` draws: the floor), of real patches with added Gaussian noise
    (sd 0.02 and 0.1, clipped), of the samples, and of pure noise N(0, I) clipped to [-1, 1].

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        fd (callable): fd(a, b) -> Frechet distance (:class:`m2d.spectro.FeatureDistance`)
        train, ref (np.ndarray): training and reference patches (n, H, W)
        samples (np.ndarray): the model's samples (n, H, W)
        label (str): the samples' row name
        n_draws (int): draws of real patches for the floor
        rng (int or np.random.Generator): the draws and the noise
    Returns:
        rows (dict): name -> (distance, sd over draws or None), in the order above
    """
    rng = as_generator(rng)
    n = len(samples)
    real_fd = [fd(train[rng.choice(len(train), n, replace=False)], ref) for _ in range(n_draws)]
    real = train[rng.choice(len(train), n, replace=False)]
    rows: dict[str, tuple[float, float | None]] = {f"real ({n} training patches)": (np.mean(real_fd),
                                                                                   np.std(real_fd))}
    for sd in (0.02, 0.1):
        noisy = np.clip(real + sd * rng.standard_normal(real.shape), -1, 1)
        rows[f"real + noise, sd {sd:g}"] = (fd(noisy, ref), None)
    rows[label] = (fd(samples, ref), None)
    rows["pure noise N(0, I)"] = (fd(np.clip(rng.standard_normal((n, *samples.shape[1:])), -1, 1), ref),
                                  None)
    return rows
