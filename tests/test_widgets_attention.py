"""The attention heatmap explorer, driven without a browser by setting control values."""

import numpy as np
import pytest
import torch

from m2d import audio, ngram
from m2d.models.transformer import MusicTransformer, TransformerConfig
from m2d.widgets import attention as wa
from m2d.widgets._common import parse_matrix


@pytest.fixture(scope="module")
def explorer(bach_split):
    torch.manual_seed(0)
    model = MusicTransformer(TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32,
                                               dropout=0.0, max_rel=8)).eval()
    P = ngram.fit_transition_matrix(bach_split["train"], smoothing=0.1)
    return wa.AttentionExplorer(model, bach_split["test"][:3], P)


def test_parse_melody():
    assert wa.parse_melody("C4 D4 E4 G4").tolist() == [60, 62, 64, 67]
    assert wa.parse_melody("C4, B, D").tolist() == [60, 59, 62]  # no octave: nearest the previous
    with pytest.raises(ValueError, match="'H4' is not a note name"):
        wa.parse_melody("C4 H4 E4")
    with pytest.raises(ValueError, match="at least two"):
        wa.parse_melody("  C4 ")
    with pytest.raises(ValueError, match="at most"):
        wa.parse_melody("C4 " * 200)


def test_initial_state(explorer, bach_split):
    m = bach_split["test"][0]
    assert explorer.pitches.tolist() == m.pitches.tolist()
    assert explorer.image[:8] == b"\x89PNG\r\n\x1a\n"
    c = explorer.numbers
    assert c["A"].shape == (len(m) + 1, len(m) + 1)
    np.testing.assert_allclose(c["row"].sum(), 1.0, atol=1e-6)
    np.testing.assert_allclose(c["pc_mass"].sum() + c["bos_mass"], 1.0, atol=1e-6)
    q = int(c["query"])
    np.testing.assert_allclose(c["markov"], explorer.P[m.pitch_classes[q - 1]])
    np.testing.assert_allclose(c["model"].sum(), 1.0, atol=1e-6)


def test_controls_change_the_picture(explorer):
    before = explorer.image
    explorer.head.value = 1
    assert explorer.image != before and int(explorer.numbers["query"]) >= 1
    explorer.query.value = 3
    assert int(explorer.numbers["query"]) == 3
    assert np.all(explorer.numbers["row"][4:] == 0)  # causal: nothing after the query
    explorer.causal.value = False
    assert np.all(explorer.numbers["row"] > 0)
    explorer.causal.value = True
    flat = explorer.numbers["row"].copy()
    explorer.temperature.value = 4.0
    from m2d.attention import entropy_bits

    assert entropy_bits(explorer.numbers["row"]) > entropy_bits(flat)
    explorer.temperature.value = 1.0
    explorer.layer.value = 1
    assert explorer.error is None


def test_typed_melody_and_bad_text(explorer):
    explorer.source.value = "typed"
    explorer.text.value = "C4 E4 G4 C5 G4 E4 C4"
    assert explorer.pitches.tolist() == [60, 64, 67, 72, 67, 64, 60]
    assert explorer.query.max == 7 and explorer.error is None
    good_image = explorer.image
    explorer.text.value = "C4 E4 X9 G4"
    assert explorer.error == "'X9' is not a note name (expected e.g. C, F#, Bb or C4)"
    assert "X9" in explorer.message.value and "is not a note name" in explorer.message.value
    assert explorer.text.value == "C4 E4 X9 G4"  # the user's text is kept
    assert explorer.pitches.tolist() == [60, 64, 67, 72, 67, 64, 60]  # and the last good melody
    assert explorer.image == good_image
    explorer.text.value = "C4 D4"
    assert explorer.error is None and explorer.message.value == ""
    explorer.source.value = "corpus"


def test_sampled_melody_and_audio(explorer, bach_split):
    m = bach_split["test"][1]
    explorer.melody.value = 1
    explorer.source.value = "sampled"
    assert explorer.pitches.size == len(m)
    assert (explorer.pitches[:4] % 12).tolist() == m.pitch_classes[:4].tolist()
    first = explorer.pitches.copy()
    explorer.seed.value = 5
    explorer.seed.value = 0
    assert explorer.pitches.tolist() == first.tolist()  # the same seed gives the same sample
    for y in (explorer.signal, explorer.highlighted):
        s = audio.audio_stats(y)
        assert s["seconds"] > 0 and s["rms"] > 0.01 and s["clipped_fraction"] == 0
    explorer.source.value = "corpus"


def test_highlight_gains():
    g = wa.highlight_gains(np.array([0.0, 0.5, 1.0, 0.25]), floor=0.2)
    np.testing.assert_allclose(g, [0.2, 0.6, 1.0, 0.4])


def test_rejects_bad_markov_matrix(bach_split):
    model = MusicTransformer(TransformerConfig(d_model=16, n_heads=2, n_layers=1, d_ff=16))
    with pytest.raises(ValueError, match="12 x 12"):
        wa.AttentionExplorer(model, bach_split["test"][:1], np.eye(3))
    with pytest.raises(ValueError, match="at least one"):
        wa.AttentionExplorer(model, [], np.eye(12))


def test_static_counterpart(bach_split):
    torch.manual_seed(0)
    model = MusicTransformer(TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32,
                                               dropout=0.0, max_rel=8)).eval()
    P = ngram.fit_transition_matrix(bach_split["train"], smoothing=0.1)
    html = wa.explorer_static(model, bach_split["test"][:2], P, query=5).data
    assert html.count("data:image/png") >= 4 and "data:audio/mpeg" in html
    assert "layer" in html and "head" in html


def test_melody_change_relayout_equals_a_fresh_explorer(bach_split):
    """Changing the melody re-limits and re-ticks the existing axes instead of rebuilding them; the
    picture must be exactly what a new explorer draws for that melody."""
    import io

    from PIL import Image

    torch.manual_seed(0)
    model = MusicTransformer(TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32,
                                               dropout=0.0, max_rel=8)).eval()
    P = ngram.fit_transition_matrix(bach_split["train"], smoothing=0.1)
    melodies = bach_split["test"][:3]
    assert len({len(m) for m in melodies}) > 1  # the lengths differ: the axes must be re-laid out
    moved = wa.AttentionExplorer(model, melodies, P, sound=False)
    moved.melody.value = 2
    moved.melody.value = 1
    fresh = wa.AttentionExplorer(model, [melodies[1]], P, sound=False)
    assert moved.pitches.tolist() == fresh.pitches.tolist()
    moved.query.value = fresh.query.value

    def pixels(png):
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)

    np.testing.assert_array_equal(pixels(moved.image), pixels(fresh.image))
    assert len(moved.ax_row.patches) == len(melodies[1]) + 1  # the old melody's bars are gone


# ---------------------------------------------------------------- the worked example (chapter 4)


def test_attention_example_matches_torch():
    w = wa.AttentionExample()
    Q = parse_matrix(w.Q.value)
    K = parse_matrix(w.K.value)
    ref = torch.softmax(torch.tensor(Q @ K.T / np.sqrt(2)), dim=-1).numpy()
    np.testing.assert_allclose(w.weights, ref, atol=1e-12)
    w.temperature.value = 10.0  # high temperature: rows flatten towards uniform
    assert np.abs(w.weights - 1 / 3).max() < 0.05
    w.K.value = "1 0 0\n0 1 0\n1 1 0"
    assert "same feature size" in w.error


# ---------------------------------------------------------------- the explorer's score and save links


def _downloads(files_html: str) -> dict[str, bytes]:
    import base64
    import re

    return {name: base64.b64decode(data) for name, data in
            re.findall(r"<a download='([^']+)'[^>]* href='data:[^;]+;base64,([^']+)'", files_html)}


def test_score_follows_the_melody_and_the_files_reopen(explorer, bach_split):
    from m2d import notation
    from m2d.widgets._common import svg_note_count

    explorer.source.value = "corpus"
    explorer.melody.value = 0
    m = bach_split["test"][0]
    assert svg_note_count(explorer.score.svg) == len(m)  # notes tied over a bar line count once
    key = "C" if m.mode == "major" else "c"
    assert explorer.score.stream.recurse().getElementsByClass("KeySignature")[0].sharps == \
        (0 if key == "C" else -3)
    svg = explorer.score.svg
    explorer.head.value = 1 - explorer.head.value  # not the melody: the score is not redone
    explorer.query.value = 2
    assert explorer.score.svg is svg
    explorer.source.value = "typed"
    explorer.text.value = "D4 F#4 A4 D5 A4 F#4 E4 D4"
    assert explorer.score.svg != svg and svg_note_count(explorer.score.svg) == 8
    want = [[(p, 1.0) for p in (62, 66, 69, 74, 69, 66, 64, 62)]]
    files = _downloads(explorer.score.files.value)
    assert set(files) == {"typed-melody.mid", "typed-melody.musicxml"}
    assert notation.notes_of(files["typed-melody.mid"]) == want
    assert notation.notes_of(files["typed-melody.musicxml"].decode()) == want
    assert explorer.score.stream.recurse().getElementsByClass("KeySignature")[0].sharps == 2  # D
    explorer.text.value = "D4 F#4 Q4"  # bad text: message, text kept, the score stays
    assert "'Q4' is not a note name" in explorer.error and explorer.text.value == "D4 F#4 Q4"
    assert svg_note_count(explorer.score.svg) == 8 and "typed-melody.mid" in explorer.score.files.value
    t = explorer.last_timing
    assert 0 < t["picture"] <= t["score"] <= t["sound"] <= t["files"]
    explorer.source.value = "sampled"
    name = f"{m.id.rsplit('/', 1)[-1]}-transformer-seed-{explorer.seed.value}"
    files = _downloads(explorer.score.files.value)
    assert notation.notes_of(files[f"{name}.mid"]) == [
        list(zip(explorer.pitches.tolist(), explorer.durations.tolist(), strict=True))]
    explorer.source.value = "corpus"


def test_static_counterpart_stores_the_melody_score_once(bach_split):
    import base64
    import gzip
    import json
    import re

    from m2d import notation
    from m2d.widgets._common import svg_note_count

    torch.manual_seed(0)
    model = MusicTransformer(TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32,
                                               dropout=0.0, max_rel=8)).eval()
    P = ngram.fit_transition_matrix(bach_split["train"], smoothing=0.1)
    page = wa.explorer_static(model, bach_split["test"][:2], P, melody_index=1, query=5).data
    blob = json.loads(re.search(r"<script type='application/json'>(.*?)</script>", page, re.S)
                      .group(1).replace("<\\/", "</"))
    packed = json.loads(gzip.decompress(base64.b64decode(blob["packed"])))
    assert len(blob["frames"]) == 4 and {f["score"] for f in blob["frames"].values()} == {0}
    m = bach_split["test"][1]
    assert svg_note_count(packed["svgs"][0]) == len(m)
    stem, midi, xml = packed["files"][0]
    assert stem == m.id.rsplit("/", 1)[-1]
    want = [list(zip(m.pitches.tolist(), m.durations.tolist(), strict=True))]
    assert notation.notes_of(base64.b64decode(midi)) == notation.notes_of(xml) == want


def test_analysed_key_is_the_key_music21_hears():
    from m2d import notation
    from m2d.widgets._common import analysed_key

    melodies = [([62, 64, 66, 67, 69, 71, 73, 74], 1.0),  # D major scale
                ([69, 71, 72, 74, 76, 77, 80, 81, 76, 69], 0.5),  # a minor, raised seventh
                ([70, 74, 77, 75, 74, 72, 70], [1, 1, 1, 0.5, 0.5, 1, 2])]
    for pitches, durations in melodies:
        d = np.broadcast_to(durations, (len(pitches),)).tolist()
        name = analysed_key(pitches, d)
        heard = notation.melody_score(pitches, d).recurse().getElementsByClass("Key")[0]
        given = notation.melody_score(pitches, d, key=name).recurse().getElementsByClass("Key")[0]
        assert (given.tonic.name, given.mode) == (heard.tonic.name, heard.mode), name
    from music21.key import Key  # the signature is what the score shows: 2 sharps, none, 2 flats

    assert [Key(analysed_key(p, np.broadcast_to(d, (len(p),)))).sharps for p, d in melodies] == [2, 0, -2]
