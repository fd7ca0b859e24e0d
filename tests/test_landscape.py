"""The landscape chapter's helpers: editing a Markov row, diffusion inpainting (the fixed half is kept
exactly), attention memory of long token sequences, the cached generation results."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from m2d import diffusion as df
from m2d import landscape, markov
from m2d.models.unet import UNet, UNetConfig

BETAS = df.linear_beta_schedule(40, 1e-3, 0.2)


class PointMassEps(nn.Module):
    """The exact noise predictor when all data equal the constant image c:
    eps*(x_t, t) = (x_t - sqrt(abar_t) c) / sqrt(1 - abar_t)."""

    def __init__(self, c: float, betas):
        super().__init__()
        self.c = c
        self.ab = torch.tensor(df.alpha_bars(betas), dtype=torch.float32)

    def forward(self, x, t):
        a = self.ab[t].view(-1, 1, 1, 1)
        return (x - a.sqrt() * self.c) / (1 - a).sqrt()


def half_mask(h=16, w=16):
    m = np.zeros((h, w), dtype=bool)
    m[:, : w // 2] = True
    return m


# ----------------------------------------------------------------------------------------------
# Markov control


def test_edit_row_changes_one_row_only():
    P = markov.stepwise_matrix(0.5)
    new = np.zeros(12)
    new[6] = 2.0
    Q = landscape.edit_row(P, 0, new)
    markov.check_stochastic(Q)
    assert Q[0, 6] == 1.0
    np.testing.assert_array_equal(Q[1:], P[1:])
    assert P[0, 6] == 0.0 or P[0, 6] != 1.0  # the input is not modified
    with pytest.raises(ValueError, match="12 entries"):
        landscape.edit_row(P, 0, np.ones(5))
    with pytest.raises(ValueError, match="not all zero"):
        landscape.edit_row(P, 0, np.zeros(12))
    with pytest.raises(ValueError, match="non-negative"):
        landscape.edit_row(P, 0, -np.ones(12))
    with pytest.raises(ValueError, match="row index"):
        landscape.edit_row(P, 12, np.ones(12))


# ----------------------------------------------------------------------------------------------
# inpainting


@pytest.mark.parametrize("steps,resample", [(10, 1), (10, 3), (None, 1)])
def test_inpainting_keeps_the_fixed_half_exactly(steps, resample):
    torch.manual_seed(0)
    model = UNet(UNetConfig(base=8, mults=(1, 2))).eval()
    with torch.no_grad():  # an untrained but non-trivial network (the output layer is zero at init)
        model.out.weight.normal_(0, 0.1)
    rng = np.random.default_rng(0)
    known = rng.uniform(-1, 1, (3, 16, 16)).astype(np.float32)
    mask = half_mask()
    x = landscape.inpaint(model, known, mask, BETAS, seed=1, steps=steps, resample=resample)
    assert x.shape == known.shape and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, mask], known[:, mask])        # bit for bit
    assert not np.allclose(x[:, ~mask], known[:, ~mask])             # the rest is generated
    assert np.all(np.isfinite(x)) and np.abs(x[:, ~mask]).max() <= 1.0
    np.testing.assert_array_equal(x, landscape.inpaint(model, known, mask, BETAS, seed=1, steps=steps,
                                                       resample=resample))


@pytest.mark.parametrize("resample", [1, 2])
def test_inpainting_with_the_exact_noise_predictor_recovers_the_data(resample):
    c = 0.3
    model = PointMassEps(c, BETAS)
    known = np.full((2, 16, 16), c, dtype=np.float32)
    known[:, :, 8:] = -1.0  # garbage in the unknown half: it must not leak into the result
    x = landscape.inpaint(model, known, half_mask(), BETAS, seed=0, steps=20, resample=resample)
    np.testing.assert_allclose(x[:, :, 8:], c, atol=1e-4)


def test_inpainting_accepts_per_patch_masks_and_rejects_bad_ones():
    model = PointMassEps(0.0, BETAS)
    known = np.zeros((2, 16, 16), dtype=np.float32)
    masks = np.stack([half_mask(), ~half_mask()])
    x = landscape.inpaint(model, known, masks, BETAS, seed=0, steps=5)
    np.testing.assert_array_equal(x[masks], known[masks])
    with pytest.raises(ValueError, match="boolean"):
        landscape.inpaint(model, known, half_mask().astype(int), BETAS, seed=0)
    with pytest.raises(ValueError, match="does not match"):
        landscape.inpaint(model, known, np.ones((8, 8), dtype=bool), BETAS, seed=0)
    with pytest.raises(ValueError, match="resample"):
        landscape.inpaint(model, known, half_mask(), BETAS, seed=0, resample=0)
    with pytest.raises(ValueError, match="steps"):
        landscape.inpaint(model, known, half_mask(), BETAS, seed=0, steps=41)
    with pytest.raises(ValueError, match="lo < hi"):
        landscape.inpaint(model, known, half_mask(), BETAS, seed=0, clip=(1.0, -1.0))
    x = landscape.inpaint(model, known, half_mask(), BETAS, seed=0, steps=5, clip=(-0.5, 0.5))
    assert np.abs(x).max() <= 0.5 + 1e-6
    with pytest.raises(ValueError, match="n, H, W"):
        landscape.inpaint(model, known[0], half_mask(), BETAS, seed=0)


def test_seam_jump():
    x = np.zeros((2, 4, 6))
    x[1, :, 3:] = 1.0
    np.testing.assert_array_equal(landscape.seam_jump(x, 3), [0.0, 1.0])
    with pytest.raises(ValueError, match="frame"):
        landscape.seam_jump(x, 0)


# ----------------------------------------------------------------------------------------------
# attention memory (Limit 2)


def test_codec_sequence_length():
    assert landscape.codec_sequence_length(240, 50, 4, interleaved=True) == 12_000
    assert landscape.codec_sequence_length(240, 50, 4, interleaved=False) == 48_000
    assert landscape.codec_sequence_length(0.01, 50, 1) == 1
    with pytest.raises(ValueError):
        landscape.codec_sequence_length(-1)


def test_attention_matrix_bytes():
    assert landscape.attention_matrix_bytes(1000) == 4_000_000
    assert landscape.attention_matrix_bytes(10, n_heads=2, n_layers=3, bytes_per_value=2) == 1200
    with pytest.raises(ValueError):
        landscape.attention_matrix_bytes(0)


def test_fit_quadratic_memory_recovers_the_constant():
    ns = np.array([64, 128, 256])
    assert landscape.fit_quadratic_memory(ns, 24.0 * ns**2) == pytest.approx(24.0)
    with pytest.raises(ValueError):
        landscape.fit_quadratic_memory([0], [1])


# ----------------------------------------------------------------------------------------------
# cache


def test_cached_arrays_builds_once(tmp_cache):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(3), "seconds": 1.5}

    a = landscape.cached_arrays("demo", {"k": 1}, build)
    b = landscape.cached_arrays("demo", {"k": 1}, build)
    assert calls == [1]
    np.testing.assert_array_equal(a["x"], b["x"])
    assert b["seconds"] == 1.5 and isinstance(b["seconds"], float)
    r, secs = landscape.timed(lambda: math.sqrt(4))
    assert r == 2 and secs >= 0


def test_model_fingerprint_changes_with_the_weights():
    torch.manual_seed(0)
    a = nn.Linear(3, 2)
    fa = landscape.model_fingerprint(a)
    assert fa == landscape.model_fingerprint(a) and len(fa) == 16
    with torch.no_grad():
        a.weight[0, 0] += 1e-3
    assert landscape.model_fingerprint(a) != fa


def test_patches_audio_is_audible_and_unclipped():
    from m2d import audio, spectro

    _, s_db = spectro.melody_log_mel([60, 64, 67, 72], [1, 1, 1, 1], tempo=180.0)
    x = spectro.db_to_unit(s_db)[:, :64]
    y = landscape.patches_audio(np.stack([x, x]), n_iter=4, gap=0.1)
    st = audio.audio_stats(y)
    assert st["seconds"] > 2 * 63 * audio.HOP / audio.SR
    assert st["rms"] > 0.01 and st["peak"] <= 0.8 + 1e-6 and st["clipped_fraction"] == 0.0
    with pytest.raises(ValueError, match="gap"):
        landscape.patches_audio(x[None], gap=-1)


def test_format_bytes():
    assert landscape.format_bytes(512) == "512 B"
    assert landscape.format_bytes(1536) == "1.5 KiB"
    assert landscape.format_bytes(3 * 2**30) == "3.0 GiB"
    assert landscape.format_bytes(5 * 2**50) == "5,120.0 TiB"
    with pytest.raises(ValueError):
        landscape.format_bytes(-1)
