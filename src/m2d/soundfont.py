"""Real instruments: symbolic music rendered through a General MIDI SoundFont.

The SoundFont is ``TimGM6mb.sf2`` (6 MB), shipped inside the ``pretty_midi`` package, so nothing is
downloaded; ``tinysoundfont`` (a small C synthesizer, installed with ``--no-deps``) plays it. A note
is a MIDI note-on at its onset and a note-off at its end; the synthesizer's output between events is
what we hear. The result is scaled to a peak of 0.8, so it passes the book's listen check (audible,
not clipped). The additive synthesizer of :mod:`m2d.audio` stays where a pure tone teaches something.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from m2d.audio import SR
from m2d.pitch import note_durations, onsets

#: General MIDI programs (0-based) the book uses.
PIANO, CHURCH_ORGAN, CHOIR_AAHS, STRINGS = 0, 19, 52, 48


@dataclass(frozen=True)
class NoteEvent:
    """One note: onset and length in seconds, MIDI pitch, velocity 1..127, General MIDI program."""

    start: float
    duration: float
    pitch: int
    velocity: int = 90
    program: int = PIANO


def soundfont_path() -> str:
    """Path of the General MIDI SoundFont shipped with ``pretty_midi`` (TimGM6mb.sf2).

    Raises:
        ValueError: pretty_midi (and with it the SoundFont) is not installed
    """
    try:
        import pretty_midi
    except ImportError:
        raise ValueError("the SoundFont comes with pretty_midi: pip install pretty_midi") from None
    path = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    if not os.path.exists(path):
        raise ValueError(f"pretty_midi's SoundFont is missing at {path}")
    return path


@lru_cache(maxsize=2)
def _soundfont_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def render(events: Sequence[NoteEvent], sr: int = SR, tail: float = 1.0, peak: float = 0.8
           ) -> np.ndarray:
    """Render note events through the SoundFont: mono float32 at ``sr``, ``tail`` seconds of
    release after the last note, scaled to ``peak``.

    Notebook: notebooks/01_markov.ipynb
    Args:
        events (sequence of NoteEvent): the notes (any order, overlaps allowed)
        sr (int): sample rate in Hz
        tail (float): seconds after the last note-off (the release rings out)
        peak (float): peak amplitude of the output, in (0, 1]
    Returns:
        y (np.ndarray): float32, length round((last end + tail) * sr)
    Raises:
        ValueError: no events, a pitch outside 0..127, a velocity outside 1..127, a program outside
            0..127, a negative onset, a non-positive or non-finite duration, a bad tail or peak
    """
    import tinysoundfont

    if len(events) == 0:
        raise ValueError("no notes to render")
    for i, e in enumerate(events):
        if not 0 <= e.pitch <= 127 or not 1 <= e.velocity <= 127 or not 0 <= e.program <= 127:
            raise ValueError(f"note {i}: pitch, velocity and program must be MIDI values, got {e}")
        if not (np.isfinite(e.start) and e.start >= 0 and np.isfinite(e.duration) and e.duration > 0):
            raise ValueError(f"note {i}: onset must be >= 0 and duration > 0 seconds, got {e}")
    if not 0 <= tail <= 60 or not 0 < peak <= 1:
        raise ValueError(f"tail must be in 0..60 s and peak in (0, 1], got tail={tail}, peak={peak}")
    synth = tinysoundfont.Synth(samplerate=sr)
    sfid = synth.sfload(_soundfont_bytes(soundfont_path()))
    programs = sorted({e.program for e in events})
    channel = {p: c + (c >= 9) for c, p in enumerate(programs)}  # skip channel 9 (drums)
    if max(channel.values()) > 15:
        raise ValueError(f"at most 15 different programs at once, got {len(programs)}")
    for p, c in channel.items():
        synth.program_select(c, sfid, 0, p)
    # note-offs before note-ons at the same instant, so a repeated note is struck again
    timeline = sorted([(round(e.start * sr), 1, e) for e in events]
                      + [(round((e.start + e.duration) * sr), 0, e) for e in events],
                      key=lambda x: (x[0], x[1]))
    total = max(t for t, _, _ in timeline) + round(tail * sr)
    out = np.zeros(total, dtype=np.float32)
    pos = 0
    for t, on, e in timeline:
        if t > pos:
            out[pos:t] = _generate(synth, t - pos)
            pos = t
        if on:
            synth.noteon(channel[e.program], int(e.pitch), int(e.velocity))
        else:
            synth.noteoff(channel[e.program], int(e.pitch))
    if total > pos:
        out[pos:total] = _generate(synth, total - pos)
    m = float(np.abs(out).max())
    if m > 0:
        out *= peak / m
    return out


def _generate(synth, n: int) -> np.ndarray:
    """n mono samples from the synthesizer (its output is interleaved stereo float32)."""
    stereo = np.frombuffer(synth.generate(n), dtype=np.float32).reshape(-1, 2)
    return stereo.mean(axis=1)


def score_events(score, tempo: float = 90.0, programs: Sequence[int] | int = PIANO,
                 velocity: int = 80) -> list[NoteEvent]:
    """The notes of a music21 score as events: onsets and lengths from quarter notes at ``tempo``
    (quarter notes per minute), repeats written out (as MIDI plays them), ties merged, each part with
    its own program.

    Notebook: notebooks/01_markov.ipynb
    Args:
        score (music21.stream.Score or Part): the music
        tempo (float): quarter notes per minute
        programs (int or sequence of int): one program for all parts, or one per part
        velocity (int): loudness 1..127
    Returns:
        events (list of NoteEvent)
    Raises:
        ValueError: non-positive tempo, or fewer programs than parts
    """
    if not tempo > 0:
        raise ValueError(f"tempo must be positive, got {tempo}")
    from m2d.notation import performed_parts

    parts = performed_parts(score)
    progs = [int(programs)] * len(parts) if np.ndim(programs) == 0 else [int(p) for p in programs]
    if len(progs) < len(parts):
        raise ValueError(f"{len(parts)} parts but {len(progs)} programs")
    sec = 60.0 / tempo
    events = []
    for part, prog in zip(parts, progs, strict=False):
        for el in part:
            for p in el.pitches:
                events.append(NoteEvent(float(el.offset) * sec, float(el.duration.quarterLength) * sec,
                                        int(p.midi), velocity, prog))
    return events


def render_score(score, tempo: float = 90.0, programs: Sequence[int] | int = PIANO,
                 sr: int = SR) -> np.ndarray:
    """A music21 score played by the SoundFont (:func:`score_events` then :func:`render`).

    Notebook: notebooks/01_markov.ipynb
    """
    return render(score_events(score, tempo, programs), sr=sr)


def melody_events(pitches: Sequence[int], durations: Sequence[float] | float = 0.5,
                  tempo: float = 120.0, program: int = PIANO, velocity: int = 90) -> list[NoteEvent]:
    """One voice as note events: each note starts where the previous one ends (durations in
    quarter notes at ``tempo`` quarter notes per minute).

    Notebook: notebooks/01_markov.ipynb, notebooks/03_diffusion.ipynb
    Raises:
        ValueError: pitches and durations of different lengths, or a non-positive tempo
    """
    p = np.ravel(pitches)
    d = note_durations(p, durations)
    if not tempo > 0:
        raise ValueError(f"tempo must be positive, got {tempo}")
    sec = 60.0 / tempo
    return [NoteEvent(float(t), float(q) * sec, int(m), velocity, program)
            for t, q, m in zip(onsets(d) * sec, d, p, strict=True)]


def render_melody(pitches: Sequence[int], durations: Sequence[float] | float = 0.5,
                  tempo: float = 120.0, program: int = PIANO, sr: int = SR, tail: float = 1.0
                  ) -> np.ndarray:
    """A melody (MIDI pitches, durations in quarter notes) played by one SoundFont instrument,
    with ``tail`` seconds of release after the last note.

    Raises:
        ValueError: pitches and durations of different lengths (and the errors of :func:`render`)
    """
    return render(melody_events(pitches, durations, tempo, program), sr=sr, tail=tail)
