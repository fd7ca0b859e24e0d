"""Tests of m2d.melody_stats: interval and duration histograms, ranges, summaries."""

import numpy as np
import pytest

from m2d import melody_stats
from m2d.pitch import DURATION_BINS

MEL = ([60, 62, 62, 69, 55, 60], [1, 1, 0.5, 0.5, 2, 3])


def test_interval_histogram_by_hand():
    h = melody_stats.interval_histogram([MEL])
    # moves: +2, 0, +7, -14 (counted at 12), +5
    expected = np.zeros(13)
    for size in (2, 0, 7, 12, 5):
        expected[size] += 0.2
    np.testing.assert_allclose(h, expected)
    assert h.sum() == pytest.approx(1)


def test_duration_histogram_and_ranges():
    h = melody_stats.duration_histogram([MEL, ([60], [5.0])])
    assert h.sum() == pytest.approx(1)
    assert h[DURATION_BINS.index(1.0)] == pytest.approx(2 / 7)
    assert h[DURATION_BINS.index(4.0)] == pytest.approx(1 / 7)  # 5 quarters -> whole note
    np.testing.assert_array_equal(melody_stats.ranges([MEL, ([60], [1])]), [14, 0])


def test_summary_and_distances():
    s = melody_stats.summary([MEL])
    assert s["leaps_beyond_tritone"] == pytest.approx(0.4)  # +7 and -14
    assert s["repeats"] == pytest.approx(0.2) and s["steps"] == pytest.approx(0.2)
    assert s["mean_interval"] == pytest.approx((2 + 0 + 7 + 14 + 5) / 5)
    assert s["note_values"] == 4 and s["range"] == 14
    assert melody_stats.histogram_distances([MEL], [MEL]) == {"intervals": 0.0, "durations": 0.0}
    eighths = ([60, 61, 62], [0.5] * 3)
    d = melody_stats.histogram_distances([eighths], [([60, 60, 60], [1.0] * 3)])
    assert d == {"intervals": pytest.approx(1.0), "durations": pytest.approx(1.0)}


def test_errors():
    with pytest.raises(ValueError, match="empty"):
        melody_stats.summary([])
    with pytest.raises(ValueError, match="melody 1"):
        melody_stats.interval_histogram([MEL, ([60, 62], [1])])
    with pytest.raises(ValueError, match="no melodic moves"):
        melody_stats.interval_histogram([([60], [1])])


def test_comparison_table_rows_and_reference():
    from m2d.pitch import DURATION_BINS as bins

    assert len(melody_stats.DURATION_LABELS) == len(bins)
    other = ([60, 72, 60], [0.5, 0.5, 0.5])
    md = melody_stats.comparison_table({"real": [MEL], "other": [other]}, "real").data
    lines = md.strip().splitlines()
    assert len(lines) == 4 and lines[2].split("|")[-3].strip() == "0.000"
    assert "100.0%" in lines[3]  # both moves of `other` are octave leaps
    with pytest.raises(ValueError, match="'nope'"):
        melody_stats.comparison_table({"real": [MEL]}, "nope")
