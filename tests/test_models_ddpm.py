"""Part III's DDPM (models/ddpm.py): L_simple training and its cache, the held-out loss, the ELBO in
bits per dimension, the cached sampler comparison, the quality tables and the book's settings.
Tiny configurations: every test runs in seconds."""

import numpy as np
import pytest
import torch
from helpers import PointMass

from m2d import diffusion as df
from m2d import spectro
from m2d.models import ddpm
from m2d.models.unet import UNet, UNetConfig

TINY_UNET = UNetConfig(base=8, mults=(1, 2), space_to_depth=2)


def tiny_config(**kw):
    base = dict(T=50, beta_start=1e-3, beta_end=0.2, steps=60, batch=16, lr=3e-3, warmup=5, ema=0.9,
                unet=TINY_UNET)
    base.update(kw)
    return ddpm.DDPMConfig(**base)


def toy_images(n=64, rng=0):
    """Blurry horizontal stripes in [-1, 1]: a structured 16x16 data set the U-Net can learn fast."""
    rng = np.random.default_rng(rng)
    x = -np.ones((n, 16, 16), dtype=np.float32)
    rows = rng.integers(2, 14, size=n)
    x[np.arange(n), rows, :] = 1.0
    return x


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
    ev = ddpm.eval_loss_by_t(model, toy_images(64, rng=1), cfg, [1, 10, 25, 50], rng=0)
    cached = ddpm.eval_loss_by_t(model, toy_images(64, rng=1), cfg, [1, 10, 25, 50], rng=0,
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
    ts, w = ddpm.stratified_steps(1000, 40, rng=0)
    assert w.sum() == 999 and np.all(ts >= 2) and np.all(ts <= 1000) and np.all(np.diff(ts) > 0)
    assert list(ts[:5]) == [2, 3, 4, 5, 6] and np.all(w[:5] == 1)  # the steep start is evaluated exactly
    f = np.concatenate([[0.0], 1.0 / np.arange(1, 1001) ** 1.5])  # a steeply falling term, like L_{t-1}
    exact = f[2:].sum()
    est = [np.sum(w * f[t]) for t, w in (ddpm.stratified_steps(1000, 40, rng=s) for s in range(200))]
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


def test_book_samples_and_elbo_are_part_threes_settings(tmp_cache):
    """Chapter 5 reuses Part III's samples and ELBO through these two functions: they must run the
    chapter's comparison (DDPM + DDIM 100/50/20/10 at eta 0 and 1, 32 samples, the trajectory) and be
    served from the cache the second time."""
    b_cfg = tiny_config(T=1000)
    net = PointMass(b_cfg.betas(), -0.5)
    runs = ddpm.book_samples(net, b_cfg, {"m": 2}, clip=(-1.0, 1.0), shape=(1, 2, 2))
    assert list(runs) == ["DDPM"] + [f"DDIM-{s}{'-eta1' if e else ''}" for e in ddpm.BOOK_ETAS
                                     for s in ddpm.BOOK_DDIM_STEPS]
    assert runs["DDPM"]["samples"].shape == (ddpm.BOOK_N_SAMPLES, 1, 2, 2)
    assert sorted(runs["DDPM"]["trajectory"]) == sorted(ddpm.BOOK_TRAJECTORY)
    np.testing.assert_allclose(runs["DDIM-10"]["samples"], -0.5, atol=0.05)  # the point mass
    calls = net.calls
    again = ddpm.book_samples(net, b_cfg, {"m": 2}, clip=(-1.0, 1.0), shape=(1, 2, 2))
    assert net.calls == calls
    np.testing.assert_array_equal(again["DDPM"]["samples"], runs["DDPM"]["samples"])

    x0 = spectro.quantize(np.random.default_rng(1).uniform(-1, 1, (200, 2, 2)))
    ours = ddpm.book_elbo(net, x0, b_cfg, {"m": 2})
    direct = ddpm.elbo_bits_per_dim(net, x0[:ddpm.BOOK_ELBO_PATCHES], b_cfg,
                                    n_t=ddpm.BOOK_ELBO_STEPS, rng=0)
    assert ours["total"] == pytest.approx(direct["total"])


def test_centred_clip_is_centred_on_the_data_mean():
    x = np.random.default_rng(2).uniform(-1, 0.2, (50, 4, 4))
    lo, hi = ddpm.centred_clip(x)
    assert hi == 1.0 and (lo + hi) / 2 == pytest.approx(x.mean())


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    cfg = tiny_config(lr=1e-2, warmup=10, steps=110)
    lrs = np.array([ddpm._lr_at(s, cfg) for s in range(cfg.steps)])
    np.testing.assert_allclose(lrs[:10], 1e-2 * np.arange(1, 11) / 10)
    assert lrs[10] == pytest.approx(1e-2) and np.all(np.diff(lrs[10:]) < 0)
    assert lrs[-1] == pytest.approx(1e-3, rel=0.01)  # cosine decay to lr / 10




# ----------------------------------------------------------------------------------------------
# device= (issue 13): CPU by default, a GPU when asked for and present, a clear error otherwise


@pytest.mark.parametrize("device", ["tpu", "", "cuda:x"])
def test_unknown_devices_are_refused(device):
    cfg = tiny_config(steps=1)
    with pytest.raises(ValueError, match="device"):
        ddpm.train_eps_model(UNet(cfg.unet), toy_images(8), cfg, progress=False, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_says_so():
    cfg = tiny_config(steps=1)
    with pytest.raises(ValueError, match="no GPU"):
        ddpm.train_eps_model(UNet(cfg.unet), toy_images(8), cfg, progress=False, device="cuda")


def test_explicit_cpu_device_trains_and_samples_identically():
    from m2d.models import sampling

    cfg = tiny_config(steps=3)
    runs = []
    for kw in ({}, {"device": "cpu"}):
        torch.manual_seed(0)
        model = UNet(cfg.unet)
        extra = ddpm.train_eps_model(model, toy_images(32), cfg, progress=False, **kw)
        x, _ = sampling.ddim_sample(model, (2, 1, 16, 16), cfg.noise_schedule(), 5, 0, **kw)
        runs.append((extra["loss"], x))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])


def test_checkpoints_record_quality_without_counting_its_time():
    cfg = tiny_config(steps=6)
    calls = []

    def probe(step, model):
        calls.append(step)
        assert not model.training  # the EMA copy, in eval mode
        return {"score": float(step)}

    torch.manual_seed(0)
    extra = ddpm.train_eps_model(UNet(cfg.unet), toy_images(32), cfg, progress=False,
                                 checkpoints=(2, 6), on_checkpoint=probe)
    assert calls == [2, 6] and [c["step"] for c in extra["curve"]] == [2, 6]
    assert [c["score"] for c in extra["curve"]] == [2.0, 6.0]
    assert 0 < extra["curve"][0]["minutes"] <= extra["curve"][1]["minutes"] <= extra["seconds"] / 60
