"""Spectrogram patches, the fast inversion, the quality measure (moved verbatim from
test_models_part3.py)."""

import numpy as np
import pytest

from m2d import audio, spectro


def test_unit_db_quantize_round_trip():
    s = np.array([-100.0, -80.0, -25.0, 30.0, 50.0])
    x = spectro.db_to_unit(s)
    np.testing.assert_allclose(x, [-1, -1, 0, 1, 1])
    np.testing.assert_allclose(spectro.unit_to_db(x), [-80, -80, -25, 30, 30])
    q = spectro.quantize(np.linspace(-1, 1, 1000))
    assert len(np.unique(q)) == 256 and q.min() == -1 and q.max() == 1
    with pytest.raises(ValueError, match="bits"):
        spectro.quantize(q, bits=0)


def test_cut_patches():
    s = np.arange(4 * 10).reshape(4, 10)
    p = spectro.cut_patches(s, 4, 3)
    assert p.shape == (3, 4, 4) and np.array_equal(p[1], s[:, 3:7])
    assert spectro.cut_patches(s, 11, 1).shape == (0, 4, 11)
    with pytest.raises(ValueError, match="positive"):
        spectro.cut_patches(s, 0, 1)


def test_load_patches_small_and_cached(bach_split, tmp_cache, monkeypatch):
    from m2d import corpus

    monkeypatch.setattr(corpus, "load_split", lambda source="bach", transpose_to=0: bach_split)
    cfg = spectro.PatchConfig(max_melodies=2)
    p = spectro.load_patches("val", cfg)
    assert p.ndim == 3 and p.shape[1:] == (audio.N_MELS, 64) and len(p) > 0
    assert p.min() >= -1 and p.max() <= 1
    np.testing.assert_allclose(spectro.quantize(p), p, atol=1e-6)  # on the 8-bit grid
    assert len(list(tmp_cache.glob("patches-*.npy"))) == 1
    np.testing.assert_array_equal(spectro.load_patches("val", cfg), p)
    with pytest.raises(ValueError, match="split"):
        spectro.load_patches("dev", cfg)


def test_fast_inversion_with_clean_phase_is_close_and_safe():
    y = audio.synthesize([60, 64, 67, 72], 0.5, tempo=120)
    m = audio.mel_spectrogram(y)
    z = spectro.fast_mel_to_audio(m, phase=spectro.stft_phase(y))
    stats = audio.audio_stats(z)
    assert stats["seconds"] > 0.9 and stats["rms"] > 0.01 and stats["clipped_fraction"] == 0

    def db_error(w):  # median |log-mel difference| (dB) over the loud bins, after matching the peak
        a, b = audio.log_mel(y), audio.log_mel(w * (np.abs(y).max() / np.abs(w).max()))
        n = min(a.shape[1], b.shape[1])
        return np.median(np.abs(a[:, :n] - b[:, :n])[a[:, :n] > -40])

    # as close as 32 Griffin-Lim iterations (about 3.5 dB here), far closer than a random phase
    assert db_error(z) < 4.0 and db_error(z) < db_error(spectro.fast_mel_to_audio(m)) - 3.0
    z2 = spectro.fast_mel_to_audio(m, n_iter=2, rng=1)
    assert np.abs(z2).max() == pytest.approx(0.8, abs=1e-5)
    # Griffin-Lim from a random phase: a usable sound, closer than the raw random phase
    g = spectro.unit_to_audio(spectro.db_to_unit(audio.log_mel(y)), griffin_lim=True)
    assert audio.audio_stats(g)["rms"] > 0.01 and db_error(g) < db_error(spectro.fast_mel_to_audio(m)) - 1.0
    with pytest.raises(ValueError, match="dB"):
        spectro.fast_mel_to_audio(-m)
    with pytest.raises(ValueError, match="phase shape"):
        spectro.fast_mel_to_audio(m, phase=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="shape"):
        spectro.fast_mel_to_audio(m[:10])


def test_feature_distance_orders_real_samples_and_noise():
    rng = np.random.default_rng(0)
    # "real": smooth stripes; "noise": white noise
    base = np.linspace(-1, 0.5, 64)[None, :, None] * np.ones((200, 1, 32))
    real = np.clip(base + 0.1 * rng.standard_normal((200, 64, 1)) + 0.02 * rng.standard_normal((200, 64, 32)),
                   -1, 1)
    fd = spectro.FeatureDistance(real[:100])
    assert fd.features(real).shape == (200, 3 * spectro.N_BANDS)
    d_real = fd(real[:100], real[100:])
    d_noise = fd(real[100:], np.clip(rng.standard_normal((100, 64, 32)), -1, 1))
    assert 0 <= d_real < d_noise
    a = rng.standard_normal((50, 3))
    assert spectro.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="same d"):
        spectro.frechet_distance(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="bands"):
        spectro.patch_features(np.zeros((2, 10, 8)))


def test_excerpt(bach_split):
    y, s = spectro.excerpt(bach_split["test"][0], seconds=1.5)
    assert y.size == round(1.5 * audio.SR) and s.shape == (audio.N_MELS, 1 + y.size // audio.HOP)
    y_long, _ = spectro.excerpt(bach_split["test"][0], seconds=500.0)  # shorter melody: zero-padded
    assert y_long.size == 500 * audio.SR
    with pytest.raises(ValueError, match="seconds"):
        spectro.excerpt(bach_split["test"][0], seconds=0)


def test_seam_jump():
    x = np.zeros((2, 4, 6))
    x[1, :, 3:] = 1.0
    np.testing.assert_array_equal(spectro.seam_jump(x, 3), [0.0, 1.0])
    with pytest.raises(ValueError, match="frame"):
        spectro.seam_jump(x, 0)
    with pytest.raises(ValueError, match="n, H, W"):
        spectro.seam_jump(x[0], 3)


def test_patches_audio_is_audible_and_unclipped():
    _, s_db = spectro.melody_log_mel([60, 64, 67, 72], [1, 1, 1, 1], tempo=180.0)
    x = spectro.db_to_unit(s_db)[:, :64]
    y = spectro.patches_audio(np.stack([x, x]), n_iter=4, gap=0.1)
    st = audio.audio_stats(y)
    assert st["seconds"] > 2 * 63 * audio.HOP / audio.SR
    assert st["rms"] > 0.01 and st["peak"] <= 0.8 + 1e-6 and st["clipped_fraction"] == 0.0
    with pytest.raises(ValueError, match="gap"):
        spectro.patches_audio(x[None], gap=-1)


def test_frechet_baselines():
    rng = np.random.default_rng(0)
    ref = rng.uniform(-1, 1, (20, 4, 4))
    mean_dist = lambda a, b: float(abs(np.mean(a) - np.mean(b)))  # noqa: E731
    train = rng.uniform(-1, 1, (50, 4, 4))
    rows = spectro.frechet_baselines(mean_dist, train, ref, np.zeros((8, 4, 4)), rng=3)
    assert list(rows) == ["real (8 training patches)", "real + noise, sd 0.02", "real + noise, sd 0.1",
                          "DDPM samples (1000 steps)", "pure noise N(0, I)"]
    assert rows["real (8 training patches)"][1] > 0 and rows["pure noise N(0, I)"][1] is None
    assert rows == spectro.frechet_baselines(mean_dist, train, ref, np.zeros((8, 4, 4)), rng=3)


def test_chorale_audio_plays_soprano_and_bass_on_the_organ(bach_split):
    from dataclasses import replace

    m = next(m for m in bach_split["test"] if m.bass_pitches is not None)
    short = replace(m, pitches=m.pitches[:8], durations=m.durations[:8],
                    bass_pitches=m.bass_pitches[:8], bass_durations=m.bass_durations[:8])
    both = spectro.chorale_audio(short, tempo=120)
    alone = spectro.chorale_audio(replace(short, bass_pitches=None, bass_durations=None), tempo=120)
    seconds = max(short.durations.sum(), short.bass_durations.sum()) * 0.5
    assert abs(len(both) / audio.SR - (seconds + 0.5)) < 0.05
    assert np.isfinite(both).all() and 0.7 < np.abs(both).max() <= 0.8 + 1e-6
    low = slice(0, 16)  # the lowest mel bands, where the bass sounds
    n = min(len(both), len(alone))
    assert audio.log_mel(both[:n])[low].mean() > audio.log_mel(alone[:n])[low].mean() + 3
    additive = spectro.chorale_audio(short, tempo=120, sound="additive")
    assert np.isfinite(additive).all() and not np.array_equal(additive[:n], both[:n])
    with pytest.raises(ValueError, match="sound"):
        spectro.chorale_audio(short, sound="piano")
    with pytest.raises(ValueError, match="tempo"):
        spectro.chorale_audio(short, tempo=0)


@pytest.mark.parametrize("kw, match", [({"sound": "kazoo"}, "sound"), ({"tempo": -1}, "tempo"),
                                       ({"frames": 4}, "frames"), ({"bits": 0}, "bits"),
                                       ({"max_melodies": 0}, "max_melodies")])
def test_patch_config_refuses_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        spectro.PatchConfig(**kw)


def test_load_phrases_cuts_whole_phrases(bach_split, tmp_cache, monkeypatch):
    from m2d import corpus

    monkeypatch.setattr(corpus, "load_split", lambda source="bach", transpose_to=0: bach_split)
    cfg = spectro.PatchConfig(max_melodies=3)
    ph = spectro.load_phrases("test", cfg)
    assert ph.shape[1:] == (audio.N_MELS, spectro.PHRASE_FRAMES) and len(ph) >= 3
    assert ph.min() >= -1 and ph.max() <= 1
    assert abs(spectro.phrase_seconds() - 4.458) < 1e-3
    # a phrase's first 64 frames are the test split's first patch of the same chorale
    np.testing.assert_array_equal(ph[0][:, :64], spectro.load_patches("test", cfg)[0])
    with pytest.raises(ValueError, match="frames"):
        spectro.load_phrases("test", cfg, frames=10)
