"""Accessibility of what m2d puts into the pages (issue 16): every audio player and frame player has
an accessible name that says what it plays or shows, the frame player is operated by keyboard alone
(and tells a screen reader what changed), and axe-core finds nothing serious in it.

The book's pages as a whole are audited by ``tests/test_browser.py::test_page_passes_axe``.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest

from m2d import audio, players, static


def _png(i: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _tone(i: int) -> np.ndarray:
    return audio.synthesize([60 + i], 1.0, tempo=60)


def _names(page: str) -> list[str]:
    return re.findall(r"<audio[^>]*aria-label=\"([^\"]*)\"", page)


def test_player_is_named_and_escapes_its_name():
    y = _tone(0)
    assert _names(players.play(y)._repr_html_()) == ["sound clip"]
    page = players.listen(y, label='Bach "chorale" <soprano>')._repr_html_()
    assert _names(page) == ["Bach &quot;chorale&quot; &lt;soprano&gt;"]
    assert players.play(y, label="   ").label == "sound clip"  # never an empty name
    assert _names(players.play_melody([60, 62], 0.5)._repr_html_()) == ["synthesized melody"]


def test_players_table_names_each_cell_by_row_and_column():
    page = players.players_html({"real": [("seed 0", _tone(0)), ("seed 1", _tone(2))]})
    assert _names(page) == ["real: seed 0", "real: seed 1"]


def _player_page() -> str:
    params = {"noise": ["low", "high"], "seed": [0, 1]}
    frames = {(n, s): static.Frame(_png(2 * i + s), audio.encode_mp3(_tone(2 * i + s), audio.SR),
                                   f"{n} noise, seed {s}")
              for i, n in enumerate(params["noise"]) for s in params["seed"]}
    return static.frame_player_html(params, frames, title="Forward process", sliders=("seed",))


def test_frame_player_names_its_group_picture_and_sound():
    page = _player_page()
    assert "role='group' aria-label='Forward process'" in page
    assert "<img alt='Forward process: low noise, seed 0'" in page
    assert "aria-label='sound of Forward process: low noise, seed 0'" in page
    assert "aria-live='polite'" in page
    # every control is a native, labelled form element (keyboard-operable, named by its label)
    controls = re.findall(r"<label><span class='m2d-pname'>(\w+)</span> <(input|select)", page)
    assert controls == [("noise", "select"), ("seed", "input")]


def test_frame_player_by_keyboard_and_axe(tmp_path, request):
    """Tab to each control, change it with the arrow keys: picture, alt text, caption and sound
    follow; axe-core reports no serious or critical violation in the player."""
    from conftest import CHROMIUM
    from test_browser import AXE, AXE_FAIL, axe_violations

    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM) or not AXE.exists():
        pytest.skip("Chromium or axe-core missing (make test installs them)")
    browser = request.getfixturevalue("browser")
    path = tmp_path / "player.html"
    path.write_text("<!doctype html><html lang='en'><head><title>player</title></head><body><main>"
                    f"{_player_page()}</main></body></html>", encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    state = """() => { const r = document.querySelector('.m2d-frames');
        return [r.querySelector('img').alt, r.querySelector('.m2d-caption').textContent,
                r.querySelector('audio').getAttribute('aria-label'), r.querySelector('img').src]; }"""
    first = page.evaluate(state)
    page.keyboard.press("Tab")  # the drop-down list
    assert page.evaluate("() => document.activeElement.dataset.param") == "noise"
    page.keyboard.press("ArrowDown")
    second = page.evaluate(state)
    page.keyboard.press("Tab")  # the slider
    assert page.evaluate("() => document.activeElement.dataset.param") == "seed"
    page.keyboard.press("ArrowRight")
    third = page.evaluate(state)
    found = axe_violations(page)
    page.close()
    assert first[:3] == ["Forward process: low noise, seed 0", "low noise, seed 0",
                         "sound of Forward process: low noise, seed 0"]
    assert second[:2] == ["Forward process: high noise, seed 0", "high noise, seed 0"]
    assert third[:3] == ["Forward process: high noise, seed 1", "high noise, seed 1",
                         "sound of Forward process: high noise, seed 1"]
    assert len({first[3], second[3], third[3]}) == 3  # the picture changed each time
    assert not errors, errors
    bad = [(v["id"], v["nodes"][:2]) for v in found if v["impact"] in AXE_FAIL]
    assert not bad, bad


# --- figures: alt text generated with the figure --------------------------------------------------


def test_describe_says_what_each_panel_shows():
    import matplotlib.pyplot as plt

    from m2d import plotting

    # the helpers say what they drew, with its numbers
    M = np.array([[0.1, 0.9], [0.6, 0.4]])
    fig, ax, _ = plotting.matrix_heatmap(M, ["C", "G"], title="$P$")
    assert plotting.describe(fig) == ('Figure: "P", heatmap of a 2 by 2 matrix (rows: current, '
                                      'columns: next), values from 0.1 to 0.9, largest at C to G')
    fig, ax, _ = plotting.piano_roll([60, 64, 67, 72], [1, 1, 1, 2])
    assert plotting.describe(fig) == ("Figure: piano roll of a melody of 4 notes from C4 to C5 "
                                      "over 5 quarter notes")
    fig, _, _ = plotting.show_patches(np.zeros((2, 4, 4)), titles=["real", "$t=10$"])
    assert plotting.describe(fig) == ("2 mel-spectrogram patches side by side (low frequencies at "
                                      "the bottom, time to the right): real, t=10")
    # any other figure: its panels, titles, axis labels and legend, read from the figure
    fig, axes = plt.subplots(1, 2)
    axes[0].plot(np.arange(5), label="exact")
    axes[0].plot(np.arange(5) ** 0.5, label="Monte Carlo")
    axes[0].legend()
    axes[0].set_xlabel("step $n$")
    axes[1].bar([0, 1, 2], [3, 1, 2])
    axes[1].set_title("counts")
    fig.suptitle("Two views")
    assert plotting.describe(fig) == ('Figure "Two views": 2 panels: (1) line plot of 2 curves '
                                      '(x: step n; legend: exact, Monte Carlo); (2) bar chart "counts"')
    plotting.set_alt(fig, "  Exact and simulated\nprobabilities side by side. ")
    assert plotting.describe(fig) == "Exact and simulated probabilities side by side."
    plt.close("all")


def test_png_carries_the_alt_text():
    import matplotlib.pyplot as plt

    from m2d import plotting

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    png = plotting.png_with_alt(buf.getvalue(), "Ein Ton √2 中文")
    assert plotting.alt_of_png(png) == "Ein Ton √2 中文"
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:  # still a valid image, same size
        im.load()
        assert im.size == (int(fig.get_figwidth() * fig.dpi), int(fig.get_figheight() * fig.dpi))
    with pytest.raises(ValueError, match="not a PNG"):
        plotting.png_with_alt(b"GIF89a...", "x")


def test_kernel_figures_carry_their_description(tmp_path):
    """In a real kernel (as the book executes its chapters) a figure shown by the inline backend
    carries its description, and the book's Sphinx extension reads it back as alt text."""
    import base64
    import sys

    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    from m2d_sphinx import _png_description

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nimport matplotlib.pyplot as plt\n"
                                          "from m2d import plotting"),
                # the kernel's first figure, shown mid-cell by plain matplotlib
                nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2, 4])\n"
                                          "ax.set_xlabel('step')\nplt.show()\nprint('next')"),
                nbformat.v4.new_code_cell("plotting.distribution_bars(np.full(12, 1 / 12), "
                                          "title='uniform');")]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    alts = []
    for cell in nb.cells[1:]:
        pngs = [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 1
        path = tmp_path / "figure.png"
        path.write_bytes(base64.b64decode(pngs[0]))
        alts.append(_png_description(path))
    assert alts == ["Figure: line plot (x: step)",
                    'Figure: "uniform", bar chart of probabilities over 12 states, highest C at 0.08']


def test_large_figures_get_a_palette_without_visible_loss():
    """The HTML build re-encodes big PNGs with a 256-colour palette (page weight): a noise-like
    magma heatmap, as Part III's spectrograms are, gets smaller and keeps its pixels within a few
    levels of 255."""
    import sys

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    from m2d_sphinx import palette_png
    from PIL import Image

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.imshow(np.random.default_rng(0).random((64, 128)), cmap="magma", aspect="auto")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    raw = buf.getvalue()
    small = palette_png(raw)
    assert len(small) < len(raw)
    a = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), dtype=int)
    d = np.abs(a - b)
    assert a.shape == b.shape and d.mean() < 1 and np.percentile(d, 99) < 10
