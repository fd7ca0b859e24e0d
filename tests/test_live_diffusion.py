"""Part III's live noise-schedule explorer (src/m2d/js/schedule_explorer.js, spectro.js) held equal
to the library in Chromium (a page in tmp_path from file://, every other request blocked): the
schedules' alpha_bar, q_sample with the noise the page drew, the validation messages, the inverse
STFT against librosa's, and the sound against m2d.spectro.unit_to_audio with the same phase. The
last test drives the explorer in the built chapter.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_browser import book  # noqa: F401  (the built book, a fixture)

from m2d import audio, corpus, live, spectro
from m2d import diffusion as df
from m2d.widgets import diffusion as diffusion_widgets


@pytest.fixture(scope="module")
def melody():
    return corpus.load_split("bach")["test"][0]


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory, melody):
    """The live explorer alone in a page, from file://, with the mel pseudo-inverse beside it."""
    from helpers import OfflinePage

    p = OfflinePage(browser, tmp_path_factory.mktemp("live-diffusion"),
                    diffusion_widgets.explorer_live(melody).data)
    p.page.click(".m2d-live-on")
    yield p.page
    p.close()


STATE = "document.querySelector('.m2d-live').m2dState"


def _set(page, name: str, value) -> None:
    page.fill(f"[name={name}]", str(value)) if name != "schedule" else page.select_option(
        "[name=schedule]", value)
    page.dispatch_event(f"[name={name}]", "input" if name == "t" else "change")


@pytest.mark.parametrize("kind, T, b1, bT", [("linear", 1000, 1e-4, 0.02), ("linear", 7, 0.001, 0.3),
                                             ("linear", 1, 0.05, 0.05), ("cosine", 1000, 0, 0),
                                             ("cosine", 50, 0, 0)])
def test_alpha_bar_equals_the_library(page, kind, T, b1, bT):
    ab = page.evaluate("(a) => { const d = window.m2dLive.diffusion; const b = a[0] === 'linear' ? "
                       "d.linear(a[1], a[2], a[3]) : d.cosine(a[1]); return d.alphaBar(b); }",
                       [kind, T, b1, bT])
    expect = df.NoiseSchedule.make(kind, T, b1 or 1e-4, bT or 0.02).alpha_bar
    np.testing.assert_allclose(ab, expect, rtol=0, atol=1e-12)


def test_q_sample_with_the_pages_noise_equals_the_library(page):
    for kind, T, t, seed in (("linear", 1000, 250, 0), ("cosine", 400, 399, 3), ("linear", 20, 0, 9)):
        _set(page, "schedule", kind)
        _set(page, "T", T)
        _set(page, "seed", seed)
        _set(page, "t", t)
        s = page.evaluate(f"() => {{ const s = {STATE}; return {{x0: s.x0.map(r => Array.from(r)), "
                          "eps: s.eps.map(r => Array.from(r)), xt: s.xt, t: s.t, error: s.error}; }")
        assert s["error"] is None and s["t"] == t
        x0, eps = np.array(s["x0"]), np.array(s["eps"])
        sched = df.NoiseSchedule.make(kind, T)
        np.testing.assert_allclose(s["xt"], sched.q_sample(x0, t, eps), rtol=0, atol=1e-6)
        assert abs(eps.mean()) < 0.05 and abs(eps.std() - 1) < 0.05  # N(0, 1) noise


def test_the_clean_spectrogram_is_the_explorers(page, melody):
    x0 = np.array(page.evaluate(f"() => {STATE}.x0.map(r => Array.from(r))"))
    np.testing.assert_allclose(x0, diffusion_widgets.clean_excerpt(melody)[0], atol=1e-6)


@pytest.mark.parametrize("kind, b1, bT, T, t", [("linear", 0.02, 0.01, 1000, 5), ("linear", 0, 0.02, 100, 5),
                                               ("linear", 1e-4, 1.5, 100, 5), ("cosine", 0, 0, 10, 11)])
def test_settings_errors_are_the_widgets(page, kind, b1, bT, T, t):
    ex = diffusion_widgets.NoiseScheduleExplorer.__new__(diffusion_widgets.NoiseScheduleExplorer)

    class V:  # the widget's controls, as plain values
        def __init__(self, v):
            self.value = v

    ex.schedule, ex.beta_1, ex.beta_T, ex.T, ex.t = V(kind), V(b1), V(bT), V(T), V(t)
    js = page.evaluate("(a) => window.m2dLive.diffusion.settingsError(...a)", [kind, b1, bT, T, t])
    assert js == ex.settings_error() != ""


def test_istft_and_sound_equal_the_library(page, melody):
    rng = np.random.default_rng(0)
    mag, phase = rng.random((513, 40)), rng.uniform(-np.pi, np.pi, (513, 40))
    import librosa

    y_js = np.array(page.evaluate(
        "(a) => Array.from(window.m2dLive.spectro.istft(a[0], a[1], 1024, 256, a[2]))",
        [mag.tolist(), phase.tolist(), 39 * 256]))
    y_py = librosa.istft(mag * np.exp(1j * phase), hop_length=256, n_fft=1024, length=39 * 256)
    np.testing.assert_allclose(y_js, y_py, atol=1e-5)
    ph_js = np.array(page.evaluate("(a) => window.m2dLive.spectro.stftPhase(a[0], 1024, 256)"
                                   ".map(r => Array.from(r))", [y_py.tolist()]))
    X = librosa.stft(y_py, n_fft=1024, hop_length=256)
    strong = np.abs(X) > 1e-3 * np.abs(X).max()  # the angle of a near-zero bin is noise
    d = np.angle(np.exp(1j * (ph_js - np.angle(X))))
    assert np.abs(d[strong]).max() < 1e-4
    # the explorer's sound: x_t through the page's inversion with the page's (quantised) clean phase
    _set(page, "schedule", "linear")
    _set(page, "T", 1000)
    _set(page, "t", 100)
    y = np.array(page.evaluate(f"async () => {{ const s = {STATE}; const r = await "
                               "window.m2dLive.spectro.unitToAudio(s.xt, s.phase, 0); "
                               "return Array.from(r.signal); }"))
    xt = np.array(page.evaluate(f"() => {STATE}.xt"))
    _, clean_phase = diffusion_widgets.clean_excerpt(melody)
    ph = live.dequantize_phase(live.quantize_phase(clean_phase), clean_phase.shape)
    np.testing.assert_allclose(y, spectro.unit_to_audio(xt, phase=ph), atol=1e-4)
    assert np.abs(ph - clean_phase).max() <= np.pi / 256 + 1e-6  # float32 angles reach pi + 1e-7
    page.click("button[name=play]")
    page.wait_for_function("() => window.m2dLive.lastSound")
    snd = page.evaluate("() => window.m2dLive.lastSound")
    assert snd["started"] and snd["peak"] > 0.5
    assert snd["seconds"] == pytest.approx(len(y) / audio.SR)


def test_the_built_chapter_runs_the_explorer_offline(browser, book):  # noqa: F811
    from test_browser import Visit

    v = Visit(browser, book / "notebooks" / "03_diffusion.html")
    pg = v.page
    sel = "section.m2d-live[data-m2d-live='diffusion.explorer']"
    pg.click(f"{sel} .m2d-live-on")
    pg.fill(f"{sel} [name=t]", "500")
    pg.dispatch_event(f"{sel} [name=t]", "input")
    s = pg.evaluate(f"() => {{ const s = document.querySelector(\"{sel}\").m2dState; "
                    "return {x0: s.x0.map(r => Array.from(r)), "
                    "eps: s.eps.map(r => Array.from(r)), xt: s.xt}; }")
    sched = df.NoiseSchedule.make("linear", 1000)
    np.testing.assert_allclose(s["xt"], sched.q_sample(np.array(s["x0"]), 500, np.array(s["eps"])), atol=1e-6)
    pg.click(f"{sel} button[name=play]")
    pg.wait_for_function("() => window.m2dLive.lastSound", timeout=20_000)
    assert pg.evaluate("() => window.m2dLive.lastSound.peak") > 0.5
    assert not v.errors and not v.blocked and not v.failed, (v.errors, v.blocked, v.failed)
    pg.close()
