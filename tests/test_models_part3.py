"""Part III models: the eps-prediction U-Net, L_simple training, the DDPM and DDIM samplers, the cache,
the spectrogram patches, the fast inversion, the quality measure and the noise-schedule explorer.
Tiny configurations: every test runs in seconds."""

import html
import re

import numpy as np
import pytest
import torch

from m2d import audio, spectro
from m2d import diffusion as df
from m2d.models import ddpm
from m2d.models.unet import UNet, UNetConfig

TINY_UNET = UNetConfig(base=8, mults=(1, 2), space_to_depth=2)


def tiny_config(**kw):
    base = dict(T=50, beta_start=1e-3, beta_end=0.2, steps=60, batch=16, lr=3e-3, warmup=5, ema=0.9,
                unet=TINY_UNET)
    base.update(kw)
    return ddpm.DDPMConfig(**base)


def toy_images(n=64, seed=0):
    """Blurry horizontal stripes in [-1, 1]: a structured 16x16 data set the U-Net can learn fast."""
    rng = np.random.default_rng(seed)
    x = -np.ones((n, 16, 16), dtype=np.float32)
    rows = rng.integers(2, 14, size=n)
    x[np.arange(n), rows, :] = 1.0
    return x


# ----------------------------------------------------------------------------------------------
# network


def test_unet_shapes_and_zero_init():
    for cfg in (UNetConfig(base=8, mults=(1, 2)), TINY_UNET):
        m = UNet(cfg)
        x = torch.randn(3, 1, 16, 32)
        out = m(x, torch.tensor([1, 5, 49]))
        assert out.shape == x.shape
        assert torch.all(out == 0)  # zero-initialised output: the untrained model predicts eps = 0
    with pytest.raises(ValueError, match="divisible"):
        UNet(TINY_UNET)(torch.randn(1, 1, 10, 16), torch.tensor([1]))
    with pytest.raises(ValueError, match="space_to_depth"):
        UNet(UNetConfig(space_to_depth=0))


# ----------------------------------------------------------------------------------------------
# training, cache


def test_training_beats_the_zero_noise_baseline(tmp_cache):
    data = toy_images(128)
    cfg = tiny_config(steps=150)
    calls = []

    def provide():
        calls.append(1)
        return data

    model, extra = ddpm.load_or_train_unet(cfg, provide, {"toy": "stripes"}, name="t-unet", progress=False)
    assert len(calls) == 1 and len(extra["loss"]) == 150 and extra["seconds"] > 0
    ev = ddpm.eval_loss_by_t(model, toy_images(64, seed=1), cfg, [1, 10, 25, 50], seed=0)
    cached = ddpm.eval_loss_by_t(model, toy_images(64, seed=1), cfg, [1, 10, 25, 50], seed=0,
                                 key_parts={"a": 1})
    np.testing.assert_allclose(cached["model"], ev["model"])
    assert len(list(tmp_cache.glob("ddpm-heldout-loss-*.json"))) == 1
    with pytest.raises(ValueError, match=r"1\.\.50"):
        ddpm.eval_loss_by_t(model, toy_images(4), cfg, [0])
    # predicting eps = 0 costs E|eps|^2 = 1 per dimension; the trained model must do better at every t
    assert np.all(ev["model"] < ev["zero"])
    assert ev["model"].mean() < 0.8 * ev["zero"].mean()
    assert ev["zero"].mean() == pytest.approx(1.0, abs=0.05)
    # cache round trip: the same weights, no retraining
    model2, extra2 = ddpm.load_or_train_unet(cfg, provide, {"toy": "stripes"}, name="t-unet", progress=False)
    assert len(calls) == 1 and extra2["loss"] == extra["loss"]
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_corrupt_weights_are_retrained(tmp_cache):
    data = toy_images(32)
    cfg = tiny_config(steps=5)
    ddpm.load_or_train_unet(cfg, data, {"toy": 1}, name="t-unet", progress=False)
    (path,) = tmp_cache.glob("t-unet-*.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated file
    with pytest.warns(UserWarning, match="rebuilding"):
        model, extra = ddpm.load_or_train_unet(cfg, data, {"toy": 1}, name="t-unet", progress=False)
    assert len(extra["loss"]) == 5 and not model.training


def test_training_is_reproducible(tmp_cache):
    data = toy_images(32)
    cfg = tiny_config(steps=8)
    m1 = UNet(cfg.unet)
    torch.manual_seed(0)
    m2 = UNet(cfg.unet)
    m1.load_state_dict(m2.state_dict())
    e1 = ddpm.train_eps_model(m1, data, cfg, progress=False)
    m3 = UNet(cfg.unet)
    m3.load_state_dict(m2.state_dict())
    e2 = ddpm.train_eps_model(m3, data, cfg, progress=False)
    assert e1["loss"] == e2["loss"]


# ----------------------------------------------------------------------------------------------
# samplers


class PointMass(torch.nn.Module):
    """The exact optimal noise predictor for data concentrated at one value c:
    eps*(x_t, t) = (x_t - sqrt(abar_t) c) / sqrt(1 - abar_t)."""

    def __init__(self, betas, c):
        super().__init__()
        self.ab = torch.as_tensor(df.alpha_bars(betas), dtype=torch.float32)
        self.c = c
        self.calls = 0

    def forward(self, x, t):
        self.calls += 1
        a = self.ab[t].view(-1, 1, 1, 1)
        return (x - a.sqrt() * self.c) / (1 - a).sqrt()


@pytest.mark.parametrize("sampler", ["ddpm", "ddim-1", "ddim-5", "ddim-50"])
def test_samplers_recover_a_point_mass(sampler):
    b = df.linear_beta_schedule(50, 1e-3, 0.2)
    model = PointMass(b, 0.3)
    if sampler == "ddpm":
        x, traj = ddpm.ddpm_sample(model, (4, 1, 2, 2), b, seed=0, record=(50, 25, 0))
        assert model.calls == 50 and sorted(traj) == [0, 25, 50]
    else:
        steps = int(sampler.split("-")[1])
        x, traj = ddpm.ddim_sample(model, (4, 1, 2, 2), b, steps, seed=0, record=True)
        assert model.calls == steps and len(traj) == steps + 1
    np.testing.assert_allclose(x, 0.3, atol=1e-4)


def test_ddim_is_deterministic_and_ddpm_seeded():
    b = df.linear_beta_schedule(50, 1e-3, 0.2)
    net = UNet(TINY_UNET)
    torch.nn.init.normal_(net.out.weight, std=0.01)
    a, _ = ddpm.ddim_sample(net, (2, 1, 8, 8), b, 10, seed=3)
    c, _ = ddpm.ddim_sample(net, (2, 1, 8, 8), b, 10, seed=3)
    np.testing.assert_array_equal(a, c)
    d, _ = ddpm.ddpm_sample(net, (2, 1, 8, 8), b, seed=3)
    e, _ = ddpm.ddpm_sample(net, (2, 1, 8, 8), b, seed=3)
    f, _ = ddpm.ddpm_sample(net, (2, 1, 8, 8), b, seed=4)
    np.testing.assert_array_equal(d, e)
    assert not np.array_equal(d, f)


def test_ddim_timesteps():
    np.testing.assert_array_equal(ddpm.ddim_timesteps(1000, 10)[[0, -1]], [1000, 1])
    assert len(ddpm.ddim_timesteps(1000, 100)) == 100
    assert list(ddpm.ddim_timesteps(5, 5)) == [5, 4, 3, 2, 1]
    for bad in (0, 1001):
        with pytest.raises(ValueError, match=r"1\.\.1000"):
            ddpm.ddim_timesteps(1000, bad)


def test_compare_samplers_cached(tmp_cache):
    b_cfg = tiny_config(T=20)
    net = PointMass(b_cfg.betas(), -0.5)
    r = ddpm.compare_samplers(net, b_cfg, 3, (1, 2, 2), ddim_steps=(10, 2), key_parts={"m": 1})
    assert list(r) == ["DDPM", "DDIM-10", "DDIM-2"]
    assert r["DDPM"]["steps"] == 20 and r["DDIM-2"]["samples"].shape == (3, 1, 2, 2)
    calls = net.calls
    r2 = ddpm.compare_samplers(net, b_cfg, 3, (1, 2, 2), ddim_steps=(10, 2), key_parts={"m": 1})
    assert net.calls == calls  # from the cache
    np.testing.assert_array_equal(r2["DDIM-10"]["samples"], r["DDIM-10"]["samples"])
    assert r2["DDPM"]["seconds"] == pytest.approx(r["DDPM"]["seconds"])


def test_elbo_of_a_model_in_bits(tmp_cache):
    b_cfg = tiny_config(T=20)
    net = PointMass(b_cfg.betas(), 0.0)
    x0 = spectro.quantize(np.random.default_rng(0).uniform(-1, 1, (8, 4, 4)))
    terms = ddpm.elbo_bits_per_dim(net, x0, b_cfg, n_t=5)
    assert set(terms) >= {"L_T", "sum_L", "L_0", "total", "t", "L"}
    assert terms["total"] == pytest.approx(terms["L_T"] + terms["sum_L"] + terms["L_0"])
    assert terms["L_T"] >= 0 and terms["sum_L"] >= 0 and terms["L_0"] >= 0
    cached = ddpm.elbo_bits_per_dim(net, x0, b_cfg, n_t=5, key_parts={"m": 1})
    again = ddpm.elbo_bits_per_dim(net, x0, b_cfg, n_t=5, key_parts={"m": 1})
    assert cached["total"] == pytest.approx(terms["total"]) and again["total"] == cached["total"]
    np.testing.assert_allclose(again["L"], terms["L"])
    # the point-mass predictor is badly wrong for uniform data: far more than the 8 bits of a uniform code
    assert terms["total"] > 8


def test_stratified_steps_cover_and_estimate_a_sum():
    ts, w = ddpm.stratified_steps(1000, 40, seed=0)
    assert w.sum() == 999 and np.all(ts >= 2) and np.all(ts <= 1000) and np.all(np.diff(ts) > 0)
    assert list(ts[:5]) == [2, 3, 4, 5, 6] and np.all(w[:5] == 1)  # the steep start is evaluated exactly
    f = np.concatenate([[0.0], 1.0 / np.arange(1, 1001) ** 1.5])  # a steeply falling term, like L_{t-1}
    exact = f[2:].sum()
    est = [np.sum(w * f[t]) for t, w in (ddpm.stratified_steps(1000, 40, seed=s) for s in range(200))]
    assert np.mean(est) == pytest.approx(exact, rel=0.01)  # unbiased
    with pytest.raises(ValueError, match="T >= 2"):
        ddpm.stratified_steps(1, 5)


def test_toy_model_learns_the_mixture_score(tmp_cache):
    mix = df.GaussianMixture([0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0]], [0.4, 0.4])
    cfg = ddpm.DDPMConfig(T=100, beta_start=1e-3, beta_end=0.1, steps=400, batch=256, lr=3e-3, warmup=20,
                          ema=0.9)
    model, extra = ddpm.load_or_train_toy(mix, cfg, n_data=4000)
    ab = df.alpha_bars(cfg.betas())
    x = np.random.default_rng(0).normal(0, 2, (400, 2))
    t = 50
    eps = ddpm.eps_fn_of(model, add_channel=False)(x, t)
    learned = df.score_from_noise(eps, t, ab)
    exact = mix.noised(ab[t]).score(x)
    err = np.mean(np.sum((learned - exact) ** 2, 1)) / np.mean(np.sum(exact**2, 1))
    assert err < 0.2  # relative squared error of the learned score field


# ----------------------------------------------------------------------------------------------
# spectrogram patches, inversion, quality


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
    z2 = spectro.fast_mel_to_audio(m, n_iter=2, seed=1)
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


def test_listen_checks_and_players_table():
    y = audio.synthesize([60, 64], 0.5, tempo=120)
    assert "audio/mpeg" in spectro.listen(y)._repr_html_()
    with pytest.raises(ValueError, match="silent"):
        spectro.listen(np.zeros(1000, dtype=np.float32) + 1e-4)
    with pytest.raises(ValueError, match="empty"):
        spectro.listen(np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match="clip"):
        spectro.listen(np.ones(1000, dtype=np.float32))
    h = spectro.players_html({"row <1>": [("a", y), ("b", y)]})
    assert h.count("<audio") == 2 and "row &lt;1&gt;" in h


def test_excerpt_and_show_patches(bach_split):
    import matplotlib.pyplot as plt

    y, s = spectro.excerpt(bach_split["test"][0], seconds=1.5)
    assert y.size == round(1.5 * audio.SR) and s.shape == (audio.N_MELS, 1 + y.size // audio.HOP)
    y_long, _ = spectro.excerpt(bach_split["test"][0], seconds=500.0)  # shorter melody: zero-padded
    assert y_long.size == 500 * audio.SR
    with pytest.raises(ValueError, match="seconds"):
        spectro.excerpt(bach_split["test"][0], seconds=0)
    fig, axes = plt.subplots(1, 3)
    ims = spectro.show_patches(axes, np.zeros((2, 4, 4)), ["a", "b"])
    assert len(ims) == 2 and not axes[2].axison
    plt.close(fig)


# ----------------------------------------------------------------------------------------------
# widget


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


def test_chapter_samples_and_elbo_are_part_threes_settings(tmp_cache):
    """Chapter 5 reuses Part III's samples and ELBO through these two functions: they must run the
    chapter's comparison (DDPM + DDIM 100/50/20/10 at eta 0 and 1, 32 samples, the trajectory) and be
    served from the cache the second time."""
    b_cfg = tiny_config(T=1000)
    net = PointMass(b_cfg.betas(), -0.5)
    runs = ddpm.chapter_samples(net, b_cfg, {"m": 2}, clip=(-1.0, 1.0), shape=(1, 2, 2))
    assert list(runs) == ["DDPM"] + [f"DDIM-{s}{'-eta1' if e else ''}" for e in ddpm.CHAPTER_ETAS
                                     for s in ddpm.CHAPTER_DDIM_STEPS]
    assert runs["DDPM"]["samples"].shape == (ddpm.CHAPTER_N_SAMPLES, 1, 2, 2)
    assert sorted(runs["DDPM"]["trajectory"]) == sorted(ddpm.CHAPTER_TRAJECTORY)
    np.testing.assert_allclose(runs["DDIM-10"]["samples"], -0.5, atol=0.05)  # the point mass
    calls = net.calls
    again = ddpm.chapter_samples(net, b_cfg, {"m": 2}, clip=(-1.0, 1.0), shape=(1, 2, 2))
    assert net.calls == calls
    np.testing.assert_array_equal(again["DDPM"]["samples"], runs["DDPM"]["samples"])

    x0 = spectro.quantize(np.random.default_rng(1).uniform(-1, 1, (200, 2, 2)))
    ours = ddpm.chapter_elbo(net, x0, b_cfg, {"m": 2})
    direct = ddpm.elbo_bits_per_dim(net, x0[:ddpm.CHAPTER_ELBO_PATCHES], b_cfg,
                                    n_t=ddpm.CHAPTER_ELBO_STEPS, seed=0)
    assert ours["total"] == pytest.approx(direct["total"])


def test_centred_clip_is_centred_on_the_data_mean():
    x = np.random.default_rng(2).uniform(-1, 0.2, (50, 4, 4))
    lo, hi = ddpm.centred_clip(x)
    assert hi == 1.0 and (lo + hi) / 2 == pytest.approx(x.mean())
