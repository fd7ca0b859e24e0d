"""Pitch naming: pitch classes in Z12 (C = 0, C# = 1, ..., B = 11), note names, MIDI numbers and
the octave placement (voicing) of a pitch-class sequence.

Notebook: notebooks/01_markov.ipynb (and every chapter that plays a melody)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

#: The book's note values, in quarter notes (sixteenth .. whole note): the duration classes of its
#: models. Any duration is assigned the nearest value on a log scale (:func:`duration_class`).
DURATION_BINS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)

_NAME_RE = re.compile(r"^\s*([A-Ga-g])([#b♯♭]*)(-?\d+)?\s*$")
_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def midi_to_pc(midi: int | np.ndarray) -> np.ndarray:
    """Pitch class in Z12 of MIDI note(s): pc = midi mod 12 (C = 0)."""
    return np.mod(np.asarray(midi, dtype=np.int64), 12)


def pc_name(pc: int) -> str:
    """Name of pitch class ``pc`` (taken mod 12), e.g. ``pc_name(7) == "G"``."""
    return PITCH_CLASSES[int(pc) % 12]


def parse_note(token: str) -> int:
    """Parse a note name: ``"C"``, ``"F#"``, ``"Bb"`` give a pitch class; ``"C4"``, ``"Eb5"`` a MIDI number.

    Octave numbers follow scientific pitch notation (C4 = 60).
    Args:
        token (str): note name with optional accidentals (#, b) and octave
    Returns:
        value (int): pitch class 0..11 without octave, MIDI number with octave
    Raises:
        ValueError: the token is not a note name (the message quotes it)
    """
    m = _NAME_RE.match(token)
    if not m:
        raise ValueError(f"{token!r} is not a note name (expected e.g. C, F#, Bb or C4)")
    letter, acc, octave = m.groups()
    pc = _NATURAL[letter.upper()] + acc.count("#") + acc.count("♯") - acc.count("b") - acc.count("♭")
    if octave is None:
        return pc % 12
    midi = 12 * (int(octave) + 1) + pc
    if not 0 <= midi <= 127:
        raise ValueError(f"{token!r} is outside the MIDI range 0..127")
    return midi


def pcs_to_midi(pcs: Sequence[int] | np.ndarray, start: int = 60, low: int = 55,
                high: int = 81) -> np.ndarray:
    """Voice a pitch-class sequence as MIDI notes, each in the octave nearest the previous note.

    The first note is placed nearest ``start``; every later note takes the octave that minimises
    the leap, folded back into [low, high] so a long random walk cannot drift out of a singable range.
    Args:
        pcs (array of int): pitch classes
        start (int): MIDI reference for the first note
        low, high (int): allowed MIDI range (at least an octave wide)
    Returns:
        midi (np.ndarray): int64 MIDI numbers, same length as ``pcs``
    Raises:
        ValueError: range narrower than an octave
    """
    if high - low < 11:
        raise ValueError(f"range {low}..{high} is narrower than an octave")
    pcs = np.asarray(pcs, dtype=np.int64) % 12
    out = np.empty(pcs.size, dtype=np.int64)
    prev = start
    for i, pc in enumerate(pcs):
        cand = prev + ((pc - prev + 6) % 12) - 6  # nearest note of class pc to prev
        while cand < low:
            cand += 12
        while cand > high:
            cand -= 12
        out[i] = prev = cand
    return out


def midi_name(m: int) -> str:
    """Scientific pitch name of a MIDI number, e.g. 60 -> 'C4'."""
    return f"{PITCH_CLASSES[int(m) % 12]}{int(m) // 12 - 1}"


def note_durations(pitches, durations) -> np.ndarray:
    """One duration per note: a scalar ``durations`` is used for every note of ``pitches``,
    a sequence must have one entry per note (both are flattened).

    Raises:
        ValueError: as many durations as pitches are needed (the message gives both counts)
    """
    p = np.ravel(pitches)
    d = np.broadcast_to(np.asarray(durations, dtype=float), p.shape) if np.ndim(durations) == 0 \
        else np.asarray(durations, dtype=float).ravel()
    if d.shape != p.shape:
        raise ValueError(f"{p.size} pitches but {d.size} durations")
    return d


def onsets(durations) -> np.ndarray:
    """Start of each note, in the units of ``durations``: 0, d_0, d_0 + d_1, ... (one per note)."""
    d = np.asarray(durations, dtype=float)
    return np.concatenate([[0.0], np.cumsum(d)[:-1]])


def duration_class(durations) -> np.ndarray:
    """Index into :data:`DURATION_BINS` of the nearest note value, nearest in log2 (so a dotted
    half, 3, is its own class, a 5-quarter note becomes a whole note 4, a 32nd becomes a 16th).

    Notebook: notebooks/01_markov.ipynb
    Args:
        durations (float or array-like): durations in quarter notes, positive and finite
    Returns:
        classes (np.ndarray): int64, same shape, values 0..len(DURATION_BINS) - 1
    Raises:
        ValueError: a duration that is not positive and finite (its index and value named)
    """
    d = np.asarray(durations, dtype=float)
    bad = np.flatnonzero(~np.isfinite(d.ravel()) | (d.ravel() <= 0))
    if bad.size:
        raise ValueError(f"durations must be positive and finite; entry {bad[0]} is "
                         f"{d.ravel()[bad[0]]}")
    bins = np.log2(np.asarray(DURATION_BINS))
    return np.argmin(np.abs(np.log2(d)[..., None] - bins), axis=-1).astype(np.int64)
