"""Tests of m2d.motif: the typed-motif syntax, its errors and its round trip."""

import numpy as np
import pytest

from m2d import motif
from m2d.pitch import DURATION_BINS


def test_parse_values_dots_and_defaults():
    p, d = motif.parse_motif("C4/8 E4/8 G4/4. C5, B4/16 D5/2 E5/1 F")
    np.testing.assert_array_equal(p, [60, 64, 67, 72, 71, 74, 76, 77])
    np.testing.assert_allclose(d, [0.5, 0.5, 1.5, 1.5, 0.25, 2, 4, 4])
    p, d = motif.parse_motif("G4")
    assert p.tolist() == [67] and d.tolist() == [1.0]


def test_round_trip_through_text():
    rng = np.random.default_rng(0)
    p = rng.integers(36, 96, 12)
    d = np.asarray(DURATION_BINS)[rng.integers(0, len(DURATION_BINS), 12)]
    p2, d2 = motif.parse_motif(motif.format_motif(p, d))
    np.testing.assert_array_equal(p2, p)
    np.testing.assert_allclose(d2, d)


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("   ,  ", "empty"),
    ("H4/8", "'H4/8'"),
    ("C4/0", "/0 is not one of"),
    ("C4/3", "/3 is not one of"),
    ("C4/64", "/64"),
    ("C4/1.", "dotted whole"),
    ("C4/16.", "dotted sixteenth"),
    ("C10/4", "outside the MIDI range"),
    ("C-2/4", "outside the MIDI range"),
    ("C4/8/8", "'C4/8/8'"),
    (" ".join(["C4"] * 17), "at most 16"),
])
def test_bad_motifs_get_a_message_naming_them(text, match):
    with pytest.raises(ValueError, match=match):
        motif.parse_motif(text)


def test_format_rejects_unknown_values():
    with pytest.raises(ValueError, match="0.3"):
        motif.format_motif([60], [0.3])
    with pytest.raises(ValueError, match="2 pitches but 1"):
        motif.format_motif([60, 62], [1])
    with pytest.raises(ValueError, match="text"):
        motif.parse_motif(None)
