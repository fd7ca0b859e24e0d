"""Part I widgets driven from Python, as a reader would drive them in Jupyter."""

import html

import numpy as np
import pytest

from m2d import audio, example_chains, markov, pitch
from m2d.widgets import markov as wm


@pytest.fixture(scope="module")
def editor():
    return wm.TransitionMatrixEditor(preset="Illiac-style", seed=3, length=24)


def test_editor_initial_state(editor):
    assert editor.error is None
    np.testing.assert_allclose(editor.P, example_chains.illiac_matrix(), atol=1e-4)
    np.testing.assert_allclose(editor.pi @ editor.P, editor.pi, atol=1e-12)
    assert len(editor.melody) == 24 and editor.image[:4] == b"\x89PNG"
    assert editor.signal.size == round(24 * 0.5 * 60 / editor.tempo.value * audio.SR)
    assert audio.audio_stats(editor.signal)["rms"] > 0.05


def test_every_preset_loads(editor):
    for name in wm.presets():
        editor.preset.value = name
        assert editor.error is None, name
        markov.check_stochastic(editor.P)


def test_seed_length_start_change_the_melody(editor):
    editor.preset.value = "Illiac-style"
    first = editor.melody.copy()
    editor.seed.value = editor.seed.value + 1
    assert not np.array_equal(first, editor.melody)
    editor.length.value = 40
    assert len(editor.melody) == 40
    editor.start.value = "G"
    assert editor.melody[0] % 12 == 7
    editor.tempo.value = 200
    assert editor.signal.size == round(40 * 0.5 * 60 / 200 * audio.SR)


@pytest.mark.parametrize("text,msg", [
    ("-0.5", "negative"), ("abc", "'abc' is not a number"), ("nan", "finite"),
])
def test_bad_cell_shows_message_and_keeps_edit(text, msg):
    ed = wm.TransitionMatrixEditor(preset="uniform")
    good_P = ed.P.copy()
    ed.cells[2][5].value = text
    assert ed.error is not None and msg in ed.error
    assert html.escape(msg) in ed.message.value  # shown (escaped) beside the grid
    assert ed.cells[2][5].value == text  # the user's edit is kept
    np.testing.assert_array_equal(ed.P, good_P)  # last valid state still shown


def test_zero_row_and_strict_mode():
    ed = wm.TransitionMatrixEditor(preset="uniform")
    for c in ed.cells[4]:
        c.value = "0"
    assert "all zeros" in ed.error
    ed.load_preset()
    assert ed.error is None
    ed.strict.value = True
    ed.cells[0][0].value = "0.5"  # row C now sums to 1.4167
    assert "row 0 sums to" in ed.error
    ed.normalize.click()
    assert ed.error is None
    # the other cells show 1/12 as "0.083": normalising uses what the reader sees
    assert float(ed.cells[0][0].value) == pytest.approx(0.5 / (0.5 + 11 * 0.083), abs=1e-3)


def test_unnormalised_weights_accepted_when_not_strict():
    ed = wm.TransitionMatrixEditor(preset="uniform")
    ed.cells[0][7].value = "5"
    assert ed.error is None
    assert ed.P[0, 7] == pytest.approx(5 / (5 + 11 / 12), rel=1e-3)


def test_power_explorer_tracks_matrix_power():
    ex = wm.PowerExplorer(preset="toy C-E-G", n=2, chains=5000)
    P = wm.presets()["toy C-E-G"]
    np.testing.assert_allclose(ex.Pn, markov.n_step(P, 2))
    assert np.abs(ex.estimate - ex.Pn).max() < 0.04
    ex.n.value = 7
    np.testing.assert_allclose(ex.Pn, markov.n_step(P, 7))
    s = pitch.PITCH_CLASSES.index(ex.start.value)
    assert ex.tv[7] == pytest.approx(markov.tv_distance(ex.Pn[s], markov.stationary_distribution(P)))
    assert np.all(np.diff(ex.tv) <= 1e-12)
    ex.preset.value = "stepwise"
    assert ex.image[:4] == b"\x89PNG"


def test_power_explorer_validates_each_preset_once(monkeypatch):
    calls = []
    check = markov.check_stochastic
    monkeypatch.setattr(markov, "check_stochastic",
                        lambda P, atol=1e-8: calls.append(1) or check(P, atol))
    ex = wm.PowerExplorer(preset="stepwise", n=1, chains=200)
    first = len(calls)
    for n in (2, 3, 4):
        ex.n.value = n
    # per update: one check for the Monte Carlo estimate; the chain itself is kept
    assert len(calls) == first + 3
    assert ex._chain("stepwise") is ex._chain("stepwise")


def test_explorer_static_captions_are_plain_text():
    html_text = wm.explorer_static(preset_names=("stepwise",), ns=(0, 2)).data
    assert "n = 2: max |P^n - Monte Carlo|" in html_text


# ---------------------------------------------------------------- the worked example (chapter 4)


def test_toy_chain_example():
    w = wm.ToyChainExample(n=3)
    np.testing.assert_allclose(w.Pn, markov.n_step(example_chains.TOY_CEG, 3))
    np.testing.assert_allclose(w.pi @ w.P, w.pi, atol=1e-12)
    w.matrix.value = "0.5 0.5\n0.25 0.75"
    assert w.error is None and w.P.shape == (2, 2)
    np.testing.assert_allclose(w.pi, [1 / 3, 2 / 3])
    w.matrix.value = "0.5 0.6\n0.25 0.75"
    assert "row 0 sums to 1.1" in w.error
    assert w.matrix.value == "0.5 0.6\n0.25 0.75"  # edit kept
    assert w.P.shape == (2, 2)  # last valid state kept
