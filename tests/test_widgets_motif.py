"""Tests of m2d.widgets.motif: one motif, three composers (live widget and static counterpart)."""

import numpy as np
import pytest
import torch

from m2d import ngram, notation
from m2d.models import lstm, transformer
from m2d.pitch import DURATION_BINS
from m2d.widgets import motif as motif_widgets

TRAIN = [(np.array([0, 4, 7, 4, 0, 2, 4, 5, 7, 9, 7, 5, 4, 2, 0]),
          np.array([0.5, 0.5, 1, 1, 2, 0.5, 0.5, 1, 1, 1, 0.5, 0.5, 1, 1, 4]))] * 3


@pytest.fixture(scope="module")
def composers():
    torch.manual_seed(0)
    tf = transformer.MusicTransformer(transformer.TransformerConfig(
        d_model=16, n_heads=2, n_layers=1, d_ff=32, rhythm=True)).eval()
    rnn = lstm.MelodyLSTM(lstm.LSTMConfig(d_embed=16, hidden=16, rhythm=True)).eval()
    markov = ngram.FactoredNGram(pitch_order=2, duration_order=1, alpha=0.1).fit(TRAIN)
    return {"Markov": markov, "Transformer": tf, "LSTM": rnn}


def test_compose_answers_every_composer_reproducibly(composers):
    mp, md = np.array([60, 64, 67]), np.array([0.5, 0.5, 1.0])
    a = motif_widgets.compose(composers, mp, md, n_notes=6, rng=3)
    b = motif_widgets.compose(composers, mp, md, n_notes=6, rng=3)
    assert list(a) == ["Markov", "Transformer", "LSTM"]
    for name, (p, d, lp) in a.items():
        assert p.size == d.size == 6 and set(d) <= set(DURATION_BINS)
        assert np.isfinite(lp) and lp < 0
        np.testing.assert_array_equal(p, b[name][0])
    with pytest.raises(ValueError, match="empty"):
        motif_widgets.compose({}, mp, md)


def test_live_widget_scores_and_bad_motifs(composers):
    w = motif_widgets.MotifComposers(composers, motif="C4/8 E4/8 G4/4", n_notes=5, seed=1)
    assert w.error is None and set(w.answers) == set(composers)
    for name, (p, d, _) in w.answers.items():
        expected = list(zip([60, 64, 67, *p.tolist()], [0.5, 0.5, 1.0, *d.tolist()], strict=True))
        assert w.scores[name].notes == expected
        assert notation.notes_of(w.scores[name].midi)[0] == [(int(a), float(b)) for a, b in expected]
        assert "data:audio/mpeg;base64," in w.sounds[name].value
        assert "log<sub>2</sub>" in w.titles[name].value
    before = {n: s.svg for n, s in w.scores.items()}
    for bad, match in (("C4/8 H4/8", "H4/8"), ("", "empty"), ("C4/0", "/0"), ("C11/4", "MIDI")):
        w.text.value = bad
        assert match in w.error and match in w.status.value
        assert w.text.value == bad  # the reader's edit is kept
        assert {n: s.svg for n, s in w.scores.items()} == before  # the last answers stay
    w.preset.value = "falling line"
    assert w.error is None and w.text.value == motif_widgets.PRESET_MOTIFS["falling line"]
    assert w.motif[0].tolist() == [72, 71, 69, 67]


def test_static_frame_score_sound_and_files_agree(composers):
    from m2d.widgets._common import svg_note_count

    frame = motif_widgets.motif_frame(composers, "C4/8 E4/8 G4/4", seed=2, n_notes=4, tempo=120)
    answers = motif_widgets.compose(composers, [60, 64, 67], [0.5, 0.5, 1.0], 4, rng=2)
    expected = []
    for p, d, _ in answers.values():
        expected += list(zip([60, 64, 67, *p.tolist()], [0.5, 0.5, 1.0, *d.tolist()], strict=True))
    assert notation.notes_of(frame.score.midi)[0] == expected
    assert notation.notes_of(frame.score.musicxml)[0] == expected
    # every note engraved (a tie broken over a line end is drawn twice, so count at least)
    assert svg_note_count(frame.score.svg) >= len(expected) - 2
    assert all(f">{name}<" in frame.score.svg for name in composers)  # the section labels
    # the sound lasts the score: three sections, each filled to whole 4/4 bars, at 120 bpm
    import io

    import soundfile

    y, sr = soundfile.read(io.BytesIO(frame.audio))
    bars = sum(np.ceil((2.0 + d.sum()) / 4) for _, d, _ in answers.values())
    assert abs(len(y) / sr - bars * 4 * 0.5) < 1.5
    assert frame.image[:4] == b"\x89PNG" and "seed 2" in frame.caption
    with pytest.raises(ValueError, match="H4"):
        motif_widgets.motif_frame(composers, "H4/4")
    html = motif_widgets.composers_static(composers, motifs={"triad": "C4/8 E4/8 G4/4"},
                                          seeds=(0, 1), n_notes=4).data
    assert "One motif, three composers" in html and html.count("<svg") >= 1
    assert html.count("data:audio/mpeg") + html.count("audio/mpeg") >= 1
