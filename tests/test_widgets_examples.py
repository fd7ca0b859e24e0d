"""Chapter 4 'change the numbers' widgets, driven from Python."""

import numpy as np
import pytest
import torch

from m2d import diffusion, example_chains, markov
from m2d.widgets import examples as ex
from m2d.widgets._common import parse_matrix


def test_toy_chain_example():
    w = ex.ToyChainExample(n=3)
    np.testing.assert_allclose(w.Pn, markov.n_step(example_chains.TOY_CEG, 3))
    np.testing.assert_allclose(w.pi @ w.P, w.pi, atol=1e-12)
    w.matrix.value = "0.5 0.5\n0.25 0.75"
    assert w.error is None and w.P.shape == (2, 2)
    np.testing.assert_allclose(w.pi, [1 / 3, 2 / 3])
    w.matrix.value = "0.5 0.6\n0.25 0.75"
    assert "row 0 sums to 1.1" in w.error
    assert w.matrix.value == "0.5 0.6\n0.25 0.75"  # edit kept
    assert w.P.shape == (2, 2)  # last valid state kept


def test_attention_example_matches_torch():
    w = ex.AttentionExample()
    Q = parse_matrix(w.Q.value)
    K = parse_matrix(w.K.value)
    ref = torch.softmax(torch.tensor(Q @ K.T / np.sqrt(2)), dim=-1).numpy()
    np.testing.assert_allclose(w.weights, ref, atol=1e-12)
    w.temperature.value = 10.0  # high temperature: rows flatten towards uniform
    assert np.abs(w.weights - 1 / 3).max() < 0.05
    w.K.value = "1 0 0\n0 1 0\n1 1 0"
    assert "same feature size" in w.error


@pytest.mark.parametrize("t", [1, 500, 1000])
def test_pixel_diffusion_example(t):
    w = ex.PixelDiffusionExample(t=t, draws=50_000)
    ab = diffusion.alpha_bars(diffusion.linear_beta_schedule(1000))[t]
    s = np.sqrt(1 - ab)
    assert abs(w.samples.mean() - np.sqrt(ab) * 0.8) < 5 * s / np.sqrt(50_000) + 1e-9
    assert w.samples.std() == pytest.approx(s, rel=0.03)
    assert w.image[:4] == b"\x89PNG"


def test_pixel_diffusion_t_follows_T():
    w = ex.PixelDiffusionExample(t=900)
    w.T.value = 200
    assert w.t.value <= 200 and w.error is None
    assert w.alpha_bar.shape == (201,)


def _pixels(png_bytes: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"), dtype=int)


@pytest.mark.parametrize("make, move", [
    (lambda: ex.ToyChainExample(n=2), lambda w: setattr(w.n, "value", 7)),
    (lambda: ex.AttentionExample(), lambda w: setattr(w.temperature, "value", 0.3)),
])
def test_blitted_picture_equals_a_fresh_drawing(make, move):
    """A slider move redraws only the changing artists; the picture must be the one a fresh widget
    at the new value draws from scratch."""
    w = make()
    before = w.image
    move(w)
    assert w.image != before
    fresh = make()
    move(fresh)  # its first picture was drawn in __init__; this move is blitted too, so draw anew:
    fresh._layout = object()
    fresh.update()
    np.testing.assert_array_equal(_pixels(w.image), _pixels(fresh.image))


def test_pixel_example_axes_follow_the_distribution():
    """Sliding t towards 0 shrinks x_t's spread 100-fold: the histogram axis must zoom in with it
    (the density still integrates to 1 over the visible bins)."""
    w = ex.PixelDiffusionExample(t=800)
    wide = w._a1.get_xlim()
    w.t.value = 2
    lo, hi = w._a1.get_xlim()
    ab = w.alpha_bar[2]
    m, s = np.sqrt(ab) * w.x0.value, np.sqrt(1 - ab)
    assert lo < m - 4 * s and m + 4 * s < hi and (hi - lo) < 0.2 * (wide[1] - wide[0])
    dens, edges = w._hist.get_data()[:2]
    assert np.sum(dens * np.diff(edges)) == pytest.approx(1.0, abs=1e-3)
    assert dens.max() <= w._a1.get_ylim()[1]
