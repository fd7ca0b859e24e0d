"""Real melodies from the corpus bundled inside the ``music21`` package (nothing is downloaded).

Two sources, both credited in the book's references:

- ``"bach"``: the soprano line of every Bach chorale in music21's corpus (371 chorales,
  ``music21.corpus.chorales.Iterator``);
- ``"essen"``: a subset of the Essen Folksong Collection (Schaffrath 1995) as shipped with music21
  (ABC files found with ``corpus.getComposer('essenFolksong')``; ``corpus.search`` finds none).
  Its licence is non-commercial/unclear, so extracted Essen data is cached locally and never
  committed.

A melody is a sequence of (MIDI pitch, duration in quarter notes), ties merged, rests dropped,
chords reduced to their top note. A chorale also keeps its bass line (same representation) when
soprano and bass start together and neither has a rest inside, so the two stay aligned when played
from their durations alone (Part III renders soprano + bass). music21 parsing is slow (all Bach
about 37 s here), so the extraction runs once and is cached on disk, keyed by the music21 version
and the selection.

Notebook: notebooks/01_markov.ipynb (and every chapter that uses real music)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from m2d import cache

#: Bumped whenever the extraction below changes what it returns (invalidates the cache).
EXTRACT_VERSION = 3  # 3: chorale bass lines

#: Default Essen subset: German children's songs and old German songs (~520 tunes, ~16 s to parse).
DEFAULT_ESSEN_FILES: tuple[str, ...] = ("kinder0", "altdeu10")

SOURCES = ("bach", "essen")
MIN_NOTES = 8


@dataclass(frozen=True)
class Melody:
    """A monophonic melody: MIDI pitches with durations (in quarter notes).

    Attributes:
        pitches (np.ndarray): MIDI note numbers, int, shape (n,)
        durations (np.ndarray): durations in quarter notes, float, shape (n,)
        source (str): ``"bach"`` or ``"essen"``
        id (str): stable identifier, e.g. ``"bach/bwv269"`` or ``"essen/kinder0/12"``
        title (str): title from the score's metadata (may be empty)
        tonic (int): pitch class (0 = C) of the key's tonic, as analysed by music21
        mode (str): ``"major"`` or ``"minor"``
        bass_pitches, bass_durations (np.ndarray or None): a chorale's bass line, aligned with the
            melody (both start together, neither has a rest inside); None where it is not
    """

    pitches: np.ndarray
    durations: np.ndarray
    source: str
    id: str
    title: str
    tonic: int
    mode: str
    bass_pitches: np.ndarray | None = None
    bass_durations: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pitches)

    @property
    def pitch_classes(self) -> np.ndarray:
        """Pitch classes in Z12 (C = 0, ..., B = 11)."""
        return np.mod(self.pitches, 12)

    def transposed(self, semitones: int) -> Melody:
        """The melody moved by ``semitones`` (tonic and bass move with it)."""
        bass = None if self.bass_pitches is None else self.bass_pitches + int(semitones)
        return replace(
            self, pitches=self.pitches + int(semitones), tonic=(self.tonic + int(semitones)) % 12,
            bass_pitches=bass,
        )

    def to_tonic(self, tonic: int = 0) -> Melody:
        """Transpose so the key's tonic becomes pitch class ``tonic``, by the smallest shift (-6..5)."""
        shift = (tonic - self.tonic) % 12
        if shift > 5:
            shift -= 12
        return self.transposed(shift)


def melody_notes(melody, pitch_classes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The two arrays of a melody given either as a :class:`Melody` or as a pair
    ``(pitches, durations)``: MIDI pitches (or, with ``pitch_classes``, pitch classes in Z12) and
    durations in quarter notes (float). No range or shape checks: each caller checks what it needs.

    Notebook: notebooks/01_markov.ipynb, notebooks/02_attention.ipynb
    Raises:
        ValueError: neither a Melody nor a pair
    """
    attr = "pitch_classes" if pitch_classes else "pitches"
    if hasattr(melody, attr) and hasattr(melody, "durations"):  # a Melody, or anything shaped so
        return np.asarray(getattr(melody, attr)), np.asarray(melody.durations, dtype=float)
    if isinstance(melody, tuple) and len(melody) == 2:
        return np.asarray(melody[0]), np.asarray(melody[1], dtype=float)
    what = "pitch classes" if pitch_classes else "pitches"
    raise ValueError(f"a melody must be a corpus.Melody or a ({what}, durations) pair, got "
                     f"{type(melody).__name__}")


def _key_of(stream) -> tuple[int, str]:
    key = stream.analyze("key")
    return int(key.tonic.pitchClass), str(key.mode)


def _notes_of(stream) -> tuple[list[int], list[float]]:
    pitches: list[int] = []
    durations: list[float] = []
    for el in stream.stripTies().flatten().notes:
        if el.duration.quarterLength <= 0:  # grace notes
            continue
        p = max(x.midi for x in el.pitches) if el.isChord else el.pitch.midi
        pitches.append(int(p))
        durations.append(float(el.duration.quarterLength))
    return pitches, durations


def _aligned_voice(top, low) -> tuple[list[int], list[float]] | None:
    """The lower voice's notes when both voices start together and neither has a rest between its
    first and last note (then durations alone keep them aligned); otherwise None."""
    def spans(stream):
        notes = [n for n in stream.stripTies().flatten().notes if n.duration.quarterLength > 0]
        return [(float(n.offset), float(n.duration.quarterLength)) for n in notes]

    a, b = spans(top), spans(low)
    if not a or not b or abs(a[0][0] - b[0][0]) > 1e-6:
        return None
    for sp in (a, b):
        if any(abs(o1 - (o0 + d0)) > 1e-6 for (o0, d0), (o1, _) in zip(sp, sp[1:], strict=False)):
            return None
    return _notes_of(low)


def import_music21():
    """``import music21`` without its notebook side effect.

    Imported inside Jupyter, music21 starts a timer that, one second later, switches matplotlib's
    inline figures to 'retina' and turns on interactive mode: every later figure of the chapter
    would carry four times the pixels (chapter 3's page weighed 5.3 MB). The timer is cancelled
    here, so the figures keep the notebook's own settings.

    Returns:
        music21 (module)
    """
    import music21

    timer = getattr(getattr(music21, "ipython21", None), "t", None)  # threading.Timer, in Jupyter only
    if timer is not None:
        timer.cancel()
    return music21


def _record(part, source: str, ident: str, title: str, bass_part=None) -> dict | None:
    pitches, durations = _notes_of(part)
    if len(pitches) < MIN_NOTES:
        return None
    tonic, mode = _key_of(part)
    rec = dict(pitches=pitches, durations=durations, source=source, id=ident, title=title,
               tonic=tonic, mode=mode)
    bass = None if bass_part is None else _aligned_voice(part, bass_part)
    if bass is not None:
        rec["bass_pitches"], rec["bass_durations"] = bass
    return rec


def _extract_bach() -> list[dict]:
    from music21 import corpus

    records = []
    for fn in corpus.chorales.Iterator(returnType="filename"):
        score = corpus.parse(fn)
        title = (score.metadata.title if score.metadata else "") or fn
        bass = score.parts[-1] if len(score.parts) > 1 else None
        rec = _record(score.parts[0], "bach", str(fn), str(title), bass)
        if rec:
            records.append(rec)
    return records


def _essen_paths(files: Sequence[str]) -> list:
    from music21 import corpus

    by_stem = {str(p).rsplit("/", 1)[-1].removesuffix(".abc"): p
               for p in corpus.getComposer("essenFolksong")}
    missing = [f for f in files if f not in by_stem]
    if missing:
        raise ValueError(f"unknown Essen file(s) {missing}; available: {sorted(by_stem)}")
    return [by_stem[f] for f in files]


def _extract_essen(files: Sequence[str]) -> list[dict]:
    from music21 import corpus

    records = []
    for stem, path in zip(files, _essen_paths(files), strict=True):
        opus = corpus.parse(path)
        for i, score in enumerate(opus.scores):
            title = (score.metadata.title if score.metadata else "") or ""
            rec = _record(score, "essen", f"essen/{stem}/{i}", str(title))
            if rec:
                records.append(rec)
    return records


def check_records(records) -> None:
    """Schema of the cached extraction: a non-empty list of melody records, each with MIDI
    ``pitches`` (integers 0..127) and positive ``durations`` of the same length (at least
    MIN_NOTES), text ``source``/``id``/``title``, a ``tonic`` 0..11 and a ``mode``.

    Raises:
        ValueError: naming the first record and field that is wrong (the cache then rebuilds)
    """
    if not isinstance(records, list) or not records:
        raise ValueError(f"corpus records must be a non-empty list, got {str(records)[:40]}")
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise ValueError(f"record {i} is not a dict")
        missing = {"pitches", "durations", "source", "id", "title", "tonic", "mode"} - set(r)
        if missing:
            raise ValueError(f"record {i} lacks {sorted(missing)}")
        p, d = r["pitches"], r["durations"]
        if (not isinstance(p, list) or not isinstance(d, list) or len(p) != len(d)
                or len(p) < MIN_NOTES):
            raise ValueError(f"record {i}: pitches and durations must be lists of one length "
                             f">= {MIN_NOTES}")
        if not all(isinstance(x, int) and 0 <= x <= 127 for x in p):
            raise ValueError(f"record {i}: pitches must be MIDI integers 0..127")
        if not all(isinstance(x, (int, float)) and x > 0 for x in d):
            raise ValueError(f"record {i}: durations must be positive numbers")
        if not (isinstance(r["tonic"], int) and 0 <= r["tonic"] < 12) or r["mode"] not in (
                "major", "minor"):
            raise ValueError(f"record {i}: tonic must be 0..11 and mode 'major' or 'minor'")
        if ("bass_pitches" in r) != ("bass_durations" in r):
            raise ValueError(f"record {i}: bass_pitches and bass_durations come together")
        if "bass_pitches" in r:
            bp, bd = r["bass_pitches"], r["bass_durations"]
            if (not isinstance(bp, list) or not isinstance(bd, list) or len(bp) != len(bd)
                    or not bp or not all(isinstance(x, int) and 0 <= x <= 127 for x in bp)
                    or not all(isinstance(x, (int, float)) and x > 0 for x in bd)):
                raise ValueError(f"record {i}: the bass must be MIDI integers with positive "
                                 f"durations, one per note")


def _to_melody(rec: dict) -> Melody:
    return Melody(
        pitches=np.asarray(rec["pitches"], dtype=np.int64),
        durations=np.asarray(rec["durations"], dtype=np.float64),
        source=rec["source"], id=rec["id"], title=rec["title"], tonic=int(rec["tonic"]),
        mode=rec["mode"],
        bass_pitches=(np.asarray(rec["bass_pitches"], dtype=np.int64)
                      if "bass_pitches" in rec else None),
        bass_durations=(np.asarray(rec["bass_durations"], dtype=np.float64)
                        if "bass_durations" in rec else None),
    )


def _unique(melodies: list[Melody]) -> list[Melody]:
    """Drop repeats: the chorale iterator lists some files twice, and several chorales share one
    tune (same interval sequence and rhythm). A repeat in both training and test data would
    flatter every model, so only the first occurrence is kept."""
    seen: set = set()
    out = []
    for m in melodies:
        sig = (np.diff(m.pitches).tobytes(), m.durations.tobytes())
        if m.id in seen or sig in seen:
            continue
        seen.update((m.id, sig))
        out.append(m)
    return out


def load_melodies(
    source: str = "bach",
    transpose_to: int | None = 0,
    essen_files: Sequence[str] = DEFAULT_ESSEN_FILES,
) -> list[Melody]:
    """Melodies of one source, extracted once from music21's corpus and then read from the cache.

    Notebook: notebooks/01_markov.ipynb
    Args:
        source (str): ``"bach"`` (chorale soprano lines; 371 files, repeats dropped) or
            ``"essen"`` (Essen folk songs)
        transpose_to (int or None): move every melody so its tonic is this pitch class
            (0 = C, by the smallest shift); ``None`` keeps the original keys
        essen_files (sequence of str): which Essen ABC files (stems) make up the ``"essen"`` source
    Returns:
        melodies (list[Melody]): in corpus order
    Raises:
        ValueError: unknown source or Essen file name
    """
    music21 = import_music21()

    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}")
    if isinstance(essen_files, str):
        raise ValueError(f"essen_files must be a list of file stems, e.g. [{essen_files!r}], not the "
                         f"string {essen_files!r}")
    selection = list(essen_files) if source == "essen" else []
    key = cache.cache_key(EXTRACT_VERSION, music21.__version__, source, selection)
    build = _extract_bach if source == "bach" else (lambda: _extract_essen(tuple(essen_files)))
    records = cache.cached(f"corpus-{source}", key, build, cache.dump_json, cache.load_json,
                           suffix="json", check=check_records)
    melodies = _unique([_to_melody(r) for r in records])
    if transpose_to is not None:
        melodies = [m.to_tonic(transpose_to) for m in melodies]
    return melodies


def split_of(melody_id: str, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> str:
    """Deterministic split of one melody by a hash of its id: ``"train"``, ``"val"`` or ``"test"``.

    Hashing the id (not shuffling a list) keeps every melody in the same split when the selection
    grows or shrinks, so results of different chapters stay comparable.
    Args:
        melody_id (str): the melody's stable id
        fractions (tuple): train, validation, test fractions summing to 1
    Returns:
        split (str)
    Raises:
        ValueError: fractions negative or not summing to 1
    """
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or np.any(f < 0) or abs(f.sum() - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    u = int(hashlib.sha256(melody_id.encode()).hexdigest()[:12], 16) / 16**12
    if u < f[0]:
        return "train"
    return "val" if u < f[0] + f[1] else "test"


def train_val_test(
    melodies: Sequence[Melody], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> dict[str, list[Melody]]:
    """Split melodies into ``{"train", "val", "test"}`` lists with :func:`split_of` (deterministic).

    Notebook: notebooks/01_markov.ipynb
    Args:
        melodies (sequence of Melody)
        fractions (tuple): train, validation, test fractions
    Returns:
        splits (dict[str, list[Melody]])
    """
    out: dict[str, list[Melody]] = {"train": [], "val": [], "test": []}
    for m in melodies:
        out[split_of(m.id, fractions)].append(m)
    return out


def load_split(source: str = "bach", transpose_to: int | None = 0) -> dict[str, list[Melody]]:
    """:func:`load_melodies` followed by :func:`train_val_test`: the split every chapter shares."""
    return train_val_test(load_melodies(source, transpose_to))
