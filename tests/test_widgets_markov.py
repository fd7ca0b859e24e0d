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
    # the SoundFont piano: the melody's notes, then 0.3 s of release after the last one
    assert editor.signal.size == pytest.approx(round(24 * 0.5 * 60 / editor.tempo.value * audio.SR)
                                               + round(0.3 * audio.SR), abs=2)
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
    expect = round(40 * 0.5 * 60 / 200 * audio.SR) + round(0.3 * audio.SR)
    assert editor.signal.size == pytest.approx(expect, abs=2)


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


# ---------------------------------------------------------------- the editor's score and save links


def _downloads(files_html: str) -> dict[str, bytes]:
    import base64
    import re

    return {name: base64.b64decode(data) for name, data in
            re.findall(r"<a download='([^']+)'[^>]* href='data:[^;]+;base64,([^']+)'", files_html)}


def test_editor_score_follows_the_melody_and_the_files_reopen(editor):
    from m2d import notation
    from m2d.widgets._common import svg_note_count

    editor.preset.value = "stepwise"
    editor.length.value = 24
    before = editor.score.svg
    assert svg_note_count(before) == len(editor.melody) == 24  # eighths in 4/4: nothing tied
    editor.seed.value = editor.seed.value + 1
    assert editor.score.svg != before and svg_note_count(editor.score.svg) == 24
    editor.length.value = 40
    assert svg_note_count(editor.score.svg) == 40
    want = [[(int(m), 0.5) for m in editor.melody]]
    files = _downloads(editor.score.files.value)
    stem = f"markov-stepwise-seed-{editor.seed.value}"
    assert set(files) == {f"{stem}.mid", f"{stem}.musicxml"}
    assert notation.notes_of(files[f"{stem}.mid"]) == want
    assert notation.notes_of(files[f"{stem}.musicxml"].decode()) == want
    assert editor.score.error is None and editor.score.message.value == ""
    t = editor.last_timing
    assert 0 < t["picture"] <= t["score"] <= t["sound"] <= t["files"]
    svg = editor.score.svg
    editor.tempo.value = 180  # the same melody: the kept score, no new engraving
    assert editor.score.svg is svg


def test_bad_edit_keeps_score_and_files():
    ed = wm.TransitionMatrixEditor(preset="uniform", length=16)
    svg, files = ed.score.svg, ed.score.files.value
    ed.cells[0][7].value = "-1"
    assert "negative" in ed.error and ed.cells[0][7].value == "-1"
    assert ed.score.svg == svg and ed.score.files.value == files  # the last good melody stays
    ed.cells[0][7].value = "500"  # from C (the start) almost surely to G
    assert ed.error is None and ed.melody[1] % 12 == 7 and ed.score.svg != svg
    assert "markov-edited-seed-0.mid" in ed.score.files.value


def test_score_failure_shows_a_message_beside_the_save_links(monkeypatch):
    from m2d import notation
    from m2d.widgets import _common

    ed = wm.TransitionMatrixEditor(preset="uniform", length=16)
    svg, melody = ed.score.svg, ed.melody.copy()

    def broken(*args, **kwargs):
        raise ValueError("Verovio could not read the score's MusicXML")

    monkeypatch.setattr(_common, "engrave_musicxml", broken)
    ed.seed.value = 5
    assert ed.error is None and not np.array_equal(ed.melody, melody)  # the rest still updates
    assert "could not be engraved" in ed.score.error and "Verovio" in ed.score.message.value
    assert ed.score.svg == svg  # the last good score stays
    monkeypatch.undo()
    monkeypatch.setattr(notation, "to_midi", lambda s: (_ for _ in ()).throw(OSError("disk full")))
    ed.seed.value = 6
    assert ed.score.svg != svg  # engraving works again
    assert "could not write the files" in ed.score.error and "disk full" in ed.score.message.value
    monkeypatch.undo()
    ed.seed.value = 7
    assert ed.score.error is None and ed.score.message.value == ""


def test_editor_static_carries_a_score_and_files_per_frame():
    import base64
    import gzip
    import json
    import re

    from m2d import notation

    page = wm.editor_static(preset_names=("stepwise", "Illiac-style"), seeds=(1, 2), length=16).data
    blob = json.loads(re.search(r"<script type='application/json'>(.*?)</script>", page, re.S)
                      .group(1).replace("<\\/", "</"))
    packed = json.loads(gzip.decompress(base64.b64decode(blob["packed"])))
    assert len(blob["frames"]) == 4 and len(packed["svgs"]) == 4  # four different melodies
    for key, f in blob["frames"].items():
        preset, seed = key.split("|")
        svg = packed["svgs"][f["score"]]
        assert svg.count('class="note"') == 16
        stem, midi, xml = packed["files"][f["files"]]
        assert stem == f"markov-{preset}-seed-{seed}"
        notes = notation.notes_of(base64.b64decode(midi))
        assert notes == notation.notes_of(xml) and len(notes[0]) == 16
        caption_notes = f["caption"].split(": ", 1)[1].split()[:12]
        assert [pitch.PITCH_CLASSES[p % 12] for p, _ in notes[0][:12]] == caption_notes


@pytest.mark.parametrize("n", [2, 6, 7, 9, 12])
def test_toy_example_draws_any_size_it_accepts(n):
    """A 7 x 7 matrix used to throw zip() errors into the page under a green status."""
    ex = wm.ToyChainExample()
    P = 0.5 * (np.eye(n) + np.roll(np.eye(n), 1, axis=1))  # stay or step up: exact in decimals
    ex.matrix.value = "\n".join(" ".join(f"{x:g}" for x in row) for row in P)
    assert ex.error is None, ex.error
    np.testing.assert_allclose(ex.Pn, np.linalg.matrix_power(P, ex.n.value), atol=1e-12)
    np.testing.assert_allclose(ex.pi, np.full(n, 1 / n), atol=1e-9)
    ex.n.value = 5  # later changes keep working
    assert ex.error is None


def test_toy_example_refuses_a_too_large_matrix_with_a_message():
    ex = wm.ToyChainExample()
    big = "\n".join(" ".join(["0.5", "0.5"] + ["0"] * 11) for _ in range(13))
    ex.matrix.value = big
    assert ex.error is not None and "13 states" in ex.error and "13 states" in ex.message.value
    assert ex.matrix.value == big  # the edit is kept
