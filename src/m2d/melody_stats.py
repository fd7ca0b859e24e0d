"""What a melody does, counted: its intervals, its range (register) and its rhythm. Used to hold
generated melodies against real ones: a model that imitates a style should match these histograms,
not only predict notes well.

Intervals are signed semitone steps p_{t+1} - p_t; the histograms fold them to sizes |i| in
0..12, with all larger leaps counted at 12 ("an octave or more"). A tritone is 6 semitones, so a
"leap larger than a tritone" is |i| >= 7.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d.corpus import melody_notes
from m2d.pitch import DURATION_BINS, duration_class
from m2d.stochastic import tv_distance

#: Interval sizes 0..12 semitones (12 collects every leap of an octave or more).
INTERVAL_SIZES = tuple(range(13))
TRITONE = 6
#: Axis labels of the two histograms.
INTERVAL_LABELS = tuple(str(i) for i in range(12)) + ("12+",)
DURATION_LABELS = ("16th", "8th", "dotted 8th", "quarter", "dotted quarter", "half",
                   "dotted half", "whole")


def _pairs(melodies: Sequence) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for i, m in enumerate(melodies):
        p, d = melody_notes(m)
        if p.ndim != 1 or p.size == 0 or d.shape != p.shape:
            raise ValueError(f"melody {i}: need equally long non-empty 1-D pitches and durations, "
                             f"got shapes {p.shape} and {d.shape}")
        out.append((p.astype(np.int64), d))
    if not out:
        raise ValueError("melodies is empty: nothing to count")
    return out


def interval_histogram(melodies: Sequence) -> np.ndarray:
    """Share of each interval size |p_{t+1} - p_t| = 0, 1, ..., 12+ semitones over all melodic
    moves of ``melodies`` (Melody objects or (MIDI pitches, durations) pairs).

    Returns:
        h (np.ndarray): shape (13,), sums to 1
    Raises:
        ValueError: no melodies, or no melody with two notes
    """
    iv = [np.minimum(np.abs(np.diff(p)), 12) for p, _ in _pairs(melodies)]
    iv = np.concatenate(iv)
    if iv.size == 0:
        raise ValueError("no melodic moves: every melody has a single note")
    return np.bincount(iv, minlength=13) / iv.size


def duration_histogram(melodies: Sequence) -> np.ndarray:
    """Share of each note value of :data:`m2d.pitch.DURATION_BINS` among all notes (durations
    assigned to the nearest value, :func:`m2d.pitch.duration_class`).

    Returns:
        h (np.ndarray): shape (len(DURATION_BINS),), sums to 1
    """
    c = np.concatenate([duration_class(d) for _, d in _pairs(melodies)])
    return np.bincount(c, minlength=len(DURATION_BINS)) / c.size


def ranges(melodies: Sequence) -> np.ndarray:
    """Range of each melody in semitones, max p - min p (its register's width)."""
    return np.array([float(p.max() - p.min()) for p, _ in _pairs(melodies)])


def summary(melodies: Sequence) -> dict[str, float]:
    """The numbers chapter 1 compares generated and real melodies by.

    Notebook: notebooks/01_markov.ipynb
    Returns:
        stats (dict[str, float]): ``range`` (median range in semitones), ``lowest`` and ``highest``
        (MIDI, over all melodies), ``leaps_beyond_tritone`` (share of moves with |i| > 6),
        ``steps`` (|i| in 1..2), ``repeats`` (|i| = 0), ``mean_interval`` (mean |i|, semitones),
        ``note_values`` (number of distinct note values used), ``quarters`` (share of quarter notes)
    """
    pairs = _pairs(melodies)
    h = interval_histogram(pairs)
    iv = np.concatenate([np.abs(np.diff(p)) for p, _ in pairs])
    dh = duration_histogram(pairs)
    allp = np.concatenate([p for p, _ in pairs])
    return {"range": float(np.median(ranges(pairs))), "lowest": float(allp.min()),
            "highest": float(allp.max()), "leaps_beyond_tritone": float(h[TRITONE + 1:].sum()),
            "steps": float(h[1:3].sum()), "repeats": float(h[0]),
            "mean_interval": float(iv.mean()), "note_values": float(np.count_nonzero(dh)),
            "quarters": float(dh[DURATION_BINS.index(1.0)])}


def histogram_distances(melodies: Sequence, reference: Sequence) -> dict[str, float]:
    """Total-variation distance between the interval histograms and between the note-value
    histograms of ``melodies`` and ``reference`` (0: identical shares, 1: disjoint).

    Notebook: notebooks/01_markov.ipynb
    """
    return {"intervals": float(tv_distance(interval_histogram(melodies),
                                           interval_histogram(reference))),
            "durations": float(tv_distance(duration_histogram(melodies),
                                           duration_histogram(reference)))}


def comparison_table(groups: dict[str, Sequence], reference: str):
    """A Markdown table of :func:`summary` for each group of melodies, with the total-variation
    distance of its interval and note-value histograms to the group named ``reference``.

    Notebook: notebooks/01_markov.ipynb
    Args:
        groups (dict[str, sequence]): name -> melodies (Melody or (pitches, durations) pairs)
        reference (str): the key of ``groups`` the distances are measured to
    Returns:
        table (IPython.display.Markdown)
    Raises:
        ValueError: ``reference`` is not a key of ``groups``
    """
    from m2d.tables import markdown_table

    if reference not in groups:
        raise ValueError(f"reference {reference!r} is not one of {list(groups)}")
    rows = []
    for name, ms in groups.items():
        s, tv = summary(ms), histogram_distances(ms, groups[reference])
        rows.append([name, f"{s['range']:.0f}", f"{s['lowest']:.0f}-{s['highest']:.0f}",
                     f"{s['leaps_beyond_tritone']:.1%}", f"{s['steps']:.0%}",
                     f"{s['repeats']:.0%}", f"{s['note_values']:.0f}",
                     f"{tv['intervals']:.3f}", f"{tv['durations']:.3f}"])
    return markdown_table(["melodies", "median range (semitones)", "lowest-highest (MIDI)",
                           "leaps > tritone", "steps", "repeats", "note values used",
                           f"TV intervals to {reference}", f"TV note values to {reference}"],
                          rows)
