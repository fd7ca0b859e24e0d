"""Music as notation and as files: melodies and chorales as music21 scores, engraved offline with
Verovio (MusicXML -> SVG), and written out as MIDI and MusicXML for a reader to take home.

A melody of the book is a list of MIDI pitches and durations in quarter notes; :func:`melody_score`
turns it into a one-part score (key and time signature given or guessed by music21), and
:func:`engrave` draws any score as inline SVG. :func:`to_midi` and :func:`to_musicxml` write the
files; :func:`notes_of` reads a score (or a MIDI/MusicXML file) back to (pitch, duration) lists, which
is how the tests check that files re-open with the same notes.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from m2d.corpus import import_music21

#: Verovio's layout for the book's pages: a page as wide as the text column, as tall as needed,
#: no header/footer, glyphs defined once per SVG (smaller pages).
ENGRAVING = {"pageWidth": 2200, "adjustPageHeight": True, "scale": 35, "header": "none",
             "footer": "none", "breaks": "auto", "pageMarginTop": 20, "pageMarginBottom": 20,
             "pageMarginLeft": 20, "pageMarginRight": 20, "svgViewBox": True,
             "svgFormatRaw": True}


def _melody_notes(pitches, durations) -> tuple[np.ndarray, np.ndarray]:
    """Validated (MIDI pitches, durations) of a melody (the checks :func:`melody_score` documents)."""
    p = np.asarray(pitches)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"pitches must be a non-empty 1-D sequence, got shape {p.shape}")
    if not np.issubdtype(p.dtype, np.integer) or p.min() < 0 or p.max() > 127:
        raise ValueError(f"pitches must be MIDI integers in 0..127, got {p.tolist()[:8]}...")
    d = np.broadcast_to(np.asarray(durations, dtype=float), p.shape) if np.ndim(durations) == 0 \
        else np.asarray(durations, dtype=float)
    if d.shape != p.shape:
        raise ValueError(f"{p.size} pitches but {d.size} durations")
    bad = np.flatnonzero(~np.isfinite(d) | (d <= 0))
    if bad.size:
        raise ValueError(f"duration of note {bad[0]} is {d[bad[0]]}; durations must be positive")
    return p, d


def _part(instrument: str, time_signature: str):
    """A new music21 part with its instrument and metre, and the TimeSignature (both validated)."""
    m21 = import_music21()
    part = m21.stream.Part()
    try:
        part.append(getattr(m21.instrument, instrument)())
    except AttributeError:
        raise ValueError(f"unknown instrument {instrument!r} (a music21.instrument class)") from None
    try:
        meter = m21.meter.TimeSignature(time_signature)
    except Exception:
        raise ValueError(f"time_signature {time_signature!r} is not a time signature") from None
    part.append(meter)
    return part, meter


def _append_notes(part, pitches: np.ndarray, durations: np.ndarray) -> None:
    """Append validated notes; a MIDI number's explicit natural is dropped so the key decides."""
    m21 = import_music21()
    for midi, ql in zip(pitches.tolist(), durations.tolist(), strict=True):
        n = m21.note.Note(midi)
        if n.pitch.accidental is not None and n.pitch.accidental.name == "natural":
            n.pitch.accidental = None
        n.duration = m21.duration.Duration(ql)
        part.append(n)


def _key(part, key: str | None):
    """The key signature: ``key`` (e.g. 'C', 'a'), or music21's analysis of the part's notes."""
    m21 = import_music21()
    if key is None:
        return part.analyze("key")
    try:
        return m21.key.Key(key)
    except Exception:
        raise ValueError(f"key {key!r} is not a key (e.g. 'C', 'G', 'a')") from None


def melody_score(pitches: Sequence[int], durations: Sequence[float] | float = 0.5,
                 title: str | None = None, time_signature: str = "4/4", key: str | None = None,
                 instrument: str = "Piano"):
    """A one-part music21 score of a melody: MIDI pitches with durations in quarter notes.

    Notebook: notebooks/01_markov.ipynb
    Args:
        pitches (sequence of int): MIDI numbers 0..127
        durations (sequence of float or float): quarter notes per note (0.5 = an eighth)
        title (str or None): the score's title
        time_signature (str): e.g. ``"4/4"``, ``"3/4"``
        key (str or None): e.g. ``"C"``, ``"a"`` (minor); None lets music21 analyse the key
        instrument (str): a music21 instrument class name (sets the MIDI program)
    Returns:
        score (music21.stream.Score): measures made, ties across bar lines
    Raises:
        ValueError: empty melody, a pitch outside 0..127, a non-positive or non-finite duration,
            lengths that differ, an unknown key, time signature or instrument
    """
    m21 = import_music21()
    p, d = _melody_notes(pitches, durations)
    part, _ = _part(instrument, time_signature)
    _append_notes(part, p, d)
    part.insert(0, _key(part, key))
    score = m21.stream.Score([part])
    if title:
        score.insert(0, m21.metadata.Metadata(title=title))
    return score.makeNotation()


def chorale(bwv: str, measures: tuple[int, int] | None = None):
    """A Bach chorale from music21's bundled corpus (no download), e.g. ``chorale("bwv269")``,
    optionally only measures ``(first, last)``.

    Notebook: notebooks/01_markov.ipynb
    Raises:
        ValueError: no such chorale in the corpus, or measures outside the piece
    """
    m21 = import_music21()
    try:
        score = m21.corpus.parse(f"bach/{bwv}")
    except Exception:
        raise ValueError(f"no chorale {bwv!r} in music21's corpus (e.g. 'bwv269')") from None
    if measures is not None:
        first, last = measures
        if not 0 <= first <= last:
            raise ValueError(f"measures must be (first, last) with 0 <= first <= last, got {measures}")
        score = score.measures(first, last)
        if not score.recurse().notes:
            raise ValueError(f"{bwv} has no notes in measures {measures}")
    return score


def sections_score(sections: Sequence[tuple[str, Sequence[int], Sequence[float]]],
                   time_signature: str = "4/4", key: str | None = "C", instrument: str = "Piano"):
    """Several melodies on one staff, one after another: each starts on a new bar under its label
    (a rehearsal mark), and a rest fills its last bar. Played, it is the melodies in turn with a
    pause between them — a score and a sound for comparing answers to the same question.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        sections (sequence of (label, pitches, durations)): MIDI numbers and quarter notes
        time_signature, key, instrument: as in :func:`melody_score` (key None: analysed)
    Returns:
        score (music21.stream.Score)
    Raises:
        ValueError: no sections, an empty label, a bad section (named, with :func:`melody_score`'s
            message), a bad key, time signature or instrument
    """
    m21 = import_music21()
    if not sections:
        raise ValueError("sections is empty: nothing to engrave")
    part, meter = _part(instrument, time_signature)
    bar = meter.barDuration.quarterLength
    key_mark = None if key is None else _key(part, key)  # a bad key is refused before the notes
    for label, pitches, durations in sections:
        if not str(label).strip():
            raise ValueError("every section needs a label")
        try:
            p, d = _melody_notes(pitches, durations)
        except ValueError as err:
            raise ValueError(f"section {label!r}: {err}") from None
        part.append(m21.expressions.RehearsalMark(str(label)))
        _append_notes(part, p, d)
        rest = (-float(d.sum())) % bar
        if rest > 1e-9:
            part.append(m21.note.Rest(quarterLength=rest))
    part.insert(0, key_mark if key_mark is not None else _key(part, None))
    return m21.stream.Score([part]).makeNotation()


def to_musicxml(score) -> str:
    """The score as a MusicXML document (text), readable by MuseScore, Finale, music21, Verovio."""
    from music21.musicxml import m21ToXml

    return m21ToXml.GeneralObjectExporter(score).parse().decode("utf-8")


def to_midi(score) -> bytes:
    """The score as a standard MIDI file (bytes): one track per part, its instrument's program."""
    from music21 import midi

    mf = midi.translate.streamToMidiFile(score)
    return mf.writestr()


def performed(score):
    """The score as it is played: repeats written out (``expandRepeats``), as a MIDI file and the
    SoundFont rendering play them; the score itself when it has no (well-formed) repeats."""
    if not score.recurse().getElementsByClass("Repeat"):
        return score
    try:
        return score.expandRepeats()
    except Exception:  # malformed repeat marks: play what is written
        return score


def performed_parts(score) -> list:
    """The parts of a score as played (:func:`performed`: repeats written out), each with ties
    merged and flattened to its notes and chords in time order; a single part stands for itself."""
    score = performed(score)
    parts = score.parts if hasattr(score, "parts") and len(score.parts) else [score]
    return [part.stripTies().flatten().notes for part in parts]


def notes_of(source) -> list[list[tuple[int, float]]]:
    """(MIDI pitch, quarter-note duration) of every note as performed (repeats written out), one
    list per part (chords give their top note), ties merged: what a file must give back to count as
    the same music.

    Args:
        source: a music21 score, MIDI bytes, or MusicXML text
    Returns:
        parts (list of list of (int, float))
    """
    m21 = import_music21()
    if isinstance(source, bytes):
        with tempfile.NamedTemporaryFile(suffix=".mid") as f:
            f.write(source)
            f.flush()
            score = m21.converter.parse(f.name, format="midi", quantizePost=False)
    elif isinstance(source, str):
        score = m21.converter.parse(source, format="musicxml")
    else:
        score = source
    out = []
    for part in performed_parts(score):
        notes = []
        for el in part:
            p = max(el.pitches).midi if el.isChord else el.pitch.midi
            notes.append((int(p), float(el.duration.quarterLength)))
        out.append(notes)
    return out


def engrave(score, options: dict | None = None) -> str:
    """Inline SVG of a score, engraved by Verovio from its MusicXML (offline, ~60 ms for 4 bars):
    all pages of the layout :data:`ENGRAVING` (updated by ``options``), one after another.

    Notebook: notebooks/01_markov.ipynb
    Returns:
        svg (str): one or more ``<svg>`` elements, scalable (viewBox), no scripts, no links
    Raises:
        ValueError: Verovio could not read the score
    """
    import verovio

    verovio.enableLog(verovio.LOG_ERROR)  # warnings (e.g. a tie left open at a cut) would print
    tk = verovio.toolkit()
    tk.setOptions({**ENGRAVING, **(options or {})})
    if not tk.loadData(to_musicxml(score)):
        raise ValueError("Verovio could not read the score's MusicXML")
    pages = [tk.renderToSVG(i) for i in range(1, tk.getPageCount() + 1)]
    # Verovio's SVG starts with an XML declaration; inline in HTML it is not wanted
    return "".join(re.sub(r"^<\?xml[^>]*>\s*", "", svg) for svg in pages)


def save(score, path: str | Path) -> Path:
    """Write the score as ``.mid``/``.midi`` or ``.musicxml``/``.xml`` (by the suffix) and return the path.

    Raises:
        ValueError: another suffix
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi"):
        path.write_bytes(to_midi(score))
    elif suffix in (".musicxml", ".xml"):
        path.write_text(to_musicxml(score), encoding="utf-8")
    else:
        raise ValueError(f"path must end in .mid or .musicxml, got {path.name!r}")
    return path
