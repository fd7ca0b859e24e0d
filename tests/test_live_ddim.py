"""Part III's live "generate" button (src/m2d/js/ddim_live.js, m2d.widgets.diffusion.generate_live)
held equal to the library in Chromium (a page in tmp_path from file://, every other request
blocked): the page's eps_theta (the shipped U-Net in ONNX Runtime Web) against torch's, one DDIM step
with the page's noise against m2d.models.sampling.reverse_step, a whole 10-step sample against
ddim_sample from the page's x_T and per-step noise, the step lists against ddim_timesteps, and the
sound. The last test presses the button in the built chapter, in both editions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import OfflinePage
from test_browser import Visit, book  # noqa: F401  (the built-book fixture)

from m2d import audio, spectro
from m2d.models import ddpm, export, sampling
from m2d.widgets import diffusion as diffusion_widgets
from m2d.widgets.attention import LIVE_RUNTIME

RUNTIME = Path(__file__).resolve().parent.parent / "_vendor" / LIVE_RUNTIME
STATE = "document.querySelector('.m2d-live').m2dState"


@pytest.fixture(scope="module")
def unet():
    model, _, _ = ddpm.book_model(progress=False)
    return model.eval()


@pytest.fixture(scope="module")
def clip():
    return ddpm.centred_clip(spectro.load_patches("train", spectro.PatchConfig()))


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory, unet, clip):
    if not RUNTIME.exists():
        pytest.skip(f"{RUNTIME} is missing: run `make vendor`")
    root = tmp_path_factory.mktemp("live-ddim")
    (root / "ort").mkdir()
    (root / "ort" / "ort-live.js").symlink_to(RUNTIME)
    html = diffusion_widgets.generate_live(unet, ddpm.BOOK_CONFIG, clip, directory=root / "models").data
    offline = OfflinePage(browser, root, html, "ddim.html")
    pg = offline.page
    pg.click(".m2d-live-on")
    # nothing loaded before a press of "generate"
    assert pg.evaluate("() => !document.querySelector(\"script[src*='ort-live'], script[src*='models/']\")"
                       " && !window.M2D_MODELS")
    yield pg
    offline.close()


def _fake_noise(monkeypatch, draws):
    """Make the library's sampler use ``draws`` (x_T, then each step's z) in order."""
    it = iter(draws)
    monkeypatch.setattr(sampling, "_noise",
                        lambda shape, gen, dev: torch.as_tensor(np.asarray(next(it), dtype=np.float32)
                                                                .reshape(tuple(shape))))


def test_eps_equals_torch(page, unet):
    rng = np.random.default_rng(1)
    for t in (1, 250, 1000):
        x = rng.standard_normal((audio.N_MELS, 64)).astype(np.float32)
        got = np.array(page.evaluate(f"async (a) => Array.from(await {STATE}.eps(a[0], a[1]))",
                                     [x.ravel().tolist(), t]))
        ref = export.torch_outputs(unet, {"x": x[None, None], "t": np.array([t])})["eps"]
        np.testing.assert_allclose(got, ref.ravel(), rtol=0, atol=1e-4)


@pytest.mark.parametrize("steps", [1, 10, 17, 20, 33, 50])
def test_timesteps_equal_the_library(page, steps):
    got = page.evaluate("(s) => window.m2dLive.diffusion.ddimTimesteps(1000, s)", steps)
    assert got == sampling.ddim_timesteps(1000, steps).tolist()


def test_one_step_equals_the_library(page, unet, clip, monkeypatch):
    sched = ddpm.BOOK_CONFIG.noise_schedule()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((audio.N_MELS, 64)).astype(np.float32)
    for t, t_prev in ((1000, 889), (112, 1), (1, 0)):
        out = page.evaluate(f"""async (a) => {{
            const s = {STATE}, eps = await s.eps(a[0], a[1]);
            const z = window.m2dLive.diffusion.normalStream(7)(a[0].length);
            const cfg = JSON.parse(JSON.stringify({{ab: s.cfg.alpha_bar, clip: s.cfg.clip,
                                                    eta: s.cfg.eta}}));
            const r = window.m2dLive.diffusion.ddimStep(a[0], eps, a[1], a[2], cfg.ab, cfg.clip,
                                                        cfg.eta, z);
            return {{x: Array.from(r.x), z: Array.from(z), eps: Array.from(eps), s: r.s}}; }}""",
                            [x.ravel().tolist(), t, t_prev])
        _fake_noise(monkeypatch, [out["z"]])
        with torch.no_grad():
            xt = torch.from_numpy(x[None, None])
            ref = sampling.reverse_step(xt, sampling.model_eps(unet, xt, t), t, t_prev, sched, clip=clip,
                                        eta=ddpm.BOOK_PHRASE_ETA, generator=None)
        np.testing.assert_allclose(out["x"], ref.numpy().ravel(), rtol=0, atol=1e-4)
        assert (out["s"] > 0) == (t_prev > 0)


def test_a_ten_step_sample_equals_ddim_sample(page, unet, clip, monkeypatch):
    s = page.evaluate(f"async () => {{ const s = {STATE}; const x = await s.sample(10, 5, null); "
                      "return {x: Array.from(x), xT: s.xT, noises: s.noises, taus: s.taus}; }")
    assert s["taus"] == sampling.ddim_timesteps(1000, 10).tolist()
    assert len(s["noises"]) == 9  # eta = 1: fresh noise on every step but the last
    xT = np.array(s["xT"])
    assert abs(xT.mean()) < 0.05 and abs(xT.std() - 1) < 0.05
    _fake_noise(monkeypatch, [s["xT"], *s["noises"]])
    ref, _ = sampling.ddim_sample(unet, (1, 1, audio.N_MELS, 64), ddpm.BOOK_CONFIG.noise_schedule(), 10,
                                  0, eta=ddpm.BOOK_PHRASE_ETA, clip=clip)
    np.testing.assert_allclose(s["x"], ref.ravel(), rtol=0, atol=1e-3)


def test_the_button_generates_and_plays(page):
    page.fill("[name=steps]", "10")
    page.fill("[name=seed]", "3")
    page.click("button[name=generate]")
    page.wait_for_function("() => +(document.querySelector('.m2d-live').dataset.liveRuns || 0) >= 1",
                           timeout=120_000)
    s = page.evaluate(f"() => {{ const s = {STATE}; return {{error: s.error, x0: s.x0, "
                      "sound: window.m2dLive.lastSound, msg: document.querySelector('.m2d-live-msg')"
                      ".textContent, seed: document.querySelector('[name=seed]').value}; }")
    assert s["error"] is None and s["msg"].startswith("✓"), s["msg"]
    assert s["sound"]["started"] and s["sound"]["peak"] > 0.1
    assert s["sound"]["seconds"] == pytest.approx(63 * audio.HOP / audio.SR)
    assert s["seed"] == "4"  # the next press draws a new spectrogram
    x0 = np.array(s["x0"])
    assert np.all(np.isfinite(x0)) and x0.std() > 0.05
    page.fill("[name=steps]", "5")
    page.click("button[name=generate]")
    assert "steps must be" in page.evaluate(f"() => {STATE}.error")


@pytest.mark.parametrize("edition", ["", "zh/"])  # zh/ shares the English build's ort/ and models/
def test_the_built_chapter_generates_offline(browser, book, unet, clip, monkeypatch, edition):  # noqa: F811
    v = Visit(browser, book / edition / "notebooks" / "03_diffusion.html")
    pg = v.page
    sel = "section.m2d-live[data-m2d-live='diffusion.generator']"
    pg.click(f"{sel} .m2d-live-on")
    pg.fill(f"{sel} [name=steps]", "10")
    pg.click(f"{sel} button[name=generate]")
    pg.wait_for_function(f"() => +(document.querySelector(\"{sel}\").dataset.liveRuns || 0) >= 1",
                         timeout=120_000)
    s = pg.evaluate(f"() => {{ const s = document.querySelector(\"{sel}\").m2dState; "
                    "return {x: s.x0, xT: s.xT, noises: s.noises, peak: window.m2dLive.lastSound.peak}; }")
    _fake_noise(monkeypatch, [s["xT"], *s["noises"]])
    ref, _ = sampling.ddim_sample(unet, (1, 1, audio.N_MELS, 64), ddpm.BOOK_CONFIG.noise_schedule(), 10,
                                  0, eta=ddpm.BOOK_PHRASE_ETA, clip=clip)
    np.testing.assert_allclose(s["x"], ref.ravel(), rtol=0, atol=1e-3)
    assert s["peak"] > 0.1
    assert not v.errors and not v.blocked and not v.failed, (v.errors, v.blocked, v.failed)
    pg.close()
