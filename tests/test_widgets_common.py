import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from m2d.widgets import attention as wa
from m2d.widgets import markov as wm
from m2d.widgets._common import BlitFigure


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_blitted_frame_equals_a_full_redraw():
    fig, ax = plt.subplots(figsize=(3, 2))
    im = ax.imshow(np.zeros((4, 4)), vmin=0, vmax=1)
    blit = BlitFigure(fig)
    blit.animate(im)
    first = _pixels(blit.render())
    im.set_data(np.eye(4))
    second = _pixels(blit.render())
    assert np.abs(first - second).sum() > 0  # the update is visible
    im.set_animated(False)  # a full, non-blitted redraw of the same state
    blit.canvas.draw()
    full = np.asarray(blit.canvas.buffer_rgba())[..., :3].astype(int)
    # the same picture: the only differences are the antialiased edge of the axes frame, which
    # blitting paints twice (background, then on top of the image)
    assert np.abs(second - full).max() <= 40
    assert np.mean(np.abs(second - full) > 0) < 0.02
    plt.close(fig)


def test_parse_matrix():
    import pytest

    from m2d.widgets._common import parse_matrix

    np.testing.assert_array_equal(parse_matrix("1 0; 0.5, 0.5"), [[1, 0], [0.5, 0.5]])
    np.testing.assert_array_equal(parse_matrix("1 2\n3 4\n"), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="row 0: 'x'"):
        parse_matrix("1 x\n0 1")
    with pytest.raises(ValueError, match="different lengths"):
        parse_matrix("1 0 0; 1 0")
    with pytest.raises(ValueError, match="empty"):
        parse_matrix(" ;\n ")


def test_strip_tags_removes_markup_and_unescapes():
    from m2d.widgets._common import error_html, ok_html, strip_tags

    assert strip_tags("<b>a</b> &lt;b&gt; &amp; c") == "a <b> & c"
    msg = "row 0 sums to 1.2 < 1.5"
    assert strip_tags(error_html(msg)).endswith(msg)  # the caption reads what the page showed
    assert strip_tags(ok_html("fine")).endswith("fine")


# ---------------------------------------------------------------- the worked example (chapter 4)


def _pixels(png_bytes: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"), dtype=int)


@pytest.mark.parametrize("make, move", [
    (lambda: wm.ToyChainExample(n=2), lambda w: setattr(w.n, "value", 7)),
    (lambda: wa.AttentionExample(), lambda w: setattr(w.temperature, "value", 0.3)),
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


def test_worked_examples_have_a_static_counterpart_in_the_html_build(monkeypatch):
    """No dead controls: while the book is built, a worked example shows a frame player of its own
    pictures over one control, and the control is put back afterwards."""
    from m2d.widgets import attention as wa
    from m2d.widgets import diffusion as wd
    from m2d.widgets import markov as wm

    for ex in (wm.ToyChainExample(n=3), wa.AttentionExample(), wd.PixelDiffusionExample(t=500)):
        before = getattr(ex, ex.STATIC_CONTROL).value
        html = ex.static().data
        assert "m2d-frames" in html and ex.STATIC_TITLE in html
        assert html.count("data:image/png") >= 1 and "<input" in html  # the frame player's slider
        assert getattr(ex, ex.STATIC_CONTROL).value == before
        shown = []
        monkeypatch.setenv("M2D_HTML_BUILD", "1")
        monkeypatch.setattr("IPython.display.display", shown.append)
        ex._ipython_display_()
        monkeypatch.delenv("M2D_HTML_BUILD")
        assert len(shown) == 1 and "m2d-frames" in shown[0].data
