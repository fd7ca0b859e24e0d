"""The plot helpers follow libfmp's convention: ax=None makes the figure; (fig, ax, artist) back."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from m2d import history, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_piano_roll_bars_match_notes_and_reuse_given_axes():
    fig, ax, bars = plotting.piano_roll([60, 64, 67], [1.0, 0.5, 2.0])
    assert len(bars) == 3 and ax.figure is fig
    assert [b.get_x() for b in bars] == [0.0, 1.0, 1.5]          # onsets = cumulative durations
    assert [b.get_width() for b in bars] == [1.0, 0.5, 2.0]
    assert ax.get_xlim() == (0.0, 3.5)
    assert "C4" in [t.get_text() for t in ax.get_yticklabels()]
    f2, a2 = plt.subplots()
    fig2, ax2, _ = plotting.piano_roll([60], ax=a2)
    assert fig2 is f2 and ax2 is a2
    with pytest.raises(ValueError, match="empty"):
        plotting.piano_roll([])


def test_matrix_heatmap_shows_the_matrix_and_annotates_small_ones():
    M = np.array([[0.2, 0.8], [0.5, 0.5]])
    fig, ax, im = plotting.matrix_heatmap(M, ["C", "G"])
    np.testing.assert_array_equal(im.get_array(), M)
    assert sorted(t.get_text() for t in ax.texts) == ["0.20", "0.50", "0.50", "0.80"]
    _, ax12, _ = plotting.matrix_heatmap(np.full((12, 12), 1 / 12))
    assert not ax12.texts                                           # 12 x 12: no numbers


def test_distribution_bars_heights_are_the_probabilities():
    p = np.arange(12) / 66
    fig, ax, bars = plotting.distribution_bars(p)
    np.testing.assert_allclose([b.get_height() for b in bars], p)
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["C", "C#"]


def test_show_patches_one_image_per_patch_spare_axes_off():
    fig, axes = plt.subplots(1, 3)
    fig2, axes2, ims = plotting.show_patches(np.zeros((2, 4, 4)), ["a", "b"], axes=axes)
    assert fig2 is fig and len(ims) == 2 and not axes[2].axison
    assert axes[0].get_title() == "a"
    fig3, axes3, ims3 = plotting.show_patches(np.ones((3, 1, 4, 4)) * 5)  # clipped to 1
    assert axes3.size == 3 and ims3[0].get_array().max() == 1.0


def test_timeline_figure_draws_every_year():
    fig, ax, markers = plotting.plot_timeline()
    texts = " ".join(t.get_text() for t in ax.texts)
    for m in history.TIMELINE:
        assert str(m.year) in texts
    assert len(markers) == len(history.TIMELINE)
    f2, a2 = plt.subplots()
    assert plotting.plot_timeline(ax=a2)[:2] == (f2, a2)


def test_figure_pdf_is_a_vector_form_within_its_budget():
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [2, 0, 1])
    ax.set_title("zigzag")
    pdf = plotting.figure_pdf(fig)
    assert pdf.startswith(b"%PDF") and len(pdf) <= plotting.PRINT_PDF_MAX
    assert plotting.figure_pdf(fig, max_bytes=100) is None  # too big for that budget: PNG instead
    assert plotting.figure_pdf(plt.figure()) is None  # nothing drawn
    for bad in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match="max_bytes"):
            plotting.figure_pdf(fig, max_bytes=bad)
    plt.close("all")


needs_cjk = pytest.mark.skipif(plotting.cjk_font() is None, reason="no Chinese font (make fonts)")


def _labelled_figure():
    fig, ax = plt.subplots()
    ax.bar([0, 1], [1, 2], label="real")
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["real", "DDPM"])
    ax.set_title("transition matrix P")
    ax.set_xlabel("next")
    ax.set_ylabel("$P^n$")
    ax.legend()
    return fig, ax


@needs_cjk
def test_figure_zh_draws_the_chinese_words_and_restores_the_figure(monkeypatch):
    from m2d import i18n

    monkeypatch.setattr(i18n, "FIGURE_TERMS", {"transition matrix P": "转移矩阵 P", "next": "下一个",
                                               "real": "真实"})
    fig, ax = _labelled_figure()
    fig.canvas.draw()
    before = (plotting.describe(fig), [t.get_text() for t in ax.get_xticklabels()],
              ax.title.get_fontfamily())
    png = plotting.figure_zh(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and "转移矩阵 P" in plotting.alt_of_png(png)
    fig.canvas.draw()
    after = (plotting.describe(fig), [t.get_text() for t in ax.get_xticklabels()],
             ax.title.get_fontfamily())
    assert after == before  # the figure a reader's notebook keeps is the English one
    assert plotting.figure_zh(fig, "pdf")[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="fmt"):
        plotting.figure_zh(fig, "svg")
    plt.close(fig)


@needs_cjk
def test_figure_zh_is_none_when_nothing_is_translated(monkeypatch):
    from m2d import i18n

    monkeypatch.setattr(i18n, "FIGURE_TERMS", {"no such label": "无"})
    fig, _ = _labelled_figure()
    assert plotting.figure_zh(fig) is None
    plt.close(fig)


def test_figure_texts_finds_titles_labels_legend_and_ticks():
    fig, ax = _labelled_figure()
    words = {t.get_text() for t in plotting.figure_texts(fig)}
    assert {"transition matrix P", "next", "$P^n$", "real"} <= words
    tables = plotting._tick_words(fig)
    assert any("real" in (t.values() if isinstance(t, dict) else t) for t in tables)
    plt.close(fig)
