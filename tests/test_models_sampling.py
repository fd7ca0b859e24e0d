"""The samplers of models/sampling.py: DDPM, DDIM and RePaint inpainting on one reverse step.
Each is checked against a frozen copy of the implementation it replaced (the same numbers for an
integer rng), on the exact noise predictor of a point mass, and for its argument checks."""

import math

import numpy as np
import pytest
import torch
from helpers import PointMass

from m2d import diffusion as df
from m2d.models import sampling
from m2d.models.ddpm import DDPMConfig
from m2d.models.unet import UNet, UNetConfig

TINY_UNET = UNetConfig(base=8, mults=(1, 2), space_to_depth=2)
BETAS = df.linear_beta_schedule(40, 1e-3, 0.2)



def random_unet(cfg=TINY_UNET, std=0.1):
    """An untrained but non-trivial network (the output layer is zero at initialisation)."""
    torch.manual_seed(0)
    net = UNet(cfg).eval()
    with torch.no_grad():
        net.out.weight.normal_(0, std)
    return net


def half_mask(h=16, w=16):
    m = np.zeros((h, w), dtype=bool)
    m[:, : w // 2] = True
    return m


# ----------------------------------------------------------------------------------------------
# frozen copies of the replaced implementations (ddpm.ddpm_sample, ddpm.ddim_sample,
# landscape.inpaint before issue 11), to pin the numbers


def _clip(clip):
    return (-1.0, 1.0) if clip is True else tuple(float(v) for v in clip)


@torch.no_grad()
def old_ddpm_sample(model, shape, betas, seed, variance="beta", clip=True):
    b = np.asarray(betas, dtype=float)
    T = b.size
    ab = np.concatenate([[1.0], np.cumprod(1.0 - b)])
    c0 = np.full(T + 1, np.nan)
    ct, var = c0.copy(), c0.copy()
    c0[1:] = np.sqrt(ab[:-1]) * b / (1.0 - ab[1:])
    ct[1:] = np.sqrt(1.0 - b) * (1.0 - ab[:-1]) / (1.0 - ab[1:])
    var[1:] = (1.0 - ab[:-1]) / (1.0 - ab[1:]) * b
    if variance == "beta":
        var = np.concatenate([[np.nan], b])
    else:
        var[1] = var[2]
    sig = np.sqrt(var)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(tuple(shape), generator=gen)
    for t in range(T, 0, -1):
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        if clip:
            x0 = ((x - np.sqrt(1 - ab[t]) * eps) / np.sqrt(ab[t])).clamp(*_clip(clip))
            mean = c0[t] * x0 + ct[t] * x
        else:
            mean = (x - b[t - 1] / np.sqrt(1 - ab[t]) * eps) / np.sqrt(1 - b[t - 1])
        x = mean + (sig[t] * torch.randn(x.shape, generator=gen) if t > 1 else 0.0)
    return x.numpy().astype(np.float32)


@torch.no_grad()
def old_ddim_sample(model, shape, betas, steps, seed, eta=0.0, clip=True):
    ab = np.concatenate([[1.0], np.cumprod(1.0 - np.asarray(betas, dtype=float))])
    taus = np.unique(np.round(np.linspace(1, ab.size - 1, steps)).astype(int))[::-1]
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(tuple(shape), generator=gen)
    for i, t in enumerate(taus):
        a, a_prev = ab[t], (ab[taus[i + 1]] if i + 1 < len(taus) else 1.0)
        eps = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))
        x0 = (x - np.sqrt(1 - a) * eps) / np.sqrt(a)
        if clip:
            x0 = x0.clamp(*_clip(clip))
            eps = (x - np.sqrt(a) * x0) / np.sqrt(1 - a)
        s = eta * np.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
        x = np.sqrt(a_prev) * x0 + np.sqrt(max(1 - a_prev - s * s, 0.0)) * eps
        if s > 0:
            x = x + s * torch.randn(x.shape, generator=gen)
    return x.numpy().astype(np.float32)


def old_inpaint(model, known, mask, betas, seed, steps=50, resample=1, clip=True):
    ab = np.concatenate([[1.0], np.cumprod(1.0 - np.asarray(betas, dtype=float))])
    T = ab.size - 1
    taus = (np.arange(T, 0, -1) if steps is None
            else np.unique(np.round(np.linspace(1, T, steps)).astype(int))[::-1])
    m = np.broadcast_to(mask, known.shape)
    gen = torch.Generator().manual_seed(int(seed))
    k = torch.from_numpy(known)[:, None]
    mt = torch.from_numpy(np.array(m))[:, None]
    x = torch.randn(k.shape, generator=gen)
    with torch.no_grad():
        for i, t in enumerate(taus):
            a = float(ab[t])
            a_prev = float(ab[taus[i + 1]]) if i + 1 < len(taus) else 1.0
            for u in range(resample):
                noisy = math.sqrt(a) * k + math.sqrt(1 - a) * torch.randn(k.shape, generator=gen)
                x = torch.where(mt, noisy, x)
                eps = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))
                x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
                if clip:
                    x0 = x0.clamp(*_clip(clip))
                    eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
                x_prev = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
                if u < resample - 1:
                    r = a / a_prev
                    x = math.sqrt(r) * x_prev + math.sqrt(1 - r) * torch.randn(k.shape, generator=gen)
                else:
                    x = x_prev
    return np.where(m, known, x[:, 0].numpy()).astype(np.float32)


@pytest.mark.parametrize("clip", [True, False, (-0.6, 1.0)])
@pytest.mark.parametrize("variance", ["beta", "posterior"])
def test_ddpm_sample_reproduces_the_replaced_implementation(clip, variance):
    net = random_unet()
    new, _ = sampling.ddpm_sample(net, (2, 1, 8, 8), BETAS, 3, variance=variance, clip=clip)
    np.testing.assert_array_equal(new, old_ddpm_sample(net, (2, 1, 8, 8), BETAS, 3, variance, clip))


@pytest.mark.parametrize("steps,eta,clip", [(10, 0.0, True), (40, 1.0, True), (7, 0.5, False),
                                            (5, 1.0, (-0.6, 1.0))])
def test_ddim_sample_reproduces_the_replaced_implementation(steps, eta, clip):
    net = random_unet()
    new, _ = sampling.ddim_sample(net, (2, 1, 8, 8), df.NoiseSchedule(BETAS), steps, 5, eta=eta, clip=clip)
    np.testing.assert_array_equal(new, old_ddim_sample(net, (2, 1, 8, 8), BETAS, steps, 5, eta, clip))


@pytest.mark.parametrize("steps,resample,clip", [(10, 1, True), (10, 3, (-0.5, 1.0)), (None, 1, False)])
def test_inpaint_reproduces_the_replaced_implementation(steps, resample, clip):
    net = random_unet(UNetConfig(base=8, mults=(1, 2)))
    known = np.random.default_rng(0).uniform(-1, 1, (3, 16, 16)).astype(np.float32)
    new = sampling.inpaint(net, known, half_mask(), BETAS, 1, steps=steps, resample=resample, clip=clip)
    old = old_inpaint(net, known, half_mask(), BETAS, 1, steps=steps, resample=resample, clip=clip)
    np.testing.assert_array_equal(new, old)


def test_rng_may_be_a_generator():
    net = random_unet()
    a, _ = sampling.ddim_sample(net, (2, 1, 8, 8), BETAS, 5, np.random.default_rng(0), eta=1.0)
    b, _ = sampling.ddim_sample(net, (2, 1, 8, 8), BETAS, 5, np.random.default_rng(0), eta=1.0)
    c, _ = sampling.ddim_sample(net, (2, 1, 8, 8), BETAS, 5, np.random.default_rng(1), eta=1.0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="rng"):
        sampling.ddpm_sample(net, (1, 1, 8, 8), BETAS, "seed")


# ----------------------------------------------------------------------------------------------
# the reverse step


def test_reverse_step_ancestral_is_the_posterior_mean_and_ddim_eta1_has_its_variance():
    """Without noise (t = 1 adds none) the ancestral step is mu_tilde(x0_hat, x_t) of Theorem 21.5; with
    clipping off it equals Definition 21.10's mu_theta. DDIM with eta = 1 between consecutive steps
    adds noise of variance beta_tilde_t."""
    s = df.NoiseSchedule(BETAS)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.standard_normal((4, 1, 2, 2)), dtype=torch.float64)
    eps = torch.as_tensor(rng.standard_normal((4, 1, 2, 2)), dtype=torch.float64)
    for t in (1, 2, 20, 40):
        gen = torch.Generator().manual_seed(0)
        got = sampling.reverse_step(x, eps, t, t - 1, s, clip=False, sigma=0.0, generator=gen)
        np.testing.assert_allclose(got.numpy(), s.reverse_mean(x.numpy(), t, eps.numpy()), rtol=1e-12)
        x0_hat = s.predict_x0(x.numpy(), t, eps.numpy())
        np.testing.assert_allclose(got.numpy(), s.q_posterior(x0_hat, x.numpy(), t)[0], rtol=1e-9,
                                   atol=1e-12)
    t = 20
    big = torch.zeros((20000, 1, 1, 1), dtype=torch.float32)
    out = sampling.reverse_step(big, torch.zeros_like(big), t, t - 1, s, clip=False, eta=1.0,
                                generator=torch.Generator().manual_seed(1))
    assert out.var().item() == pytest.approx(s.beta_tilde[t], rel=0.05)


def test_clip_range_and_timesteps():
    assert sampling.clip_range(True) == (-1.0, 1.0) and sampling.clip_range(False) is None
    assert sampling.clip_range((-0.5, 1)) == (-0.5, 1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        sampling.clip_range((1.0, -1.0))
    np.testing.assert_array_equal(sampling.ddim_timesteps(1000, 10)[[0, -1]], [1000, 1])
    assert len(sampling.ddim_timesteps(1000, 100)) == 100
    assert list(sampling.ddim_timesteps(5, 5)) == [5, 4, 3, 2, 1] == list(sampling.ddim_timesteps(5))
    for bad in (0, 1001):
        with pytest.raises(ValueError, match=r"1\.\.1000"):
            sampling.ddim_timesteps(1000, bad)


# ----------------------------------------------------------------------------------------------
# DDPM and DDIM (moved from test_models_part3.py)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim-1", "ddim-5", "ddim-50"])
def test_samplers_recover_a_point_mass(sampler):
    b = df.linear_beta_schedule(50, 1e-3, 0.2)
    model = PointMass(b, 0.3)
    if sampler == "ddpm":
        x, traj = sampling.ddpm_sample(model, (4, 1, 2, 2), b, rng=0, record=(50, 25, 0))
        assert model.calls == 50 and sorted(traj) == [0, 25, 50]
    else:
        steps = int(sampler.split("-")[1])
        x, traj = sampling.ddim_sample(model, (4, 1, 2, 2), b, steps, rng=0, record=True)
        assert model.calls == steps and len(traj) == steps + 1
    np.testing.assert_allclose(x, 0.3, atol=1e-4)


def test_ddim_is_deterministic_and_ddpm_seeded():
    b = df.linear_beta_schedule(50, 1e-3, 0.2)
    net = random_unet(std=0.01)
    a, _ = sampling.ddim_sample(net, (2, 1, 8, 8), b, 10, rng=3)
    c, _ = sampling.ddim_sample(net, (2, 1, 8, 8), b, 10, rng=3)
    np.testing.assert_array_equal(a, c)
    d, _ = sampling.ddpm_sample(net, (2, 1, 8, 8), b, rng=3)
    e, _ = sampling.ddpm_sample(net, (2, 1, 8, 8), b, rng=3)
    f, _ = sampling.ddpm_sample(net, (2, 1, 8, 8), b, rng=4)
    np.testing.assert_array_equal(d, e)
    assert not np.array_equal(d, f)
    with pytest.raises(ValueError, match="eta"):
        sampling.ddim_sample(net, (2, 1, 8, 8), b, 10, rng=3, eta=-1)


# ----------------------------------------------------------------------------------------------
# inpainting (moved from test_landscape.py)


@pytest.mark.parametrize("steps,resample", [(10, 1), (10, 3), (None, 1)])
def test_inpainting_keeps_the_fixed_half_exactly(steps, resample):
    model = random_unet(UNetConfig(base=8, mults=(1, 2)))
    rng = np.random.default_rng(0)
    known = rng.uniform(-1, 1, (3, 16, 16)).astype(np.float32)
    mask = half_mask()
    x = sampling.inpaint(model, known, mask, BETAS, rng=1, steps=steps, resample=resample)
    assert x.shape == known.shape and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, mask], known[:, mask])        # bit for bit
    assert not np.allclose(x[:, ~mask], known[:, ~mask])             # the rest is generated
    assert np.all(np.isfinite(x)) and np.abs(x[:, ~mask]).max() <= 1.0
    np.testing.assert_array_equal(x, sampling.inpaint(model, known, mask, BETAS, rng=1, steps=steps,
                                                      resample=resample))


@pytest.mark.parametrize("resample", [1, 2])
def test_inpainting_with_the_exact_noise_predictor_recovers_the_data(resample):
    c = 0.3
    model = PointMass(BETAS, c)
    known = np.full((2, 16, 16), c, dtype=np.float32)
    known[:, :, 8:] = -1.0  # garbage in the unknown half: it must not leak into the result
    x = sampling.inpaint(model, known, half_mask(), BETAS, rng=0, steps=20, resample=resample)
    np.testing.assert_allclose(x[:, :, 8:], c, atol=1e-4)


def test_inpainting_accepts_per_patch_masks_and_rejects_bad_ones():
    model = PointMass(BETAS, 0.0)
    known = np.zeros((2, 16, 16), dtype=np.float32)
    masks = np.stack([half_mask(), ~half_mask()])
    x = sampling.inpaint(model, known, masks, BETAS, rng=0, steps=5)
    np.testing.assert_array_equal(x[masks], known[masks])
    with pytest.raises(ValueError, match="boolean"):
        sampling.inpaint(model, known, half_mask().astype(int), BETAS, rng=0)
    with pytest.raises(ValueError, match="does not match"):
        sampling.inpaint(model, known, np.ones((8, 8), dtype=bool), BETAS, rng=0)
    with pytest.raises(ValueError, match="resample"):
        sampling.inpaint(model, known, half_mask(), BETAS, rng=0, resample=0)
    with pytest.raises(ValueError, match="steps"):
        sampling.inpaint(model, known, half_mask(), BETAS, rng=0, steps=41)
    with pytest.raises(ValueError, match="lo < hi"):
        sampling.inpaint(model, known, half_mask(), BETAS, rng=0, clip=(1.0, -1.0))
    x = sampling.inpaint(model, known, half_mask(), BETAS, rng=0, steps=5, clip=(-0.5, 0.5))
    assert np.abs(x).max() <= 0.5 + 1e-6
    with pytest.raises(ValueError, match="n, H, W"):
        sampling.inpaint(model, known[0], half_mask(), BETAS, rng=0)


# ----------------------------------------------------------------------------------------------
# comparing the samplers (moved from test_models_ddpm.py with compare_samplers)


def test_compare_samplers_cached(tmp_cache):
    b_cfg = DDPMConfig(T=20, beta_start=1e-3, beta_end=0.2, unet=TINY_UNET)
    net = PointMass(b_cfg.betas(), -0.5)
    r = sampling.compare_samplers(net, b_cfg, 3, (1, 2, 2), ddim_steps=(10, 2), key_parts={"m": 1})
    assert list(r) == ["DDPM", "DDIM-10", "DDIM-2"]
    assert r["DDPM"]["steps"] == 20 and r["DDIM-2"]["samples"].shape == (3, 1, 2, 2)
    calls = net.calls
    r2 = sampling.compare_samplers(net, b_cfg, 3, (1, 2, 2), ddim_steps=(10, 2), key_parts={"m": 1})
    assert net.calls == calls  # from the cache
    np.testing.assert_array_equal(r2["DDIM-10"]["samples"], r["DDIM-10"]["samples"])
    assert r2["DDPM"]["seconds"] == pytest.approx(r["DDPM"]["seconds"])


def test_compare_samplers_rng_generator_matches_its_seed(tmp_cache):
    b_cfg = DDPMConfig(T=20, beta_start=1e-3, beta_end=0.2, unet=TINY_UNET)
    net = PointMass(b_cfg.betas(), 0.2)
    g = np.random.default_rng(5)
    seed = int(np.random.default_rng(5).integers(2**63))
    a = sampling.compare_samplers(net, b_cfg, 2, (1, 2, 2), ddim_steps=(5,), rng=g)
    b = sampling.compare_samplers(net, b_cfg, 2, (1, 2, 2), ddim_steps=(5,), rng=seed)
    np.testing.assert_array_equal(a["DDPM"]["samples"], b["DDPM"]["samples"])


def test_sampler_table():
    rng = np.random.default_rng(0)
    ref = rng.uniform(-1, 1, (20, 4, 4))
    mean_dist = lambda a, b: float(abs(np.mean(a) - np.mean(b)))  # noqa: E731
    runs = {"DDPM": {"samples": np.full((4, 1, 4, 4), -1.0), "seconds": 2.0, "steps": 20, "eta": 1.0},
            "DDIM-5": {"samples": np.zeros((4, 4, 4)), "seconds": 0.5, "steps": 5, "eta": 0.0}}
    table = sampling.sampler_table(runs, mean_dist, ref)
    assert list(table) == ["DDPM", "DDIM-5"]
    assert table["DDPM"]["per_sample"] == 0.5 and table["DDPM"]["floor"] == 1.0
    assert table["DDPM"]["mean"] == -1.0 and table["DDIM-5"]["floor"] == 0.0
    assert table["DDIM-5"]["frechet"] == pytest.approx(abs(ref.mean()))
