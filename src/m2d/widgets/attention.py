"""Attention widgets: the heatmap explorer (Part II: the trained Transformer's attention on a melody,
one head at a time, beside the fixed Markov row of Part I; the melody engraved as a score with MIDI
and MusicXML save links; in the HTML book its frame player with a live mode that runs the exported
model in the page, :func:`explorer_live_html`) and the worked example's
:class:`AttentionExample` (the C-E-G attention with editable Q and K).

Notebook: notebooks/02_attention.ipynb, notebooks/04_examples.ipynb
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as W
import numpy as np

from m2d import attention as at
from m2d import audio, i18n, players, plotting, soundfont
from m2d.pitch import PITCH_CLASSES, midi_name, parse_note, pcs_to_midi
from m2d.stochastic import check_stochastic
from m2d.widgets._common import (
    BlitFigure,
    ScoreView,
    WorkedExample,
    annotate_heatmap,
    error_html,
    matrix_text,
    parse_matrix,
    strip_tags,
)

#: Longest typed melody the explorer accepts (the heatmap stays legible).
MAX_TYPED_NOTES = 96
_OCTAVE_RE = re.compile(r"\d")


def parse_melody(text: str, max_notes: int = MAX_TYPED_NOTES) -> np.ndarray:
    """Parse note names separated by spaces or commas (``"C4 D4 E4 G4"``) into MIDI numbers.

    A name with an octave (``"Eb5"``) is that MIDI note; one without (``"F#"``) is voiced in the
    octave nearest the previous note (:func:`m2d.pitch.pcs_to_midi`).

    Notebook: notebooks/02_attention.ipynb
    Args:
        text (str): the typed melody
        max_notes (int): longest melody accepted
    Returns:
        midi (np.ndarray): int64 MIDI numbers
    Raises:
        ValueError: fewer than two notes, more than ``max_notes``, or a token that is not a note name
            (the message is :func:`m2d.pitch.parse_note`'s, quoting the token)
    """
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if len(tokens) < 2:
        raise ValueError("type at least two notes, e.g. C4 D4 E4 G4")
    if len(tokens) > max_notes:
        raise ValueError(f"{len(tokens)} notes: at most {max_notes} please")
    out: list[int] = []
    for tok in tokens:
        v = parse_note(tok)  # raises ValueError naming the token
        if _OCTAVE_RE.search(tok):
            out.append(v)
        else:
            prev = out[-1] if out else 60
            out.append(int(pcs_to_midi([v], start=prev)[0]))
    return np.asarray(out, dtype=np.int64)


def highlight_gains(weights: np.ndarray, floor: float = 0.15) -> np.ndarray:
    """Loudness per note when "playing the attention": g_j = floor + (1 - floor) w_j / max_k w_k.

    Notebook: notebooks/02_attention.ipynb
    """
    w = np.asarray(weights, dtype=float)
    top = w.max(initial=0.0)
    return floor + (1 - floor) * (w / top if top > 0 else w)


def _apply_gains(y: np.ndarray, durations: np.ndarray, gains: np.ndarray, tempo: float) -> np.ndarray:
    bounds = np.round(np.concatenate([[0.0], np.cumsum(durations * 60.0 / tempo)]) * audio.SR).astype(int)
    env = np.repeat(gains, np.diff(bounds))
    # the instrument's release after the last note keeps that note's loudness
    env = np.concatenate([env, np.full(max(0, y.size - env.size), gains[-1] if gains.size else 1.0)])
    return (y * env[: y.size]).astype(np.float32)


class AttentionExplorer:
    """Attention heatmap explorer: melody (corpus / sampled / typed), layer, head, query, temperature,
    causal mask; shows the heatmap, the query row and the Markov row for the same note, engraves the
    melody as a score (with MIDI and MusicXML save links), and plays it, plain and with the attended
    notes loud.

    Every control is an attribute; changing one calls :meth:`update` (tests set values directly).
    Bad typed text shows the parser's message in ``message`` beside the text box and keeps the text
    and the last good picture. State after ``update()``: ``pitches``, ``durations`` (the melody),
    ``numbers`` (see :meth:`compute`), ``image`` (PNG bytes), ``score``
    (:class:`~m2d.widgets._common.ScoreView`: the melody's score and files, redone when the melody
    changes), ``signal`` and ``highlighted`` (audio), ``error`` (message or None), ``timings``
    (seconds from each change to its new picture) and ``last_timing`` (seconds from the last change
    until the picture, the score, the sound and the files were ready).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MusicTransformer): trained model
        melodies (sequence of Melody): melodies offered under "corpus"
        markov_P (np.ndarray): 12 x 12 first-order transition matrix of Part I (fitted on train)
        tempo (float): playback tempo (quarter notes per minute)
        dpi (int): resolution of the picture (lower is faster)
        sound (bool): fill the audio players (False: only compute ``signal``/``highlighted``)
    Raises:
        ValueError: no melodies, or markov_P not a 12 x 12 stochastic matrix
    """

    def __init__(self, model, melodies: Sequence, markov_P, tempo: float = 100.0, dpi: int = 72,
                 sound: bool = True):
        import ipywidgets as W
        from matplotlib.figure import Figure

        if len(melodies) == 0:
            raise ValueError("need at least one corpus melody")
        P = check_stochastic(markov_P)
        if P.shape != (12, 12):
            raise ValueError(f"markov_P must be 12 x 12 (first order), got {P.shape}")
        self.model, self.melodies, self.P = model, list(melodies), P
        self.tempo, self.dpi, self.sound = tempo, dpi, sound
        self._samples: dict[tuple[int, int], np.ndarray] = {}
        self._forward: dict[tuple, tuple[list, np.ndarray]] = {}
        L, H = model.cfg.n_layers, model.cfg.n_heads

        self.source = W.ToggleButtons(options=["corpus", "sampled", "typed"], value="corpus",
                                      description="melody")
        self.melody = W.Dropdown(options=[(self._title(i, m), i) for i, m in enumerate(self.melodies)],
                                 value=0, description="corpus")
        self.seed = W.BoundedIntText(value=0, min=0, max=2**31 - 1, description="sample seed",
                                     layout=W.Layout(width="190px"))
        self.text = W.Text(value="C4 E4 G4 E4 F4 D4 B3 D4 C4 E4 G4 E4 F4 D4 B3 C4",
                           description="typed", layout=W.Layout(width="440px"), continuous_update=False)
        self.message = W.HTML()
        self.layer = W.IntSlider(value=0, min=0, max=L - 1, description="layer")
        self.head = W.IntSlider(value=0, min=0, max=H - 1, description="head")
        self.query = W.IntSlider(value=1, min=0, max=1, description="query")
        self.temperature = W.FloatLogSlider(value=1.0, base=2, min=-2, max=2, step=0.25,
                                            description="temperature")
        self.causal = W.Checkbox(value=True, description="causal mask")
        self.picture = W.Image(format="png")
        self.status = W.HTML()
        self.player = W.Output()
        self.player_attention = W.Output()
        self.score = ScoreView("attention-melody")

        self.fig = Figure(figsize=(11.5, 4.4), dpi=dpi)
        gs = self.fig.add_gridspec(2, 2, width_ratios=[1.0, 1.45], hspace=0.6, wspace=0.16,
                                   left=0.06, right=0.99, top=0.93, bottom=0.13)
        self.ax_map = self.fig.add_subplot(gs[:, 0])
        self.ax_row = self.fig.add_subplot(gs[0, 1])
        self.ax_pc = self.fig.add_subplot(gs[1, 1])
        self._blit = BlitFigure(self.fig)
        self._artists: dict = {}

        self.pitches = self.durations = self.numbers = self.signal = self.highlighted = None
        self.error: str | None = None
        self.image = b""
        self._melody_key = None
        self._busy = False
        self.timings: list[float] = []  # seconds from a control change to the new picture
        self.last_timing: dict[str, float] = {}
        for w in (self.source, self.melody, self.seed, self.text, self.layer, self.head, self.query,
                  self.temperature, self.causal):
            w.observe(self._changed, names="value")
        self.update()

    @staticmethod
    def _title(i: int, m) -> str:
        name = str(m.title or m.id).rsplit("/", 1)[-1]
        return f"{i}: {name[:36]} ({len(m)} notes)"

    # ------------------------------------------------------------------ melody selection
    def current_melody(self) -> tuple[np.ndarray, np.ndarray]:
        """(MIDI pitches, durations in quarter notes) for the chosen source.

        Raises:
            ValueError: bad typed text (the message names the token)
        """
        if self.source.value == "typed":
            midi = parse_melody(self.text.value)
            return midi, np.ones(midi.size)
        m = self.melodies[self.melody.value]
        durations = np.asarray(m.durations, dtype=float)
        if self.source.value == "corpus":
            return np.asarray(m.pitches, dtype=np.int64), durations
        from m2d.models.melody_lm import sample_pitches

        key = (int(self.melody.value), int(self.seed.value))
        if key not in self._samples:  # the Transformer continues the first 4 notes in this rhythm
            self._samples[key] = sample_pitches(self.model, m.pitch_classes[:4], durations,
                                                rng=int(self.seed.value))
        return pcs_to_midi(self._samples[key], start=int(m.pitches[0])), durations

    # ------------------------------------------------------------------ update
    def _changed(self, _change=None) -> None:
        if not self._busy:
            self.update()

    def update(self) -> None:
        """Recompute and redraw what the controls determine; bad text only sets the message."""
        t0 = time.perf_counter()
        try:
            pitches, durations = self.current_melody()
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = error_html(self.error)
            return
        self.error = None
        self.message.value = ""
        key = (tuple(pitches.tolist()), tuple(durations.tolist()))
        new_melody = key != self._melody_key
        if new_melody:
            self._melody_key, self.pitches, self.durations = key, pitches, durations
            T = pitches.size + 1
            self._busy = True
            try:
                self.query.max = T - 1
                if not 1 <= self.query.value <= T - 1:
                    self.query.value = min(T - 1, 8)
            finally:
                self._busy = False
        self.numbers = self.compute()
        self._draw(rebuild=new_melody)
        self.timings.append(time.perf_counter() - t0)
        timing = {"picture": self.timings[-1]}
        if new_melody:  # the picture first, then the score, the sound and the files
            self.score.show(pitches, durations, key=self.key_signature())
        timing["score"] = time.perf_counter() - t0
        if new_melody:
            self.signal = soundfont.render_melody(pitches, durations, tempo=self.tempo, tail=0.3)
        self._play(new_melody)
        timing["sound"] = time.perf_counter() - t0
        if new_melody:
            self.score.offer(self.file_name())
        timing["files"] = time.perf_counter() - t0
        self.last_timing = timing

    def key_signature(self) -> str | None:
        """Key of the score: the corpus melody's mode in C (the split is transposed to tonic C; a
        sample continues its chorale), or None for typed notes (music21 analyses them)."""
        if self.source.value == "typed":
            return None
        return "C" if self.melodies[self.melody.value].mode == "major" else "c"

    def file_name(self) -> str:
        """Stem of the save links: the chorale (and the sample's seed), or "typed-melody"."""
        if self.source.value == "typed":
            return "typed-melody"
        name = str(self.melodies[self.melody.value].id).rsplit("/", 1)[-1]
        if self.source.value == "sampled":
            return f"{name}-transformer-seed-{self.seed.value}"
        return name

    def compute(self) -> dict[str, np.ndarray]:
        """The numbers behind the picture: ``A`` (T x T attention of the chosen layer and head;
        position 0 is BOS, position j >= 1 holds note j - 1), the query ``row``, its mass per pitch
        class ``pc_mass``, the Markov row ``markov`` = P[latest note, :] and the Transformer's
        next-note distribution ``model`` (for queries >= 1)."""
        from m2d.attention import aggregate_by_label
        from m2d.models.melody_lm import next_distributions
        from m2d.models.transformer import attention_maps

        pcs = np.mod(self.pitches, 12)
        fkey = (self._melody_key, bool(self.causal.value), float(self.temperature.value))
        if fkey not in self._forward:
            if len(self._forward) > 64:
                self._forward.clear()
            maps = attention_maps(self.model, (pcs, self.durations), causal=fkey[1],
                                  temperature=fkey[2], append_end=True)
            nxt = next_distributions(self.model, (np.concatenate([pcs, [0]]),
                                                  np.concatenate([self.durations, [1.0]])))
            self._forward[fkey] = (maps, nxt)
        maps, nxt = self._forward[fkey]
        A = maps[self.layer.value][self.head.value]
        q = int(self.query.value)
        row = A[q]
        out = {"A": A, "row": row, "query": np.array(q),
               "pc_mass": aggregate_by_label(row, np.concatenate([[12], pcs]), 13)[:12],
               "bos_mass": np.array(row[0])}
        if q >= 1:
            out["markov"] = self.P[pcs[q - 1]]
            out["model"] = nxt[q]
        return out

    def _draw(self, rebuild: bool) -> None:
        """Redraw in place. When the melody changes the axes, ticks and bars are rebuilt and the static
        parts rendered once into a background; otherwise only the changing artists (heatmap, bars,
        titles) are drawn over that background (blitting, :class:`BlitFigure`: tick labels dominate
        the render time)."""
        c = self.numbers
        A, row, q = c["A"], c["row"], int(c["query"])
        labels = ["BOS"] + [midi_name(int(p)) for p in self.pitches]
        T = len(labels)
        a = self._artists
        if rebuild or not a:
            self._build(labels, A, row)
        a["im"].set_data(A)
        a["im"].set_clim(0, max(float(A.max()), 1e-9))
        a["hline"].set_ydata([q, q])
        mask = "causal" if self.causal.value else "no mask (never trained so)"
        a["map_title"].set_text(f"layer {self.layer.value}, head {self.head.value}, "
                                f"temperature {self.temperature.value:g}, {mask}")
        for j, (bar, h) in enumerate(zip(a["row_bars"], row, strict=True)):
            bar.set_height(h)
            bar.set_color("C3" if j == q else "C0")
        self.ax_row.set_ylim(0, max(float(row.max()) * 1.1, 1e-9))
        a["row_title"].set_text(f"query row {q} (latest note {labels[q]}): weights over positions "
                                f"(max {row.max():.2f}, sum {row.sum():.4f})")
        if q >= 1:
            note = PITCH_CLASSES[int(self.pitches[q - 1]) % 12]
            series = (c["pc_mass"], c["markov"], c["model"])
            a["pc_title"].set_text(f"note {note}: the fixed Markov row P[{note}, ·] vs this position "
                                   f"(start token gets {float(c['bos_mass']):.2f})")
        else:
            series = (np.zeros(12),) * 3
            a["pc_title"].set_text("query 0 is the start token: no note yet")
        for bars, values in zip(a["pc_bars"], series, strict=True):
            for bar, h in zip(bars, values, strict=True):
                bar.set_height(h)
        self.image = self._blit.render()
        self.picture.value = self.image
        self.status.value = (f"{T - 1} notes; query row {q} is a probability vector: min entry "
                             f"{row[row > 0].min():.3g}, sum {row.sum():.6f}")

    def _build(self, labels: list[str], A: np.ndarray, row: np.ndarray) -> None:
        """Lay out the axes for a melody of ``len(labels)`` positions; the static parts are rendered
        into the background at the next :meth:`BlitFigure.render`. The axes are created once and then
        only re-limited and re-ticked (clearing them would recreate every tick object: most of the
        time of a melody change)."""
        a = self._artists
        T = len(labels)
        step = max(1, int(np.ceil(T / 24)))
        ticks = list(range(0, T, step))
        names = [labels[i] for i in ticks]
        if not a:  # once: everything that does not depend on the melody
            a["im"] = self.ax_map.imshow(A, cmap="viridis", vmin=0, vmax=1, aspect="auto",
                                         interpolation="nearest")
            a["hline"] = self.ax_map.axhline(0, color="w", lw=0.8, alpha=0.8)
            self.ax_map.set_xlabel("key (attended position)", fontsize=8)
            self.ax_map.set_ylabel("query (latest note)", fontsize=8)
            self.ax_row.set_yticks([])  # the scale changes with the row: its maximum is in the title
            x = np.arange(12)
            a["pc_bars"] = [
                self.ax_pc.bar(x + off, np.zeros(12), width=0.27, color=col, label=lab)
                for off, col, lab in ((-0.27, "C1", "attention mass per pitch class"),
                                      (0.0, "C0", "Markov row P[note, ·] (fixed)"),
                                      (0.27, "C2", "Transformer p(next | past) (dynamic)"))]
            self.ax_pc.set_xticks(x, PITCH_CLASSES, fontsize=8)
            self.ax_pc.set_ylim(0, 1.2)
            self.ax_pc.set_yticks([0, 0.5, 1.0])
            self.ax_pc.tick_params(labelsize=7)
            self.ax_pc.legend(fontsize=7, loc="upper right", ncol=3, frameon=False)
            for key, ax in (("map_title", self.ax_map), ("row_title", self.ax_row), ("pc_title", self.ax_pc)):
                a[key] = ax.set_title("", fontsize=9)
            self._blit.animate(a["im"], a["hline"], *(b for bars in a["pc_bars"] for b in bars),
                               a["map_title"], a["row_title"], a["pc_title"])
            self.fig.set_dpi(self.dpi)
        else:  # the old melody's bars leave the figure and the animated artists
            old = {id(b) for b in a["row_bars"]}
            self._blit.artists[:] = [x for x in self._blit.artists if id(x) not in old]
            a["row_bars"].remove()
        a["im"].set_data(A)
        a["im"].set_extent((-0.5, T - 0.5, T - 0.5, -0.5))
        self.ax_map.set_xlim(-0.5, T - 0.5)
        self.ax_map.set_ylim(T - 0.5, -0.5)
        self.ax_map.set_xticks(ticks, names, rotation=90, fontsize=7)
        self.ax_map.set_yticks(ticks, names, fontsize=7)
        a["row_bars"] = self.ax_row.bar(np.arange(T), row, color="C0", width=0.85)
        self._blit.animate(*a["row_bars"])
        self.ax_row.set_xticks(ticks, names, rotation=90, fontsize=7)
        self.ax_row.set_xlim(-0.5, T - 0.5)
        self._blit.invalidate()  # static parts changed: the next render redraws the background

    def _play(self, new_melody: bool) -> None:
        """Two players: the melody (re-encoded only when it changes), and what the query sees -- with
        the causal mask the notes up to the query, otherwise all -- each note as loud as the query
        attends to it."""
        from IPython.display import display

        q = int(self.query.value)
        gains = highlight_gains(self.numbers["row"][1:])  # position j >= 1 holds note x_{j-1}
        y = _apply_gains(self.signal, self.durations, gains, self.tempo)
        if self.causal.value:  # the query at position q sees notes x_0 .. x_{q-1}
            q_end = max(q, 1)
            y = y[: int(round(np.sum(self.durations[:q_end]) * 60.0 / self.tempo * audio.SR))]
        self.highlighted = y
        if not self.sound:
            return
        if new_melody:
            self.player.clear_output(wait=True)
            with self.player:
                display(players.play(self.signal))
        self.player_attention.clear_output(wait=True)
        with self.player_attention:
            display(players.play(self.highlighted))

    # ------------------------------------------------------------------ view
    @property
    def widget(self):
        import ipywidgets as W

        return W.VBox([self.source, W.HBox([self.melody, self.seed]), W.HBox([self.text, self.message]),
                       W.HBox([self.layer, self.head, self.query]), W.HBox([self.temperature, self.causal]),
                       self.picture, self.status, self.score.sheet,
                       W.HBox([W.HTML("melody&nbsp;"), self.player,
                               W.HTML("&nbsp;what the query sees, as loud as it attends&nbsp;"),
                               self.player_attention]),
                       W.HBox([self.score.files, self.score.message])])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(i18n.localize_widget(self.widget))


#: Where the HTML book serves the shared ONNX Runtime Web script (tools/vendor_js.py writes it into
#: ``_vendor/ort/``; Sphinx copies ``_vendor`` to the site's root) and the model scripts.
LIVE_RUNTIME = "ort/ort-live.js"
LIVE_MODELS = "models"
#: Notes of the continuation the live mode samples.
LIVE_CONTINUATION = 8
_LIVE_JS = Path(__file__).resolve().parent.parent / "js" / "attention_live.js"


def live_directory() -> Path | None:
    """Where the book build wants the model scripts: ``$M2D_LIVE_DIR``, or, while the HTML book is
    built (``M2D_HTML_BUILD``), ``_vendor/models`` of the book that contains the working directory
    (the folder with ``_config.yml``); None otherwise (no live mode: a plain Jupyter notebook has the
    live ipywidget)."""
    if os.environ.get("M2D_LIVE_DIR"):
        return Path(os.environ["M2D_LIVE_DIR"])
    if not os.environ.get("M2D_HTML_BUILD"):
        return None
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "_config.yml").exists():
            return d / "_vendor" / LIVE_MODELS
    return None


def explorer_live_html(model, directory: Path | str,
                       text: str = "C4 E4 G4 E4 F4 D4 B3 D4 C4 E4 G4 E4 F4 D4 B3 C4") -> str:
    """The attention explorer's live mode for the HTML book: a switch that, on its first press, loads
    ONNX Runtime Web (``ort/ort-live.js``, shared by the whole book) and the Transformer exported by
    :func:`m2d.models.export.onnx_bytes` (a model script written into ``directory`` now, served at
    ``models/<name>.js``), then runs the model in the page on the melody the reader types (the syntax
    and messages of :func:`parse_melody`; quarter notes): every layer's and head's attention map
    (canvases with accessible names), the next-note distribution after the melody and a continuation
    sampled with a seeded generator (mulberry32, not numpy's: the same seed gives the same notes in
    every browser, not those of :func:`m2d.models.melody_lm.sample_pitches`). Nothing is loaded
    before the press; the script is ``src/m2d/js/attention_live.js``.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MusicTransformer): the chapter's trained Transformer
        directory (Path or str): where the model script goes (see :func:`live_directory`)
        text (str): the melody shown first
    Returns:
        html (str): one ``<div class="m2d-attn-live">`` with its configuration and inline script
    Raises:
        TypeError: not a Transformer (see :func:`m2d.models.export.graph_spec`)
        ValueError: a first melody :func:`parse_melody` refuses
    """
    import json

    from m2d import cache
    from m2d.models import export
    from m2d.models.melody_lm import BOS
    from m2d.models.transformer import MusicTransformer
    from m2d.pitch import duration_class

    if not isinstance(model, MusicTransformer):
        raise TypeError(f"the live explorer runs a MusicTransformer, got {type(model).__name__}")
    parse_melody(text)
    spec = export.graph_spec(model)
    name = f"music-transformer-{cache.cache_key(export.export_key(model))}"
    export.write_model_script(directory, name, export.onnx_bytes(model, "music-transformer"),
                              replaces="music-transformer")
    pid = f"m2d-attn-live-{name[-12:]}"
    cfg = {"runtime": LIVE_RUNTIME, "model": f"{LIVE_MODELS}/{name}.js", "model_name": name,
           "root": "../", "inputs": list(spec.inputs), "layers": model.cfg.n_layers,
           "heads": model.cfg.n_heads, "bos": BOS, "quarter_class": 1 + int(duration_class(1.0)),
           "max_notes": MAX_TYPED_NOTES, "continuation": LIVE_CONTINUATION}
    from m2d import live

    # live_common.js: the seeded generator, and the note bank the melody plays through (the
    # SoundFont piano of the precomputed frames' sound, loaded on the first press of play)
    script = (live.common_script() + "\n" + _LIVE_JS.read_text().replace("%(id)s", pid)
              + f"\nwindow.m2dLive.localize(document.getElementById('{pid}'));")
    label = "Attention explorer, live: the trained Transformer running in this page"
    return (
        f"<div class='m2d-attn-live' id='{pid}' role='group' aria-label='{label}' data-live='off' "
        "style='border:1px solid #ccc;border-radius:6px;padding:8px;margin:8px 0;"
        "font-family:sans-serif;font-size:14px'>"
        "<label style='font-weight:bold'><input type='checkbox' class='m2d-attn-live-switch'> live: type "
        "a melody and run the trained Transformer in this page (loads a 5 MB runtime once)</label> "
        "<span class='m2d-attn-live-status' aria-live='polite' style='color:#555'></span>"
        "<div class='m2d-attn-live-body' hidden>"
        "<div style='display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin:6px 0'>"
        f"<label>melody <input type='text' class='m2d-attn-live-text' size='56' "
        f"value='{html.escape(text, quote=True)}'></label>"
        "<label>seed <input type='number' class='m2d-attn-live-seed' min='0' value='0' "
        "style='width:6em'></label>"
        "<span class='m2d-attn-live-error' role='alert' style='color:#b00020'></span></div>"
        "<div style='color:#555'>note names such as C4 D4 E4 G4 (quarter notes; a name without "
        "octave takes the octave nearest the previous note). Maps: query (rows, start token first) "
        "against key (columns), brighter = more weight, scaled per map.</div>"
        "<div class='m2d-attn-live-maps' style='display:grid;grid-template-columns:repeat("
        f"{model.cfg.n_heads}, 150px);gap:8px;margin:6px 0'></div>"
        "<figure style='margin:6px 0'><canvas class='m2d-attn-live-dist' role='img' width='360' "
        "height='140' aria-label='next-note distribution'></canvas>"
        "<figcaption class='m2d-attn-live-dist-text'></figcaption></figure>"
        "<div class='m2d-attn-live-continuation'></div>"
        "<button type='button' class='m2d-attn-live-play'>\u25b6 play the melody and its continuation"
        "</button></div>"
        f"<script type='application/json' class='m2d-attn-live-config'>{json.dumps(cfg)}</script>"
        f"<script>{script}</script></div>")


def explorer_static(model, melodies: Sequence, markov_P, melody_index: int = 0, query: int | None = None,
                    layers: Sequence[int] | None = None, heads: Sequence[int] | None = None,
                    live: Path | str | bool | None = None):
    """The explorer's static counterpart for the HTML book: its picture and "what the query sees"
    sound for every (layer, head), precomputed by driving a real :class:`AttentionExplorer` on one
    corpus melody and query, with the melody's score and its MIDI and MusicXML files (one melody:
    the page stores the score once); below it, while the book is built, the live mode
    (:func:`explorer_live_html`: any typed melody, the model running in the page).

    Notebook: notebooks/02_attention.ipynb
    Args:
        live (Path, str, bool or None): directory of the model scripts; None: :func:`live_directory`
            (the book build's ``_vendor/models``, else no live mode); False: no live mode
    Returns:
        player (m2d.static.FramePlayer): a frame player (see :mod:`m2d.static`) with the live mode
        after its frames when there is one
    """
    from m2d import static

    ex = AttentionExplorer(model, melodies, markov_P, sound=False)
    ex.melody.value = melody_index
    if query is not None:
        ex.query.value = query
    layers = list(range(model.cfg.n_layers)) if layers is None else list(layers)
    heads = list(range(model.cfg.n_heads)) if heads is None else list(heads)

    def make(layer: int, head: int) -> static.Frame:
        ex.layer.value, ex.head.value = int(layer), int(head)
        return static.Frame(ex.image, audio.encode_mp3(ex.highlighted, audio.SR),
                            caption=strip_tags(ex.status.value), score=ex.score.frame_score())

    params = {"layer": layers, "head": heads}
    frames = static.render_frames(params, make)
    directory = live_directory() if live is None or live is True else live
    extra = "" if directory in (None, False) else explorer_live_html(model, directory)
    return static.frame_player(params, frames, sliders=("layer", "head"), extra=extra,
                               title=f"Attention explorer (static version: query {ex.query.value} of "
                                     f"melody {ex.melody.label}; every layer x head)")


class AttentionExample(WorkedExample):
    """Edit the projected queries and keys of three tokens (C, E, G); see softmax(QK^T / sqrt(d_k))
    row by row (Definition 21.6, Theorem 21.3)."""

    STATIC_CONTROL, STATIC_VALUES = "temperature", (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    STATIC_TITLE = "Attention of C, E and G"

    def __init__(self, Q=None, K=None, V=None, scale: float | None = None):
        super().__init__((10, 3))
        Q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) if Q is None else Q
        K = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) if K is None else K
        self.V = np.eye(3) if V is None else np.asarray(V, dtype=float)
        box = W.Layout(width="200px")
        self.Q = W.Textarea(value=matrix_text(Q), rows=4, description="Q", layout=box,
                            continuous_update=False)
        self.K = W.Textarea(value=matrix_text(K), rows=4, description="K", layout=box,
                            continuous_update=False)
        self.temperature = W.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                            description="temperature")
        self.scores = self.weights = None
        for w in (self.Q, self.K, self.temperature):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    def compute(self) -> str:
        Q, K = parse_matrix(self.Q.value), parse_matrix(self.K.value)
        d_k = Q.shape[1]
        scale = 1.0 / (np.sqrt(d_k) * self.temperature.value)
        V = self.V if self.V.shape[0] == K.shape[0] else np.eye(K.shape[0])
        _, self.weights = at.scaled_dot_product_attention(Q, K, V, scale=scale)
        self.scores = Q @ K.T * scale
        return f"every row sums to 1: {np.round(self.weights.sum(axis=1), 12).tolist()}"

    def layout_key(self):
        return self.scores.shape

    def build(self, fig) -> None:
        n, m = self.scores.shape
        labels = ("C", "E", "G") if max(n, m) == 3 else [str(i) for i in range(max(n, m))]
        a0, a1 = fig.subplots(1, 2)
        # scores: a diverging map centred on 0, its range set per update (the numbers are printed in
        # the cells, so no colour bar, whose axis would change with every temperature)
        self._scores_im = plotting.matrix_heatmap(self.scores, labels, ax=a0, vmax=1,
                                                  cmap="coolwarm", annotate=True, xlabel="key",
                                                  ylabel="query",
                                                  title=r"scores $QK^\top/(\sqrt{d_k}\,\tau)$")[2]
        self._scores_txt = list(a0.texts)
        self._weights_im = plotting.matrix_heatmap(self.weights, labels, ax=a1, vmax=1,
                                                   annotate=True, xlabel="key", ylabel="query",
                                                   title="attention weights (rows sum to 1)")[2]
        self._weights_txt = list(a1.texts)
        fig.tight_layout()
        self.blit.animate(self._scores_im, self._weights_im, *self._scores_txt, *self._weights_txt)

    def refresh(self) -> bool:
        lim = max(np.abs(self.scores).max(), 1e-12)
        self._scores_im.set_data(self.scores)
        self._scores_im.set_clim(-lim, lim)
        for text, v in zip(self._scores_txt, self.scores.ravel(), strict=True):
            text.set_text(f"{v:.2f}")
            text.set_color("k")
        self._weights_im.set_data(self.weights)
        annotate_heatmap(self._weights_txt, self.weights)
        return False

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.Q, self.K, self.temperature]), self.message, self.picture])
