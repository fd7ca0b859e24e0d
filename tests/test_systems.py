"""The systems on chapter 5's map: the systems as data (placements, citations) and the figure (one marker per
system, every label inside its own cell)."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from m2d import plotting, systems  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_seven_distinct_systems_cover_every_cell():
    names = [s.name for s in systems.SYSTEMS]
    assert len(names) == 7 and len(set(names)) == 7
    cells = systems.quadrants()
    assert set(cells) == {(w, r) for w in systems.WEIGHTS for r in systems.REPRESENTATIONS}
    assert sum(map(len, cells.values())) == 7
    assert all(cells.values())  # no empty cell: the map has examples on every side
    for members in cells.values():  # sorted by year within a cell
        assert [s.year for s in members] == sorted(s.year for s in members)


def test_every_system_is_cited_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M))
    for s in systems.SYSTEMS:
        assert s.cite in keys, f"{s.name}: no bib entry {s.cite!r}"
        assert 2015 <= s.year <= 2026


def test_the_lectures_placements():
    by_name = {s.name: s for s in systems.SYSTEMS}
    # the lecture's table: MusicLM and MusicGen are token models, the other three continuous
    for name in ("MusicLM", "MusicGen", "Music Transformer"):
        assert by_name[name].representation == "tokens"
    for name in ("Riffusion", "Stable Audio", "Stable Audio Open", "ACE-Step"):
        assert by_name[name].representation == "continuous"
    assert by_name["MusicLM"].weights == "closed" and by_name["MusicGen"].weights == "open"


def test_quadrants_rejects_unknown_values():
    bad = systems.SYSTEMS[0]._replace(weights="half-open")
    with pytest.raises(ValueError, match="Music Transformer.*weights.*half-open"):
        systems.quadrants([bad])
    bad = systems.SYSTEMS[0]._replace(representation="waveform")
    with pytest.raises(ValueError, match="representation.*waveform"):
        systems.quadrants([bad])


def test_plot_map_one_marker_per_system_and_labels_inside_their_cell():
    import matplotlib.pyplot as plt

    fig, ax, markers = plotting.plot_systems_map()
    try:
        drawn = (*systems.SYSTEMS, *systems.BOOK_MODELS)
        assert len(markers) == len(drawn)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        to_data = ax.transData.inverted()
        for s, m in zip(drawn, markers, strict=True):
            x, y = m.get_data()
            cell_x = systems.WEIGHTS.index(s.weights)
            cell_y = 1 - systems.REPRESENTATIONS.index(s.representation)
            assert cell_x < x[0] < cell_x + 1 and cell_y < y[0] < cell_y + 1
            # filled markers for the systems, hollow ones for the book's miniatures
            assert (m.get_markerfacecolor() == "none") == (s in systems.BOOK_MODELS)
        texts = [t for t in ax.texts if t.get_text()]
        assert len(texts) == 2 * len(drawn)
        for t in texts:
            (x0, y0), (x1, y1) = to_data.transform(t.get_window_extent(renderer).get_points())
            cell = int(x0)
            assert x1 < cell + 1, f"label {t.get_text()!r} runs out of its cell"
            assert int(y0) == int(y1 - 1e-9), f"label {t.get_text()!r} crosses a row"
    finally:
        plt.close(fig)


def test_plot_map_draws_on_a_given_axes():
    import matplotlib.pyplot as plt

    fig0, ax0 = plt.subplots()
    try:
        fig, ax, markers = plotting.plot_systems_map(systems.SYSTEMS[:2], extra=(), ax=ax0)
        assert fig is fig0 and ax is ax0 and len(markers) == 2
    finally:
        plt.close(fig0)
