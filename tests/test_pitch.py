"""Pitch naming: note names to pitch classes and MIDI numbers, and the voicing of a pitch-class
sequence in the octave nearest the previous note."""

import numpy as np
import pytest

from m2d import example_chains, markov, pitch


def test_note_parsing_and_voicing():
    assert pitch.parse_note("C4") == 60 and pitch.parse_note("Bb") == 10
    assert pitch.parse_note("F#5") == 78
    with pytest.raises(ValueError, match="'X9'"):
        pitch.parse_note("X9")
    pcs = markov.sample_melody(example_chains.illiac_matrix(), 400, 0, rng=2)
    midi = pitch.pcs_to_midi(pcs)
    assert midi.min() >= 55 and midi.max() <= 81
    np.testing.assert_array_equal(midi % 12, pcs)
    # nearest octave: leaps beyond a tritone only where the range forced an octave fold
    assert np.mean(np.abs(np.diff(midi)) <= 6) > 0.9


def test_names_round_trip():
    assert [pitch.pc_name(p) for p in range(12)] == list(pitch.PITCH_CLASSES)
    assert pitch.pc_name(19) == "G"
    np.testing.assert_array_equal(pitch.midi_to_pc([60, 61, 71, 72]), [0, 1, 11, 0])
    for m in (21, 60, 61, 108):
        assert pitch.parse_note(pitch.midi_name(m)) == m
    with pytest.raises(ValueError, match="narrower than an octave"):
        pitch.pcs_to_midi([0, 4], low=60, high=65)


def test_note_durations_and_onsets():
    import numpy as np
    import pytest

    from m2d import pitch

    np.testing.assert_array_equal(pitch.note_durations([60, 62, 64], 0.5), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(pitch.note_durations([60, 62], [1, 2]), [1.0, 2.0])
    with pytest.raises(ValueError, match="3 pitches but 2 durations"):
        pitch.note_durations([60, 62, 64], [1, 2])
    np.testing.assert_array_equal(pitch.onsets([1.0, 0.5, 2.0]), [0.0, 1.0, 1.5])
    assert pitch.onsets([3.0]).tolist() == [0.0]


def test_duration_class_nearest_value_in_log2():
    from m2d.pitch import DURATION_BINS, duration_class

    np.testing.assert_array_equal(duration_class(DURATION_BINS), np.arange(len(DURATION_BINS)))
    assert DURATION_BINS[duration_class(5.0)] == 4.0
    assert DURATION_BINS[duration_class(0.125)] == 0.25
    assert DURATION_BINS[duration_class(2.4)] == 2.0  # log2 2.4 is nearer log2 2 than log2 3
    with pytest.raises(ValueError, match="entry 1 is 0.0"):
        duration_class([1.0, 0.0])
    with pytest.raises(ValueError, match="nan"):
        duration_class(np.nan)
