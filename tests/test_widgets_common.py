import io

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

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
