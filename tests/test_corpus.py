import numpy as np
import pytest

from m2d import corpus


@pytest.mark.parametrize("source,minimum", [("bach", 300), ("essen", 450)])
def test_melodies_are_real_and_in_range(source, minimum):
    ms = corpus.load_melodies(source)
    assert len(ms) >= minimum
    ids = [m.id for m in ms]
    assert len(set(ids)) == len(ids)
    for m in ms:
        assert len(m) >= corpus.MIN_NOTES
        assert m.pitches.dtype.kind == "i" and m.pitches.shape == m.durations.shape
        assert 36 <= m.pitches.min() and m.pitches.max() <= 96, m.id
        assert np.all(m.durations > 0)
        assert m.tonic == 0  # transposed to C by default
        assert m.mode in ("major", "minor")


def test_transposition_keeps_intervals():
    orig = corpus.load_melodies("bach", transpose_to=None)
    moved = corpus.load_melodies("bach", transpose_to=0)
    for a, b in zip(orig[:50], moved[:50], strict=True):
        assert np.array_equal(np.diff(a.pitches), np.diff(b.pitches))
        shift = b.pitches[0] - a.pitches[0]
        assert -6 <= shift <= 5
        assert (a.tonic + shift) % 12 == 0


def test_split_is_deterministic_disjoint_and_sized():
    ms = corpus.load_melodies("bach")
    s1, s2 = corpus.train_val_test(ms), corpus.train_val_test(list(reversed(ms)))
    for k in s1:
        assert {m.id for m in s1[k]} == {m.id for m in s2[k]}
    ids = [{m.id for m in s1[k]} for k in ("train", "val", "test")]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert sum(map(len, ids)) == len(ms)
    frac = len(ids[0]) / len(ms)
    assert 0.72 < frac < 0.88
    assert min(len(ids[1]), len(ids[2])) >= 20


def test_split_of_rejects_bad_fractions():
    with pytest.raises(ValueError, match="summing to 1"):
        corpus.split_of("x", (0.5, 0.5, 0.5))


def test_unknown_source_and_file():
    with pytest.raises(ValueError, match="unknown source"):
        corpus.load_melodies("mozart")
    with pytest.raises(ValueError, match="unknown Essen file"):
        corpus._essen_paths(["nope"])


def test_music21_import_leaves_notebook_figures_alone(tmp_path):
    """In a Jupyter kernel, loading the corpus must not switch later figures to music21's 'retina'
    format (four times the pixels: the book's pages would double in weight)."""
    import base64
    import io

    import nbclient
    import nbformat
    from PIL import Image

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import time\nimport matplotlib.pyplot as plt\nfrom m2d import corpus\n"
        "corpus.load_melodies('bach')[:1]\ntime.sleep(1.5)  # music21's timer would fire after 1 s"),
        nbformat.v4.new_code_cell("fig = plt.figure(figsize=(4, 2), dpi=100)\nplt.plot([0, 1])\nplt.show()")]
    nbclient.NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    (png,) = [o for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    size = Image.open(io.BytesIO(base64.b64decode(png["data"]["image/png"]))).size
    assert size[0] <= 400 and "width" not in png.get("metadata", {}).get("image/png", {})


def _fake_records():
    return [dict(pitches=[60, 62, 64, 65, 67, 69, 71, 72], durations=[1.0] * 7 + [1.0 + i],
                 source="bach",
                 id=f"bach/fake{i}", title="fake", tonic=0, mode="major") for i in range(3)]


def test_malformed_cached_corpus_is_rebuilt_not_served(tmp_cache, monkeypatch):
    """A corpus file of [] or a record without pitches (old, or edited with its checksum) fails the
    schema check inside the load and is rebuilt."""
    import json

    import music21

    from m2d import cache, corpus

    monkeypatch.setattr(corpus, "_extract_bach", _fake_records)
    key = cache.cache_key(corpus.EXTRACT_VERSION, music21.__version__, "bach", [])
    path = cache.cache_path("corpus-bach", key, "json")
    for bad in ([], [{"durations": [1.0] * 8}]):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(bad))
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)
        with pytest.warns(UserWarning, match="rebuilding"):
            melodies = corpus.load_melodies("bach")
        assert len(melodies) == 3 and melodies[0].pitches.tolist()[:2] == [60, 62]


@pytest.mark.parametrize("records, match", [
    ([], "non-empty"),
    ([{"pitches": [60] * 8}], "lacks"),
    ([{**_fake_records()[0], "pitches": [60] * 7}], "one length"),
    ([{**_fake_records()[0], "pitches": [60] * 7 + [200]}], "0..127"),
    ([{**_fake_records()[0], "durations": [1.0] * 7 + [0.0]}], "positive"),
    ([{**_fake_records()[0], "mode": "dorian"}], "mode"),
    ([{**_fake_records()[0], "bass_pitches": [48] * 8}], "come together"),
    ([{**_fake_records()[0], "bass_pitches": [48] * 3, "bass_durations": [1.0] * 4}], "bass"),
    ([{**_fake_records()[0], "bass_pitches": [48, 300], "bass_durations": [1.0, 1.0]}], "bass"),
])
def test_check_records_names_the_problem(records, match):
    from m2d import corpus

    with pytest.raises(ValueError, match=match):
        corpus.check_records(records)


def test_melody_notes_reads_a_melody_or_a_pair():
    from m2d import corpus

    m = corpus.Melody(np.array([60, 67, 74]), np.array([1.0, 0.5, 2.0]), "bach", "x", "", 0, "major")
    p, d = corpus.melody_notes(m)
    assert p.tolist() == [60, 67, 74] and d.tolist() == [1.0, 0.5, 2.0]
    assert corpus.melody_notes(m, pitch_classes=True)[0].tolist() == [0, 7, 2]
    p, d = corpus.melody_notes(([0, 4], [1, 2]), pitch_classes=True)
    assert p.tolist() == [0, 4] and d.dtype == float
    with pytest.raises(ValueError, match=r"\(pitches, durations\) pair, got list"):
        corpus.melody_notes([60, 62])


def test_chorale_bass_lines_are_aligned_and_move_with_the_melody(bach_split):
    """Most chorales keep their bass (Part III plays soprano + bass): it starts with the soprano, has
    no rest inside, so both voices last as long, and it lies well below the soprano."""
    melodies = [m for part in bach_split.values() for m in part]
    with_bass = [m for m in melodies if m.bass_pitches is not None]
    assert len(with_bass) >= 0.6 * len(melodies)
    same_length = [abs(m.durations.sum() - m.bass_durations.sum()) < 1e-6 for m in with_bass]
    assert np.mean(same_length) > 0.9
    for m in with_bass[:50]:
        assert len(m.bass_pitches) == len(m.bass_durations) and (m.bass_durations > 0).all()
        assert m.pitches.mean() - m.bass_pitches.mean() > 12  # more than an octave apart
    up = with_bass[0].transposed(3)
    np.testing.assert_array_equal(up.bass_pitches, with_bass[0].bass_pitches + 3)
    assert with_bass[0].transposed(0).bass_durations is with_bass[0].bass_durations
