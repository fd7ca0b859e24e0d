"""Markov-chain widgets: the transition-matrix editor (edit P, see pi, read and hear a melody, save
it as MIDI or MusicXML), the P^n explorer, and the worked example's :class:`ToyChainExample` (type a
matrix, see P^n and pi).

Both are thin layers over :mod:`m2d.markov`: every control is an attribute, and ``update()`` recomputes
everything, so tests drive them by setting values. Invalid input never raises into the page: the
:func:`m2d.markov.check_stochastic` message appears beside the grid and the user's edit is kept.

Notebook: notebooks/01_markov.ipynb, notebooks/04_examples.ipynb
"""

from __future__ import annotations

import time
from functools import cache

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection

from m2d import audio, example_chains, i18n, markov, ngram, pitch, players, plotting, soundfont
from m2d.widgets._common import (
    BlitFigure,
    ScoreView,
    WorkedExample,
    annotate_heatmap,
    error_html,
    matrix_text,
    ok_html,
    parse_matrix,
    strip_tags,
)

NAMES = pitch.PITCH_CLASSES
#: Row-sum tolerance of the editor's strict mode.
STRICT_ATOL = 5e-3


@cache
def _fitted(source: str) -> np.ndarray:
    from m2d import corpus

    return ngram.fit_transition_matrix(corpus.load_split(source)["train"], order=1, smoothing=0.5)


def presets() -> dict[str, np.ndarray]:
    """The editor's preset 12x12 matrices (corpus fits are computed on first use, then memoised)."""
    return {
        "Illiac-style": example_chains.illiac_matrix(),
        "uniform": np.full((12, 12), 1 / 12),
        "stepwise": example_chains.stepwise_matrix(),
        "toy C-E-G": example_chains.embed_matrix(example_chains.TOY_CEG, [0, 4, 7]),
        "Bach-fitted": _fitted("bach"),
        "Essen-fitted": _fitted("essen"),
    }


def parse_grid(texts: list[list[str]]) -> np.ndarray:
    """Parse the editor's 12x12 text cells into numbers.

    Raises:
        ValueError: a cell that is not a number, naming its row and column by note name
    """
    A = np.empty((len(texts), len(texts[0])))
    for i, row in enumerate(texts):
        for j, t in enumerate(row):
            try:
                A[i, j] = float(t)
            except ValueError:
                raise ValueError(f"entry ({NAMES[i]} -> {NAMES[j]}) = {t!r} is not a number") from None
    return A


def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") if x else "0"


class TransitionMatrixEditor:
    """Edit a 12x12 transition matrix; see it, its stationary distribution, and read, hear and save
    its melody.

    Controls: ``preset``, the 12x12 ``cells`` (Text), ``normalize`` (button), ``strict`` (rows must
    already sum to 1; otherwise rows are normalised on the fly), ``seed``, ``length``, ``start``,
    ``tempo``. State after ``update()``: ``P``, ``pi``, ``melody`` (MIDI, eighth notes), ``signal``
    (audio), ``error`` (message or None), ``image`` (PNG bytes of the figure), ``score``
    (:class:`~m2d.widgets._common.ScoreView`: the melody engraved in C, and its MIDI and MusicXML
    save links), ``last_timing`` (seconds from the change until the picture, the score, the sound and
    the files were ready).

    Notebook: notebooks/01_markov.ipynb
    """

    def __init__(self, preset: str = "Illiac-style", seed: int = 0, length: int = 32,
                 start: str = "C", tempo: int = 132):
        self._presets = presets()
        self._busy = False
        self._exact: np.ndarray | None = None
        self._shown: list[list[str]] = []
        cell = W.Layout(width="52px", margin="1px")
        self.cells = [[W.Text(layout=cell, continuous_update=False) for _ in NAMES] for _ in NAMES]
        self.preset = W.Dropdown(options=list(self._presets), value=preset, description="preset")
        self.normalize = W.Button(description="normalise rows", tooltip="divide each row by its sum")
        self.strict = W.Checkbox(value=False, description="strict (rows must sum to 1)", indent=False)
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                     layout=W.Layout(width="160px"))
        wide = W.Layout(width="300px")
        self.length = W.IntSlider(value=length, min=8, max=128, description="notes", layout=wide)
        self.start = W.Dropdown(options=list(NAMES), value=start, description="start",
                                layout=W.Layout(width="160px"))
        self.tempo = W.IntSlider(value=tempo, min=60, max=240, step=4, description="tempo", layout=wide)
        self.message = W.HTML()
        self.picture = W.Image(format="png")
        self.player = W.Output()
        self.score = ScoreView("markov-melody")
        self.P = self.pi = self.melody = self.signal = self.error = None
        self.image = b""
        self.last_timing: dict[str, float] = {}
        self._fig, axes = plt.subplots(1, 3, figsize=(13, 3.4),
                                       gridspec_kw={"width_ratios": [1, 1.1, 2]})
        self._axes = axes
        plt.close(self._fig)

        self.preset.observe(lambda _: self.load_preset(), names="value")
        self.normalize.on_click(lambda _: self.normalize_rows())
        for row in self.cells:
            for c in row:
                c.observe(self._changed, names="value")
        for w in (self.strict, self.seed, self.length, self.start, self.tempo):
            w.observe(self._changed, names="value")
        self.load_preset()

    # -- model side ---------------------------------------------------------------------------
    def texts(self) -> list[list[str]]:
        """The grid's current text, row by row."""
        return [[c.value for c in row] for row in self.cells]

    def set_matrix(self, P) -> None:
        """Write matrix P into the grid (one update afterwards, not 144)."""
        A = np.asarray(P, dtype=float)
        self._exact, self._shown = A.copy(), [[_fmt(v) for v in row] for row in A]
        self._busy = True
        try:
            for i, row in enumerate(self.cells):
                for j, c in enumerate(row):
                    c.value = self._shown[i][j]
        finally:
            self._busy = False
        self.update()

    def load_preset(self) -> None:
        self.set_matrix(self._presets[self.preset.value])

    def normalize_rows(self) -> None:
        """The 'normalise rows' button: divide each row by its sum (errors are shown, not raised)."""
        try:
            texts = self.texts()
            A = self._exact if texts == self._shown else parse_grid(texts)
            self.set_matrix(markov.normalize_rows(A))
        except ValueError as exc:
            self._show_error(str(exc))

    def current_matrix(self) -> np.ndarray:
        """The grid as a stochastic matrix (normalised unless strict).

        Raises:
            ValueError: the problem with the user's numbers
        """
        texts = self.texts()
        # untouched since the last preset/normalise: use the exact matrix, not its 3-digit display
        A = self._exact if texts == self._shown else parse_grid(texts)
        if not self.strict.value:
            A = markov.normalize_rows(A)
        # strict: typed numbers such as 0.333 + 0.333 + 0.333 count as summing to 1
        return markov.check_stochastic(A, atol=STRICT_ATOL if self.strict.value else 1e-8)

    def _changed(self, _change=None) -> None:
        if not self._busy:
            self.update()

    def _show_error(self, msg: str) -> None:
        self.error = msg
        self.message.value = error_html(msg)

    def file_name(self) -> str:
        """Stem of the save links: the preset (or "edited") and the seed."""
        source = self.preset.value if self.texts() == self._shown else "edited"
        return f"markov-{source}-seed-{self.seed.value}"

    def update(self) -> None:
        """Recompute from the controls; on invalid input show the message and keep everything else.

        Order: the picture, then the score (the two a reader looks at), then the sound, then the
        files behind the save links."""
        t0 = time.perf_counter()
        try:
            # normalising again absorbs strict-mode round-off
            chain = markov.MarkovChain(markov.normalize_rows(self.current_matrix()))
            pi = chain.stationary
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.error = None
        self.P, self.pi = chain.P, pi
        pcs = chain.sample(self.length.value, self.start.value, rng=self.seed.value)
        self.melody = pitch.pcs_to_midi(pcs)
        ent = chain.entropy_rate
        self.message.value = ok_html(f"stochastic; entropy rate {ent:.2f} bits/note")
        self._draw()
        timing = {"picture": time.perf_counter() - t0}
        self.score.show(self.melody, 0.5, key="C")  # the presets live in C, as the chapter's chains
        timing["score"] = time.perf_counter() - t0
        # the piano; a short release tail (the static page embeds one sound per frame)
        self.signal = soundfont.render_melody(self.melody, 0.5, tempo=self.tempo.value, tail=0.3)
        self.player.clear_output(wait=True)
        with self.player:
            from IPython.display import display

            display(players.play(self.signal, label="melody sampled from the edited matrix"))
        timing["sound"] = time.perf_counter() - t0
        self.score.offer(self.file_name())
        timing["files"] = time.perf_counter() - t0
        self.last_timing = timing

    def _draw(self) -> None:
        """Blitted redraw (:class:`BlitFigure`): axes and labels are rendered once; an update paints
        only the heatmap, the bars and the notes. Static parts are redone only when the bar scale
        or the melody's length changes."""
        a0, a1, a2 = self._axes
        if not hasattr(self, "_blit"):
            self._blit = BlitFigure(self._fig)
            self._im = plotting.matrix_heatmap(self.P, NAMES, ax=a0, title="transition matrix P")[2]
            self._bars = a1.bar(np.arange(12), self.pi, color="C1")
            a1.set_xticks(np.arange(12), NAMES)
            a1.set_title(r"stationary $\pi$ ($\pi P = \pi$)")
            plotting.piano_roll([55, 81], 0.5, ax=a2, title="sampled melody")  # fixes the look
            for artist in list(a2.patches):
                artist.remove()
            self._roll = PolyCollection([], facecolors="C0", edgecolors="k", linewidths=0.3)
            a2.add_collection(self._roll)
            self._fig.tight_layout()
            self._blit.animate(self._im, *self._bars, self._roll)
        top = a1.get_ylim()[1]
        if not top / 3 < self.pi.max() * 1.02 <= top:  # rescale the bars only when needed,
            a1.set_ylim(0, max(self.pi.max() * 1.25, 1e-12))  # with headroom: edits nudge pi
            self._blit.invalidate()
        length = len(self.melody) * 0.5
        if a2.get_xlim()[1] != length:
            a2.set_xlim(0, length)
            self._blit.invalidate()
        self._im.set_data(self.P)
        self._im.set_clim(0, max(self.P.max(), 1e-12))
        for bar, h in zip(self._bars, self.pi, strict=True):
            bar.set_height(h)
        self._roll.set_verts(plotting.note_rectangles(self.melody, 0.5))
        self.image = self._blit.render()
        self.picture.value = self.image

    # -- view side ----------------------------------------------------------------------------
    @property
    def widget(self) -> W.Widget:
        label = W.Layout(width="32px", margin="1px")
        header = W.HBox([W.Label("", layout=label)]
                        + [W.Label(n, layout=W.Layout(width="52px", margin="1px")) for n in NAMES])
        rows = [W.HBox([W.Label(NAMES[i], layout=label)] + row) for i, row in enumerate(self.cells)]
        controls = W.VBox([W.HBox([self.preset, self.normalize, self.strict]),
                           W.HBox([self.seed, self.start]), W.HBox([self.length, self.tempo])])
        return W.VBox([controls, self.message, W.VBox([header] + rows), self.picture,
                       self.score.sheet,
                       W.HBox([self.player, self.score.files, self.score.message],
                              layout=W.Layout(align_items="center", flex_flow="row wrap"))])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(i18n.localize_widget(self.widget))


class PowerExplorer:
    """Chapman-Kolmogorov explorer: P^n as a heatmap beside a Monte Carlo estimate, and the TV
    distance ||delta_start P^t - pi|| against t with n marked (Theorems 21.1-21.2).

    Controls: ``preset``, ``n``, ``start``, ``chains``. State: ``Pn``, ``estimate``, ``tv``, ``image``.

    Notebook: notebooks/01_markov.ipynb
    """

    def __init__(self, preset: str = "Illiac-style", n: int = 1, start: str = "C", chains: int = 2000,
                 rng: int | np.random.Generator = 0):
        self._presets = presets()
        self._chains: dict[str, markov.MarkovChain] = {}  # validated once per preset
        self.preset = W.Dropdown(options=list(self._presets), value=preset, description="chain")
        self.n = W.IntSlider(value=n, min=0, max=40, description="n")
        self.start = W.Dropdown(options=list(NAMES), value=start, description="start",
                                layout=W.Layout(width="160px"))
        self.chains = W.IntSlider(value=chains, min=100, max=10_000, step=100, description="MC chains")
        self.rng = rng
        self.message = W.HTML()
        self.picture = W.Image(format="png")
        self.Pn = self.estimate = self.tv = None
        self.image = b""
        self._fig, self._axes = plt.subplots(1, 3, figsize=(13, 3.6))
        plt.close(self._fig)
        for w in (self.preset, self.n, self.start, self.chains):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    def _chain(self, name: str) -> markov.MarkovChain:
        if name not in self._chains:
            self._chains[name] = markov.MarkovChain(self._presets[name])
        return self._chains[name]

    def update(self) -> None:
        try:
            P = self._presets[self.preset.value]
            n = self.n.value
            chain = self._chain(self.preset.value)
            self.Pn = chain.n_step(n)
            self.estimate = markov.monte_carlo_n_step(P, n, self.chains.value, rng=self.rng)
        except ValueError as exc:
            self.message.value = error_html(str(exc))
            return
        self.tv = chain.tv_curve(self.start.value, self.n.max)
        err = np.abs(self.Pn - self.estimate).max()
        self.message.value = (f"n = {n}: max |P^n - Monte Carlo| = {err:.3f} "
                              f"(standard error about {0.5 / np.sqrt(self.chains.value):.3f})")
        self._draw(n)

    def _draw(self, n: int) -> None:
        """Blitted redraw: both heatmaps, the TV curve and the n marker are the animated artists."""
        a0, a1, a2 = self._axes
        if not hasattr(self, "_blit"):
            self._blit = BlitFigure(self._fig)
            self._im0 = plotting.matrix_heatmap(self.Pn, NAMES, ax=a0, vmax=1,
                                                title="$P^n$ (matrix power)")[2]
            self._im1 = plotting.matrix_heatmap(self.estimate, NAMES, ax=a1, vmax=1,
                                                title=f"Monte Carlo, {self.chains.value} chains "
                                                      "per start")[2]
            (self._curve,) = a2.semilogy(np.arange(self.tv.size), np.maximum(self.tv, 1e-16), "C0.-")
            self._mark = a2.axvline(n, color="C3", ls="--")
            a2.set_ylim(1e-16, 2)
            a2.set_xlabel("t")
            self._title = a2.set_title("")
            self._fig.tight_layout()
            self._blit.animate(self._im0, self._im1, self._curve, self._mark, self._title)
        vmax = max(self.Pn.max(), self.estimate.max())
        for im, M in ((self._im0, self.Pn), (self._im1, self.estimate)):
            im.set_data(M)
            im.set_clim(0, vmax)
        self._curve.set_ydata(np.maximum(self.tv, 1e-16))
        self._mark.set_xdata([n, n])
        self._title.set_text(rf"$\|\delta_{{{self.start.value}}} P^t - \pi\|_{{TV}}$, n = {n}")
        self.image = self._blit.render()
        self.picture.value = self.image

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.preset, self.start]), W.HBox([self.n, self.chains]),
                       self.message, self.picture])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(i18n.localize_widget(self.widget))


def editor_static(preset_names=None, seeds=(1, 2, 3, 4), length: int = 24, tempo: int = 132):
    """The editor's static counterpart for the HTML book: its own picture, sound and score (with the
    MIDI and MusicXML files) for every (preset, seed) pair, precomputed by driving a real
    :class:`TransitionMatrixEditor`.

    Notebook: notebooks/01_markov.ipynb
    Returns:
        player (IPython.display.HTML): a frame player (see :mod:`m2d.static`)
    """
    from m2d import static

    ed = TransitionMatrixEditor(length=length, tempo=tempo)
    names = list(preset_names or ed.preset.options)

    def make(preset: str, seed: int) -> static.Frame:
        ed.preset.value = preset
        ed.seed.value = int(seed)
        notes = " ".join(NAMES[m % 12] for m in ed.melody[:12])
        return static.Frame(ed.image, audio.encode_mp3(ed.signal, audio.SR),
                            caption=f"{preset}, seed {seed}: {notes} …",
                            score=ed.score.frame_score())

    params = {"preset": names, "seed": list(seeds)}
    frames = static.render_frames(params, make)
    return static.frame_player(params, frames, sliders=("seed",),
                               title="Transition-matrix editor (static version: presets x seeds)")


def editor_live(preset: str = "Bach-fitted", seed: int = 7, length: int = 32, start: str = "C",
                tempo: int = 132):
    """The editor's live mode for the HTML book, beside :func:`editor_static`: the same controls
    computed in the reader's browser (src/m2d/js/markov_editor.js, a port of
    :func:`m2d.stochastic.normalize_rows`, :attr:`m2d.markov.MarkovChain.stationary`,
    ``entropy_rate``, ``sample`` and :func:`m2d.pitch.pcs_to_midi`), so any entry can be edited,
    not only the presets; the melody plays through the note bank of :mod:`m2d.live`.

    Notebook: notebooks/01_markov.ipynb
    Returns:
        widget (IPython.display.HTML)
    Raises:
        ValueError: an unknown preset or start note, or a setting outside the editor's ranges
    """
    from IPython.display import HTML

    from m2d import checks, live

    matrices = presets()
    if preset not in matrices:
        raise ValueError(f"preset must be one of {list(matrices)}, got {preset!r}")
    if start not in NAMES:
        raise ValueError(f"start must be a note name {list(NAMES)}, got {start!r}")
    config = {"presets": {k: np.asarray(v, dtype=float).tolist() for k, v in matrices.items()},
              "preset": preset, "seed": checks.integer("seed", seed, low=0, high=2**31 - 1),
              "length": checks.integer("length", length, low=8, high=128), "start": start,
              "tempo": checks.integer("tempo", tempo, low=60, high=240)}
    return HTML(live.widget_html("markov.editor", config, ["live_common", "markov_editor"],
                                 title="Transition-matrix editor, live in this page"))


def explorer_static(preset_names=("Illiac-style", "stepwise", "Bach-fitted"),
                    ns=(0, 1, 2, 3, 5, 8, 13, 21), start: str = "C"):
    """The P^n explorer's static counterpart: its picture for every (chain, n), precomputed by
    driving a real :class:`PowerExplorer`.

    Notebook: notebooks/01_markov.ipynb
    """
    from m2d import static

    ex = PowerExplorer(start=start)

    def make(chain: str, n: int) -> static.Frame:
        ex.preset.value = chain
        ex.n.value = int(n)
        return static.Frame(ex.image, None, caption=strip_tags(ex.message.value))

    params = {"chain": list(preset_names), "n": list(ns)}
    return static.frame_player(params, static.render_frames(params, make), sliders=("n",),
                               title="P^n explorer (static version: chains x n)")


class ToyChainExample(WorkedExample):
    """Type a stochastic matrix on {C, E, G} (or any size up to :attr:`MAX_STATES`); see P^n and pi
    (Theorems 21.1-21.2)."""

    def __init__(self, P=example_chains.TOY_CEG, n: int = 2):
        super().__init__((10, 3))
        self.matrix = W.Textarea(value=matrix_text(P), rows=4, description="P",
                                 layout=W.Layout(width="260px"), continuous_update=False)
        self.n = W.IntSlider(value=n, min=0, max=30, description="n")
        self.P = self.Pn = self.pi = None
        for w in (self.matrix, self.n):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    #: Largest matrix the example draws legibly (its heatmap prints entries up to 6 x 6).
    MAX_STATES = 12
    STATIC_CONTROL, STATIC_VALUES = "n", (0, 1, 2, 3, 4, 6, 8, 12, 16, 30)
    STATIC_TITLE = "The toy chain on {C, E, G}: P^n and pi"

    def compute(self) -> str:
        P = parse_matrix(self.matrix.value)
        if len(P) > self.MAX_STATES:
            raise ValueError(f"{len(P)} states: this example draws at most {self.MAX_STATES} "
                             "(use markov.MarkovChain for larger chains)")
        chain = markov.MarkovChain(P)
        self.P, self.Pn, self.pi = chain.P, chain.n_step(self.n.value), chain.stationary
        gap = np.abs(self.Pn - self.pi).max()
        return f"stochastic; max |P^n - pi| over all entries = {gap:.2e}"

    def layout_key(self):
        return self.P.shape  # a matrix of another size needs new axes; anything else is redrawn

    def build(self, fig) -> None:
        n = len(self.P)
        labels = example_chains.TOY_CEG_LABELS if n == 3 else [str(i) for i in range(n)]
        a0, a1 = fig.subplots(1, 2)
        self._im = plotting.matrix_heatmap(self.Pn, labels, ax=a0, title="$P^n$", vmax=1)[2]
        self._texts = list(a0.texts)
        plotting.distribution_bars(self.pi, labels, ax=a1, title=r"$\pi$")
        a1.set_ylim(0, 1)
        self._bars = list(a1.patches)
        fig.tight_layout()
        self._title = a0.title
        self.blit.animate(self._im, self._title, *self._texts, *self._bars)

    def refresh(self) -> bool:
        for bar, p in zip(self._bars, self.pi, strict=True):
            bar.set_height(p)
        self._im.set_data(self.Pn)
        self._title.set_text(f"$P^{{{self.n.value}}}$")
        if self._texts:  # entries are printed up to 6 x 6 only
            annotate_heatmap(self._texts, self.Pn)
        return False

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.matrix, self.n]), self.message, self.picture])
