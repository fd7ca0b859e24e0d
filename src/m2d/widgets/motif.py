"""One motif, three composers: the reader types a motif (``"C4/8 E4/8 G4/4"``, syntax in
:mod:`m2d.motif`); a Markov chain, the Transformer and the LSTM each continue it; the three
continuations are engraved, played and scored side by side with their log-probabilities
(each under the model that wrote it). The static counterpart precomputes a grid of preset motifs x
seeds: a picture of the three answers, one score with the three answers one after another, and
its sound.

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np

from m2d import checks, i18n
from m2d import motif as motif_syntax
from m2d.widgets._common import ScoreView, error_html, ok_html

#: Motifs offered in the widget and precomputed for the static page.
PRESET_MOTIFS: dict[str, str] = {
    "rising triad": "C4/8 E4/8 G4/4",
    "chorale opening": "G4/4 G4/4 A4/4 B4/4",
    "falling line": "C5/4 B4/8 A4/8 G4/2",
    "dotted rhythm": "E4/4. F4/8 G4/4 C5/4",
}
#: Colours of the composers in the pictures (the motif is grey).
COLORS = ("C3", "C0", "C2", "C1", "C4")


def book_composers(split: dict, progress: bool = False) -> dict[str, Any]:
    """The book's three composers, trained on ``split`` (cached): Part II's best Markov baseline
    (a pitch-class chain times a duration chain, each order chosen on the validation split,
    :class:`m2d.ngram.FactoredNGram`), and Part II's Transformer and LSTM with their duration heads.
    All three score the same events (pitch class and note value), so their log-probabilities
    are in the same units.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        split (dict): ``corpus.load_split(...)`` (train/val/test Melody lists)
        progress (bool): progress bars while a network trains (first run only)
    Returns:
        composers (dict): ``{"Markov": ..., "Transformer": ..., "LSTM": ...}``
    """
    from m2d import ngram
    from m2d.models import lstm, transformer

    k_pitch, _ = ngram.select_order(split["train"], split["val"], range(7))
    durs = [ngram.duration_sequences(split[s]) for s in ("train", "val")]
    k_dur, _ = ngram.select_order(*durs, range(7), n_states=ngram.N_DURATIONS)
    markov = ngram.FactoredNGram(k_pitch, k_dur, alpha=0.1).fit(split["train"])
    return {"Markov": markov,
            "Transformer": transformer.book_model(split, progress=progress)[0],
            "LSTM": lstm.book_model(split, progress=progress)[0]}


def compose(composers: dict[str, Any], pitches: Sequence[int], durations: Sequence[float],
            n_notes: int = 8, rng: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Each composer's continuation of one motif and its log2-probability under that composer
    (:func:`m2d.models.melody_lm.continue_motif`; each composer its own seed, derived from ``rng``).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        composers (dict): name -> model (a melody model with a duration head, or a chain of notes)
        pitches, durations (sequences): the motif (MIDI numbers, quarter notes)
        n_notes (int): notes each composer adds
        rng (int): seed (non-negative)
    Returns:
        answers (dict): name -> (pitches, durations, log2p) of the continuation alone
    Raises:
        ValueError: from ``continue_motif`` (bad motif, n_notes < 1, a model without durations)
    """
    from m2d.models import melody_lm

    if not composers:
        raise ValueError("composers is empty: give at least one model")
    # one independent seed per composer, all derived from ``rng``: with one shared seed, two
    # models with similar distributions draw the same notes from the same uniforms
    seeds = np.random.SeedSequence(checks.integer("rng", rng, low=0)).generate_state(len(composers))
    return {name: melody_lm.continue_motif(model, pitches, durations, n_notes, rng=int(seed))
            for (name, model), seed in zip(composers.items(), seeds, strict=True)}


def _figure(motif_notes, answers, dpi: int = 72):
    """Three piano rolls, one per composer: the motif in grey, the continuation in colour."""
    import matplotlib.pyplot as plt

    from m2d import plotting

    mp, md = motif_notes
    fig, axes = plt.subplots(len(answers), 1, figsize=(9, 1.35 * len(answers) + 0.4), dpi=dpi,
                             sharex=True, squeeze=False)
    end = max(md.sum() + d.sum() for _, d, _ in answers.values())
    for ax, (k, (name, (p, d, lp))) in zip(axes[:, 0], enumerate(answers.items()), strict=True):
        plotting.piano_roll(np.concatenate([mp, p]), np.concatenate([md, d]), ax=ax,
                            color=COLORS[k % len(COLORS)],
                            title=f"{name}: log2 p(continuation | motif) = {lp:.1f} bits")
        for bar in ax.patches[: len(mp)]:
            bar.set_facecolor("0.7")
        ax.axvline(md.sum(), color="k", ls=":", lw=1)
        ax.set_xlim(0, end)
        ax.title.set_fontsize(9)
        if ax is not axes[-1, 0]:
            ax.set_xlabel("")
    fig.tight_layout()
    return fig


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


class MotifComposers:
    """The live widget: a motif box (with presets), a seed and a length; for each composer its
    continuation's log-probability, score (with MIDI/MusicXML save links) and sound. A motif that
    does not parse gets a message beside the box; the text stays as typed and the last answers stay.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        composers (dict): name -> model, as for :func:`compose`
        motif (str): the first motif
        n_notes (int): notes each composer adds
        seed (int): seed shared by the composers
        tempo (float): quarter notes per minute of the sound
    State: ``motif`` ((pitches, durations)), ``answers`` (:func:`compose`'s result), ``error``.
    """

    def __init__(self, composers: dict[str, Any], motif: str = PRESET_MOTIFS["rising triad"],
                 n_notes: int = 8, seed: int = 0, tempo: float = 100.0):
        if not composers:
            raise ValueError("composers is empty: give at least one model")
        self.composers, self.tempo = dict(composers), float(tempo)
        self.preset = W.Dropdown(options=["(typed)", *PRESET_MOTIFS], value="(typed)",
                                 description="preset")
        self.text = W.Text(value=motif, description="motif", continuous_update=False,
                           layout=W.Layout(width="360px"))
        self.status = W.HTML()
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                     layout=W.Layout(width="160px"))
        self.n_notes = W.IntSlider(value=n_notes, min=2, max=32, description="notes to add")
        self.titles = {name: W.HTML() for name in self.composers}
        self.scores = {name: ScoreView(name=f"motif-{name}") for name in self.composers}
        self.sounds = {name: W.HTML() for name in self.composers}
        self.motif: tuple[np.ndarray, np.ndarray] | None = None
        self.answers: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        self.error: str | None = None
        self.preset.observe(self._preset, names="value")
        for w in (self.text, self.seed, self.n_notes):
            w.observe(lambda _c: self.update(), names="value")
        self.update()

    def _preset(self, change) -> None:
        if change["new"] in PRESET_MOTIFS:
            self.text.value = PRESET_MOTIFS[change["new"]]  # triggers update

    def update(self) -> None:
        """Parse the motif, let every composer answer, refresh titles, scores and sounds."""
        from m2d import players, soundfont

        try:
            mp, md = motif_syntax.parse_motif(self.text.value)
            answers = compose(self.composers, mp, md, int(self.n_notes.value),
                              rng=int(self.seed.value))
        except ValueError as err:
            self.error = str(err)
            self.status.value = error_html(str(err))
            return
        self.error, self.motif, self.answers = None, (mp, md), answers
        self.status.value = ok_html(f"{mp.size} notes: {motif_syntax.format_motif(mp, md)}")
        for name, (p, d, lp) in answers.items():
            allp, alld = np.concatenate([mp, p]), np.concatenate([md, d])
            self.titles[name].value = (f"<b>{name}</b>: log<sub>2</sub> p(continuation | motif) "
                                       f"= {lp:.1f} bits ({lp / len(p):.2f} per note)")
            if self.scores[name].show(allp, alld, key="C"):
                self.scores[name].offer()
            y = soundfont.render_melody(allp, alld, tempo=self.tempo)
            self.sounds[name].value = players.play(
                y, label=f"{name}: the motif and its continuation")._repr_html_()

    @property
    def widget(self) -> W.Widget:
        rows = [W.VBox([self.titles[n], self.scores[n].widget, self.sounds[n]],
                       layout=W.Layout(border="1px solid #ddd", padding="4px", margin="2px 0"))
                for n in self.composers]
        return W.VBox([W.HBox([self.preset, self.text, self.status]),
                       W.HBox([self.seed, self.n_notes]), *rows])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(i18n.localize_widget(self.widget))


def motif_frame(composers: dict[str, Any], motif: str, seed: int = 0, n_notes: int = 8,
                tempo: float = 100.0, label: str = "motif"):
    """One frame of :func:`composers_static`: the answers to ``motif`` as piano rolls (PNG), as one
    score (:func:`m2d.notation.sections_score`; each composer's section is the motif and its
    continuation) with MIDI and MusicXML, and that score played on a SoundFont piano (MP3).

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        frame (m2d.static.Frame)
    Raises:
        ValueError: a motif that does not parse (:func:`m2d.motif.parse_motif`)
    """
    from m2d import audio, notation, soundfont, static

    mp, md = motif_syntax.parse_motif(motif)
    answers = compose(composers, mp, md, n_notes, rng=int(seed))
    score = notation.sections_score(
        [(name, np.concatenate([mp, p]), np.concatenate([md, d]))
         for name, (p, d, _) in answers.items()], key="C")
    y = soundfont.render_score(score, tempo=tempo)
    caption = (f"{label} ({motif}), seed {seed}: each section is the motif and one composer's "
               f"{n_notes} notes — {', then '.join(answers)}")
    name = f"motif-{label.replace(' ', '-')}-seed{seed}"
    return static.Frame(static.compact_png(_png(_figure((mp, md), answers))),
                        audio.encode_mp3(y, audio.SR), caption=caption,
                        score=static.Score(notation.engrave(score), notation.to_midi(score),
                                           notation.to_musicxml(score), name))


def composers_static(composers: dict[str, Any], motifs: dict[str, str] | None = None,
                     seeds: Sequence[int] = (0, 1), n_notes: int = 8, tempo: float = 100.0):
    """The static counterpart: for every (preset motif, seed) the three answers as piano rolls,
    as one score (:func:`m2d.notation.sections_score`: each composer's section is the motif and its
    continuation, in turn) with its MIDI and MusicXML, and that score played on a SoundFont piano.

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        player (IPython.display.HTML): a frame player (:mod:`m2d.static`)
    """
    from m2d import static

    motifs = dict(PRESET_MOTIFS if motifs is None else motifs)

    def make(motif: str, seed: int) -> static.Frame:
        return motif_frame(composers, motifs[motif], int(seed), n_notes, tempo, label=motif)

    params = {"motif": list(motifs), "seed": list(seeds)}
    frames = static.render_frames(params, make)
    return static.frame_player(params, frames, sliders=("seed",),
                               title="One motif, three composers (static version: motifs x seeds)")
