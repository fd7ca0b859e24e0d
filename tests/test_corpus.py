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
