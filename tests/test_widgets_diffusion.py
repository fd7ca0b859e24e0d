"""The noise-schedule explorer of Part III (widgets/diffusion.py): picture and sound follow the
controls, invalid settings keep the sliders, the static counterpart."""

import html
import re

import numpy as np
import pytest

from m2d import audio
from m2d import diffusion as df
from m2d.widgets import diffusion as wd


@pytest.fixture
def explorer(bach_split):
    from m2d.widgets.diffusion import NoiseScheduleExplorer

    return NoiseScheduleExplorer(bach_split["test"][:2], seconds=1.0)


def test_explorer_updates_picture_and_sound(explorer):
    w = explorer
    assert bytes(w.image.value[:8]) == b"\x89PNG\r\n\x1a\n" and "ᾱ_t" in w.message.value
    first = w.image.value
    w.t.value = 900
    assert w.image.value != first
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    assert np.sqrt(1 - ab[900]) == pytest.approx(float(w.message.value.split("noise std ")[1][:5]), abs=1e-3)
    stats = audio.audio_stats(w.last_audio)
    assert stats["seconds"] > 0.9 and stats["rms"] > 0.01 and stats["clipped_fraction"] == 0
    import io

    import soundfile as sf

    z, sr = sf.read(io.BytesIO(bytes(w.player.value)))  # a decodable MP3 of the excerpt
    assert sr == audio.CLIP_SR and abs(z.size / sr - 1.0) < 0.1
    assert set(w.timings) == {"picture", "sound"}
    w.schedule.value = "cosine"
    assert w.beta_1.disabled and "&#9888;" not in w.message.value
    w.t.value = 0
    np.testing.assert_allclose(w.x_t, w._prepare(0)[0])  # x_0 is the clean spectrogram
    w.melody.value = 1
    assert not np.allclose(w.x_t, w._prepare(0)[0])


@pytest.mark.parametrize("setting,msg", [
    ({"beta_1": 0.05}, "exceeds"),
    ({"beta_T": 1.0}, r"outside \(0, 1\)"),
    ({"t": 1500}, r"outside 0\.\.T"),
    ({"T": 100, "t": 101}, r"0\.\.100"),
])
def test_explorer_invalid_settings_keep_sliders(explorer, setting, msg):
    w = explorer
    before_image, before_x = w.image.value, w.x_t.copy()
    for name, value in setting.items():
        getattr(w, name).value = value
    assert "&#9888;" in w.message.value and re.search(msg, html.unescape(w.message.value))
    for name, value in setting.items():
        assert getattr(w, name).value == pytest.approx(value)  # the user's edit is kept
    if "T" not in setting:
        assert w.image.value == before_image and np.array_equal(w.x_t, before_x)


def test_explorer_recovers_after_invalid(explorer):
    w = explorer
    w.t.value = 1500
    assert "&#9888;" in w.message.value
    w.T.value = 2000
    assert "&#9888;" not in w.message.value and w.x_t is not None


def test_explorer_static_counterpart(bach_split):
    from m2d.widgets.diffusion import explorer_static

    h = explorer_static(bach_split["test"][:1], ts=(0, 500), seconds=1.0).data
    assert h.count("data:image/png") >= 4 and h.count("data:audio/mpeg") >= 4 and "m2d-frames" in h


# ---------------------------------------------------------------- the worked example (chapter 4)


@pytest.mark.parametrize("t", [1, 500, 1000])
def test_pixel_diffusion_example(t):
    w = wd.PixelDiffusionExample(t=t, draws=50_000)
    ab = df.alpha_bars(df.linear_beta_schedule(1000))[t]
    s = np.sqrt(1 - ab)
    assert abs(w.samples.mean() - np.sqrt(ab) * 0.8) < 5 * s / np.sqrt(50_000) + 1e-9
    assert w.samples.std() == pytest.approx(s, rel=0.03)
    assert w.image[:4] == b"\x89PNG"


def test_pixel_diffusion_t_follows_T():
    w = wd.PixelDiffusionExample(t=900)
    w.T.value = 200
    assert w.t.value <= 200 and w.error is None
    assert w.alpha_bar.shape == (201,)


def test_pixel_example_axes_follow_the_distribution():
    """Sliding t towards 0 shrinks x_t's spread 100-fold: the histogram axis must zoom in with it
    (the density still integrates to 1 over the visible bins)."""
    w = wd.PixelDiffusionExample(t=800)
    wide = w._a1.get_xlim()
    w.t.value = 2
    lo, hi = w._a1.get_xlim()
    ab = w.alpha_bar[2]
    m, s = np.sqrt(ab) * w.x0.value, np.sqrt(1 - ab)
    assert lo < m - 4 * s and m + 4 * s < hi and (hi - lo) < 0.2 * (wide[1] - wide[0])
    dens, edges = w._hist.get_data()[:2]
    assert np.sum(dens * np.diff(edges)) == pytest.approx(1.0, abs=1e-3)
    assert dens.max() <= w._a1.get_ylim()[1]


def test_pixel_example_refuses_a_decreasing_schedule():
    """The worked example and the schedule explorer agree: beta must increase (Definition 21.8)."""
    w = wd.PixelDiffusionExample(t=10)
    w.beta_start.value, w.beta_end.value = 0.02, 0.001
    assert w.error is not None and "exceeds" in w.error
    assert "exceeds" in w.message.value and w.beta_start.value == 0.02  # the edit is kept
    w.beta_end.value = 0.03
    assert w.error is None
