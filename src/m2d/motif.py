"""Motifs as a reader types them: ``"C4/8 E4/8 G4/4."`` — note names with octave and a note value.

Each token is a note name (:func:`m2d.pitch.parse_note`; without an octave the note goes in the
octave nearest the previous one) and an optional ``/v`` with v = 1, 2, 4, 8, 16 (whole, half,
quarter, eighth, sixteenth note; a trailing ``.`` dots it). A token without ``/v`` keeps the
previous note's value (the first note: a quarter). Durations are in quarter notes, 4 / v (x 1.5
dotted), and must be one of the book's note values :data:`m2d.pitch.DURATION_BINS`, the values
its models know.

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from m2d.pitch import DURATION_BINS, midi_name, parse_note, pcs_to_midi

#: Longest motif accepted (a motif, not a melody).
MAX_MOTIF_NOTES = 16
_TOKEN_RE = re.compile(r"^([^/]+?)(?:/(\d+)(\.?))?$")
_VALUES = {1: "whole", 2: "half", 4: "quarter", 8: "eighth", 16: "sixteenth"}


def parse_motif(text: str, max_notes: int = MAX_MOTIF_NOTES) -> tuple[np.ndarray, np.ndarray]:
    """Parse a typed motif into MIDI pitches and durations (module docstring for the syntax).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        text (str): e.g. ``"C4/8 E4/8 G4/4"`` (spaces or commas between notes)
        max_notes (int): longest motif accepted
    Returns:
        pitches (np.ndarray): MIDI numbers, int64
        durations (np.ndarray): quarter notes, float
    Raises:
        ValueError: empty text, too many notes, a token that is not a note (quoted), an octave
            outside MIDI 0..127, a note value other than 1, 2, 4, 8, 16 (or zero), or a dotted value
            the models do not know
    """
    if not isinstance(text, str):
        raise ValueError(f"a motif is text such as 'C4/8 E4/8 G4/4', got {type(text).__name__}")
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if not tokens:
        raise ValueError("the motif is empty: type notes such as C4/8 E4/8 G4/4")
    if len(tokens) > max_notes:
        raise ValueError(f"{len(tokens)} notes: a motif has at most {max_notes}")
    pitches: list[int] = []
    durations: list[float] = []
    for tok in tokens:
        m = _TOKEN_RE.match(tok)
        if not m:
            raise ValueError(f"{tok!r} is not a note (expected e.g. C4/8, F#5/4. or Bb4)")
        name, value, dot = m.groups()
        try:
            v = parse_note(name)
        except ValueError as err:
            raise ValueError(f"{tok!r}: {err}") from None
        if re.search(r"\d", name):
            pitches.append(v)
        else:
            pitches.append(int(pcs_to_midi([v], start=pitches[-1] if pitches else 60)[0]))
        if value is None:
            durations.append(durations[-1] if durations else 1.0)
            continue
        if int(value) not in _VALUES:
            raise ValueError(f"{tok!r}: the note value /{value} is not one of /1 /2 /4 /8 /16 "
                             "(whole to sixteenth)")
        d = 4.0 / int(value) * (1.5 if dot else 1.0)
        if d not in DURATION_BINS:
            raise ValueError(f"{tok!r}: a dotted {_VALUES[int(value)]} note is not one of the "
                             f"models' note values {DURATION_BINS} (quarter notes)")
        durations.append(d)
    return np.asarray(pitches, dtype=np.int64), np.asarray(durations, dtype=float)


def format_motif(pitches: Sequence[int], durations: Sequence[float]) -> str:
    """The text :func:`parse_motif` reads back to the same notes, e.g. ``"C4/8 E4/8 G4/4."``.

    Raises:
        ValueError: a duration that is not one of :data:`m2d.pitch.DURATION_BINS`, or lengths
            that differ
    """
    p, d = np.asarray(pitches), np.asarray(durations, dtype=float)
    if p.shape != d.shape:
        raise ValueError(f"{p.size} pitches but {d.size} durations")
    out = []
    for midi, ql in zip(p.tolist(), d.tolist(), strict=True):
        for v in _VALUES:
            for dotted in (False, True):
                if abs(4.0 / v * (1.5 if dotted else 1.0) - ql) < 1e-9:
                    out.append(f"{midi_name(midi)}/{v}{'.' if dotted else ''}")
                    break
            else:
                continue
            break
        else:
            raise ValueError(f"duration {ql} is not a note value the motif syntax can write")
    return " ".join(out)
