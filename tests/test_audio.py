import numpy as np
import pytest

from m2d import audio


def test_synth_length_finite_and_peak():
    d = [1, 0.5, 0.5, 2]
    y = audio.synthesize([60, 62, 64, 67], d, tempo=120)
    assert y.dtype == np.float32
    assert y.size == round(sum(d) * 60 / 120 * audio.SR)
    assert np.all(np.isfinite(y))
    assert np.abs(y).max() == pytest.approx(0.8, abs=1e-6)
    stats = audio.audio_stats(y)
    assert stats["rms"] > 0.05 and stats["clipped_fraction"] == 0


def test_synth_pitch_is_right():
    y = audio.synthesize([69], 2.0, tempo=60)  # A4 for two seconds
    spec = np.abs(np.fft.rfft(y))
    f = np.fft.rfftfreq(y.size, 1 / audio.SR)
    assert abs(f[np.argmax(spec)] - 440.0) < 1.0


@pytest.mark.parametrize("args,msg", [
    (([],), "empty"), (([200],), "0..127"), (([60, 62], [1]), "durations"),
    (([60], [0]), "positive"),
])
def test_synth_errors(args, msg):
    with pytest.raises(ValueError, match=msg):
        audio.synthesize(*args)


def test_mel_shape_and_inversion():
    y = audio.synthesize([60, 64, 67, 72], 0.5, tempo=120)
    M = audio.mel_spectrogram(y)
    assert M.shape == (audio.N_MELS, 1 + y.size // audio.HOP)
    assert np.all(M >= 0)
    S = audio.log_mel(y)
    assert S.shape == M.shape and S.min() >= -80.0 - 1e-4
    np.testing.assert_allclose(audio.db_to_power(S), np.maximum(M, 1e-8), rtol=1e-4)
    z = audio.mel_to_audio(M, n_iter=8)
    assert abs(z.size - y.size) <= audio.HOP and np.all(np.isfinite(z))
    assert audio.audio_stats(z)["rms"] > 0.01
    # the inversion keeps the spectral envelope: mel spectrograms correlate strongly
    M2 = audio.mel_spectrogram(z)[:, : M.shape[1]]
    r = np.corrcoef(np.log(M[:, : M2.shape[1]] + 1e-6).ravel(), np.log(M2 + 1e-6).ravel())[0, 1]
    assert r > 0.8


def test_mel_to_audio_rejects_db():
    with pytest.raises(ValueError, match="non-negative"):
        audio.mel_to_audio(-np.ones((64, 10)))
