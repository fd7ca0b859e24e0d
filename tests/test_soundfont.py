"""The General MIDI SoundFont renderer: finite, audible, unclipped, in tune, note for note."""

import numpy as np
import pytest

from m2d import audio, notation, soundfont


def _peak_hz(y, sr=audio.SR, start=2000, n=8192):
    seg = y[start:start + n] * np.hanning(n)
    return np.fft.rfftfreq(n, 1 / sr)[np.argmax(np.abs(np.fft.rfft(seg)))]


@pytest.mark.parametrize("program", [soundfont.PIANO, soundfont.CHURCH_ORGAN])
def test_a4_sounds_at_440_hz(program):
    y = soundfont.render_melody([69], 2.0, tempo=60, program=program)
    k = _peak_hz(y) / 440.0                             # the strongest partial is a harmonic of A4
    assert round(k) >= 1 and abs(k - round(k)) < 0.01 * round(k) + 0.01
    if program == soundfont.PIANO:
        assert abs(_peak_hz(y) - 440.0) < 4.0           # the piano's strongest is the fundamental
    st = audio.audio_stats(y)
    assert st["rms"] > 0.02 and st["peak"] == pytest.approx(0.8, abs=1e-6) and st["clipped_fraction"] == 0


def test_length_is_the_notes_plus_the_tail_and_silence_between_phrases():
    y = soundfont.render([soundfont.NoteEvent(0.0, 0.5, 60), soundfont.NoteEvent(3.0, 0.5, 64)],
                         tail=0.5)
    assert y.size == round(3.5 * audio.SR + 0.5 * audio.SR) and np.all(np.isfinite(y))
    gap = np.abs(y[int(2.5 * audio.SR):int(2.9 * audio.SR)]).max()
    assert gap < 0.05 * np.abs(y).max()                 # the first note has died away


def test_a_chorale_on_the_organ_is_audible_and_as_long_as_the_score():
    c = notation.chorale("bwv269", (1, 4))
    events = soundfont.score_events(c, tempo=60, programs=soundfont.CHURCH_ORGAN)
    assert len(events) == sum(len(p) for p in notation.notes_of(c))
    y = soundfont.render(events)
    end = max(e.start + e.duration for e in events)
    assert y.size == round(end * audio.SR) + audio.SR
    st = audio.audio_stats(y)
    assert st["rms"] > 0.02 and st["clipped_fraction"] == 0.0


@pytest.mark.parametrize("events,msg", [
    ([], "no notes"),
    ([soundfont.NoteEvent(0, 1, 128)], "MIDI values"),
    ([soundfont.NoteEvent(0, 0, 60)], "duration"),
    ([soundfont.NoteEvent(-1, 1, 60)], "onset"),
    ([soundfont.NoteEvent(0, float("nan"), 60)], "duration"),
])
def test_bad_events_are_named(events, msg):
    with pytest.raises(ValueError, match=msg):
        soundfont.render(events)
    with pytest.raises(ValueError, match="tempo"):
        soundfont.render_melody([60], 1.0, tempo=0)
