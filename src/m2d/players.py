"""Sound in the page: embedded audio players (MP3 data URIs, offline) and the book's listen check.

The signal is never re-normalised here, so relative loudness between players is kept. Synthesis and
spectrograms live in :mod:`m2d.audio`; this module only shows sound.

Notebook: every chapter that plays sound
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence

import numpy as np

from m2d.audio import SR, audio_stats, encode_mp3, synthesize


class Player:
    """An audio player for notebooks and the HTML book: the sound embedded as an MP3 data URI
    (works offline; a tenth of the size of IPython's WAV). ``signal``/``sr`` keep the samples.
    The browser's own controls make it keyboard-operable; ``label`` is its accessible name (what a
    screen reader announces: say what is heard).

    Raises:
        ValueError: non-finite samples or samples outside [-1, 1] (from :func:`m2d.audio.encode_mp3`)
    """

    def __init__(self, y: np.ndarray, sr: int = SR, label: str = "sound clip"):
        self.signal = np.asarray(y, dtype=np.float32)
        self.sr = sr
        self.label = str(label).strip() or "sound clip"
        self.data = encode_mp3(self.signal, sr)

    def _repr_html_(self) -> str:
        b64 = base64.b64encode(self.data).decode()
        name = html.escape(self.label, quote=True)
        return (f'<audio controls preload="metadata" aria-label="{name}">'
                f'<source src="data:audio/mpeg;base64,{b64}" type="audio/mpeg"></audio>')

    def _repr_markdown_(self) -> str:
        """A printed pointer (what the PDF edition shows when there is no picture)."""
        return printed_pointer(f"Audio ({self.signal.size / self.sr:.1f} s): {self.label}")

    def _repr_png_(self) -> bytes | None:
        """The printed form, made while the book is built (:func:`printing`): the sound's
        spectrogram, titled with the label (the PDF edition picks it; HTML and Jupyter pick the
        player). None otherwise, so a live notebook or widget never waits for it."""
        if not printing():
            return None
        from m2d import plotting

        return plotting.sound_png(self.signal, self.sr, self.label)


def printing() -> bool:
    """True while the book is built (``M2D_HTML_BUILD``, set by ``make book`` and ``make pdf``):
    players then also offer their printed forms (a spectrogram, a piano roll) to the PDF."""
    return bool(os.environ.get("M2D_HTML_BUILD"))


#: The sentence a printed output ends with; tools/m2d_sphinx.py names the page in the PDF.
HTML_EDITION = "hear it in the HTML edition of this page"


def md_escape(text: str) -> str:
    """``text`` with Markdown's punctuation escaped (a caption shown as it is written)."""
    return "".join("\\" + c if c in "\\`*_{}[]<>()#+-.!|$" else c for c in str(text))


def printed_pointer(what: str) -> str:
    """Markdown for an output that only plays in the browser: what it is, and where to hear it."""
    return f"*{md_escape(what)}*: {HTML_EDITION}."


def play(y: np.ndarray, sr: int = SR, label: str = "sound clip") -> Player:
    """An audio player for signal ``y`` (embedded MP3; works offline and in the HTML book), named
    ``label`` for screen readers.

    The signal must lie in [-1, 1]; it is not re-normalised.
    Raises:
        ValueError: non-finite samples or samples outside [-1, 1]
    """
    return Player(y, sr, label)


def play_melody(pitches, durations=0.5, tempo: float = 120.0, sr: int = SR,
                label: str = "synthesized melody") -> Player:
    """Synthesize a melody (:func:`m2d.audio.synthesize`) and return its audio player."""
    return play(synthesize(pitches, durations, tempo=tempo, sr=sr), sr=sr, label=label)


def listen(y: np.ndarray, sr: int = SR, min_rms: float = 0.01, label: str = "sound clip") -> Player:
    """An embedded player for y (:func:`play`) after the book's listen check: non-empty, RMS above
    ``min_rms`` (not silence) and no sample at full scale (no clipping).

    Notebook: notebooks/03_diffusion.ipynb
    Raises:
        ValueError: naming the failed check
    """
    stats = audio_stats(y, sr)
    if stats["seconds"] <= 0:
        raise ValueError("empty signal: nothing to play")
    if stats["rms"] <= min_rms:
        raise ValueError(f"signal is nearly silent (RMS {stats['rms']:.4f} <= {min_rms})")
    if stats["clipped_fraction"] > 0:
        raise ValueError(f"{stats['clipped_fraction']:.2%} of the samples clip at full scale")
    return play(y, sr, label)


def players_html(rows: dict[str, Sequence[tuple[str, np.ndarray]]], sr: int = SR) -> str:
    """An HTML table of checked players (:func:`listen`): one row per label, one (caption, signal)
    cell per column; each player is named "label: caption" for screen readers.

    Notebook: notebooks/03_diffusion.ipynb
    """
    out = ["<table style='border-collapse:collapse;font-size:13px'>"]
    for label, cells in rows.items():
        out.append(f"<tr><th style='text-align:left;padding:2px 8px'>{html.escape(label)}</th>")
        for caption, y in cells:
            player = listen(y, sr, label=f"{label}: {caption}")._repr_html_()
            player = player.replace("<audio controls", '<audio controls style="width:150px"')
            out.append(f"<td style='padding:2px 4px;text-align:center'>{html.escape(caption)}<br>"
                       f"{player}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


class ScorePlayer:
    """A piece as a musician meets it in the page: its score (inline SVG engraved by Verovio), its
    sound (an embedded, listen-checked MP3) and the files to take home: MIDI and MusicXML downloads
    (data URIs, so they work offline and from disk).

    Notebook: notebooks/01_markov.ipynb
    Args:
        score (music21.stream.Score): the music
        y (np.ndarray): its sound, in [-1, 1] (e.g. :func:`m2d.soundfont.render_score`)
        name (str): file name stem of the downloads, e.g. ``"bwv269"`` (anything but letters,
            digits, ``_ . -`` becomes ``-``)
        caption (str): what is heard (shown above the score)
        sr (int): sample rate of ``y``
    Raises:
        ValueError: a name with no letters or digits, or a sound that fails the listen check
    """

    def __init__(self, score, y: np.ndarray, name: str, caption: str = "", sr: int = SR):
        from m2d import notation

        self.name, self.caption = file_stem(name), caption
        self.player = listen(y, sr, label=f"sound of {caption or self.name}")
        self.svg = notation.engrave(score)
        self.midi = notation.to_midi(score)
        self.musicxml = notation.to_musicxml(score)
        self.parts = score_parts(score)

    def _repr_html_(self) -> str:
        cap = f"<div style='font-weight:600;margin:4px 0'>{html.escape(self.caption)}</div>" \
            if self.caption else ""
        return (f"<figure class='m2d-score' style='margin:8px 0'>{cap}"
                f"<div class='m2d-score-svg' role='img' "
                f"aria-label='score: {html.escape(self.caption or self.name, quote=True)}' "
                f"style='max-width:100%;overflow-x:auto'>{self.svg}</div>"
                f"<div style='display:flex;gap:12px;align-items:center;flex-wrap:wrap'>"
                f"{self.player._repr_html_()}"
                f"{download_links(self.name, self.midi, self.musicxml)}"
                f"</div></figure>")

    def _repr_markdown_(self) -> str:
        """A printed pointer: what the score plays, and where its score, sound and files are."""
        return printed_pointer(f"Score, sound, MIDI and MusicXML: {self.caption or self.name}")

    def _repr_png_(self) -> bytes | None:
        """The printed form while the book is built (:func:`printing`): the notes of every part
        at their onsets, titled with the caption; None otherwise."""
        if not printing() or not any(self.parts):
            return None
        from m2d import plotting

        return plotting.score_png(self.parts, self.caption or self.name)


def score_parts(score) -> list[list[tuple[float, float, int]]]:
    """(onset, duration in quarter notes, MIDI pitch) of every note of each part of a music21
    score (a chord gives its top note); a score without parts is one part."""
    parts = list(getattr(score, "parts", [])) or [score]
    out = []
    for part in parts:
        notes = []
        for n in part.flatten().notes:
            midi = max(p.midi for p in n.pitches)
            notes.append((float(n.offset), float(n.quarterLength), int(midi)))
        out.append(notes)
    return out


#: MIME types of the score downloads (data URIs).
MIDI_MIME = "audio/midi"
MUSICXML_MIME = "application/vnd.recordare.musicxml+xml"


def file_stem(name: str) -> str:
    """A safe file-name stem for downloads: anything but letters, digits and ``_ . -`` becomes ``-``
    (at most 80 characters), e.g. ``"../Markov k=3"`` -> ``"Markov-k-3"``.

    Raises:
        ValueError: a name with no letters or digits
    """
    import re

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-.")[:80]
    if not stem:
        raise ValueError(f"name must contain letters or digits for the file names, got {name!r}")
    return stem


def download_links(name: str, midi: bytes, musicxml: str, style: str = "") -> str:
    """HTML of the two take-home links of a piece: ``<a download='name.mid'>`` and
    ``<a download='name.musicxml'>`` with the files inside as base64 data URIs, so they work offline,
    from disk, in Jupyter, Binder and Colab (no server file is involved).

    Notebook: notebooks/01_markov.ipynb (score players and the live widgets' save links)
    Args:
        name (str): file stem (made safe with :func:`file_stem`)
        midi (bytes): a standard MIDI file (:func:`m2d.notation.to_midi`)
        musicxml (str): a MusicXML document (:func:`m2d.notation.to_musicxml`)
        style (str): inline CSS of each link (e.g. to draw them as buttons)
    Returns:
        html (str): two ``<a>`` elements
    Raises:
        ValueError: a name with no letters or digits, or an empty file
    """
    stem = file_stem(name)
    if not midi or not musicxml:
        raise ValueError(f"{stem}: empty MIDI or MusicXML file ({len(midi)} and {len(musicxml)} bytes)")
    css = f" style='{html.escape(style)}'" if style else ""
    b64_midi = base64.b64encode(midi).decode()
    b64_xml = base64.b64encode(musicxml.encode("utf-8")).decode()
    return (f"<a download='{stem}.mid'{css} href='data:{MIDI_MIME};base64,{b64_midi}'>MIDI</a>"
            f"<a download='{stem}.musicxml'{css} href='data:{MUSICXML_MIME};base64,{b64_xml}'>"
            "MusicXML</a>")


def score_player(score, y: np.ndarray, name: str, caption: str = "", sr: int = SR) -> ScorePlayer:
    """Score, sound and MIDI/MusicXML downloads of a piece (:class:`ScorePlayer`).

    Notebook: notebooks/01_markov.ipynb
    """
    return ScorePlayer(score, y, name, caption, sr)
