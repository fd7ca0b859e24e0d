"""Helpers shared by the widgets: the status messages beside controls (and their plain text for the
static frames), parsing and printing typed matrices, blitted figures, the base of the worked
examples' change-the-numbers widgets, and :class:`ScoreView`, the engraved score and save links of a
widget's melody.
"""

from __future__ import annotations

import functools
import html
import io
import json
import re
from collections import OrderedDict

import numpy as np

from m2d import i18n


def error_html(msg: str) -> str:
    """A red warning line naming the problem (shown beside the controls; the edit is kept), in the
    kernel's language (:func:`m2d.i18n.tr`)."""
    return f"<span style='color:#b00020'>&#9888; {html.escape(i18n.tr(msg))}</span>"


def ok_html(msg: str) -> str:
    """A green status line, in the kernel's language (:func:`m2d.i18n.tr`)."""
    return f"<span style='color:#1b5e20'>&#10003; {html.escape(i18n.tr(msg))}</span>"


def strip_tags(html_text: str) -> str:
    """Plain text of a status message: tags removed and entities unescaped (``&lt;`` -> ``<``), for
    the captions of the static frames."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def parse_matrix(text: str) -> np.ndarray:
    """Parse a matrix typed as rows separated by newlines or ';', entries by spaces or commas.

    Notebook: notebooks/04_examples.ipynb (the toy-chain widget)
    Args:
        text (str): e.g. ``"0.5 0.5; 0.2 0.8"``
    Returns:
        M (np.ndarray): float64, shape (rows, columns)
    Raises:
        ValueError: an entry that is not a number (quoted, with its row), no rows, or rows of
            different lengths
    """
    rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
    out = []
    for i, r in enumerate(rows):
        vals = []
        for tok in re.split(r"[,\s]+", r.strip()):
            try:
                vals.append(float(tok))
            except ValueError:
                raise ValueError(f"row {i}: {tok!r} is not a number") from None
        out.append(vals)
    if not out:
        raise ValueError("empty matrix")
    if len({len(r) for r in out}) != 1:
        raise ValueError(f"rows have different lengths: {[len(r) for r in out]}")
    return np.array(out)


class BlitFigure:
    """A figure whose static parts (axes, ticks, labels) are rendered once; an update redraws only
    the registered animated artists over a copy of that background and encodes the pixels as PNG.

    Text rendering dominates a full matplotlib redraw; blitting keeps a widget's picture well under
    100 ms. Call :meth:`invalidate` after changing anything static (limits, ticks, titles).
    """

    def __init__(self, fig):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.artists: list = []
        self._background = None

    def animate(self, *artists) -> None:
        """Register artists that change between updates (they are left out of the background)."""
        for a in artists:
            a.set_animated(True)
            self.artists.append(a)

    def invalidate(self) -> None:
        self._background = None

    def render(self) -> bytes:
        """PNG bytes of the figure in its current state."""
        from PIL import Image

        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for a in self.artists:
            self.fig.draw_artist(a)
        for ax in {a.axes for a in self.artists if a.axes is not None}:
            for spine in ax.spines.values():  # frames go back on top, as in a full draw
                self.fig.draw_artist(spine)
        rgba = np.asarray(self.canvas.buffer_rgba())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buf, format="PNG", compress_level=1)
        return buf.getvalue()


def matrix_text(A) -> str:
    """A matrix as the text a reader edits: rows on lines, entries separated by spaces."""
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(A))


class WorkedExample:
    """A change-the-numbers widget for a worked example (chapter 4). Shared plumbing: a message
    line, a picture, and error handling around ``compute``.

    A subclass computes in ``compute()`` (raising ``ValueError`` for bad input), lays its figure out in
    ``build(fig)`` (axes, static parts; it registers the changing artists with ``self.blit.animate``)
    and moves those artists in ``refresh()``. The figure is rebuilt only when ``layout_key()`` changes
    (e.g. a matrix of another size); otherwise only the animated artists are redrawn over a cached
    background (:class:`~m2d.widgets._common.BlitFigure`), which keeps a slider move well under 100 ms.
    ``refresh()`` returns True when it changed something static (axis limits): then the background is
    redrawn once.
    """

    def __init__(self, figsize):
        import ipywidgets as W
        import matplotlib.pyplot as plt

        self.message = W.HTML()
        self.picture = W.Image(format="png")
        self.error: str | None = None
        self.image = b""
        self._fig = plt.figure(figsize=figsize)
        plt.close(self._fig)
        self.blit = BlitFigure(self._fig)
        self._layout = object()  # matches no layout key: the first update builds the figure

    def update(self) -> None:
        try:
            status = self.compute()
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = error_html(self.error)
            return
        self.error = None
        self.message.value = ok_html(status)
        key = self.layout_key()
        if key != self._layout:
            self._fig.clear()
            self.blit = BlitFigure(self._fig)
            self.build(self._fig)
            self._layout = key
        if self.refresh():
            self.blit.invalidate()
        self.image = self.blit.render()
        self.picture.value = self.image

    def compute(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def layout_key(self):
        """What the figure's layout depends on (the figure is rebuilt when it changes)."""
        return None

    def build(self, fig) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def refresh(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    #: The control the static page lets a reader move, and the values it offers (subclasses set
    #: them): in the HTML book a worked example is a frame player over these values, never a set of
    #: controls that do nothing without a kernel.
    STATIC_CONTROL: str = ""
    STATIC_VALUES: tuple = ()
    STATIC_TITLE: str = ""

    def static(self, control: str | None = None, values=None):
        """The example's static counterpart: its own picture and status line for each value of one
        control, precomputed by moving the real widget (:mod:`m2d.static`); the control is put back.

        Notebook: notebooks/04_examples.ipynb
        Returns:
            player (IPython.display.HTML): a frame player
        Raises:
            ValueError: no control to vary, or a value the example refuses (its message)
        """
        from m2d import static

        control = control or self.STATIC_CONTROL
        values = list(values if values is not None else self.STATIC_VALUES)
        if not control or not values:
            raise ValueError(f"{type(self).__name__}: give a control and its values to precompute")
        widget = getattr(self, control)
        original = widget.value

        def make(**kw) -> static.Frame:
            (value,) = kw.values()
            widget.value = value
            if self.error is not None:
                raise ValueError(f"{control} = {value}: {self.error}")
            return static.Frame(static.compact_png(self.image), None,
                                caption=f"{control} = {value}: {strip_tags(self.message.value)}")

        try:
            frames = static.render_frames({control: values}, make)
        finally:
            widget.value = original
        title = (f"{self.STATIC_TITLE or type(self).__name__} (static version: move {control}; in "
                 "Jupyter, Binder or Colab every number can be changed)")
        return static.frame_player({control: values}, frames, sliders=(control,), title=title)

    def _ipython_display_(self) -> None:
        """The live controls in a kernel; the static counterpart while the HTML book is built."""
        from IPython.display import display

        from m2d.widgets import live_widgets

        display(i18n.localize_widget(self.widget) if live_widgets() or not self.STATIC_CONTROL
                else self.static())


def annotate_heatmap(texts, M) -> None:
    """Write the entries of ``M`` into a heatmap's annotation texts (row-major), white on dark cells."""
    hi = M.max()
    for text, v in zip(texts, M.ravel(), strict=True):
        text.set_text(f"{v:.2f}")
        text.set_color("w" if v < 0.6 * hi else "k")


# ------------------------------------------------------------------------------ scores in widgets

#: Verovio options of the widgets' scores on top of :data:`m2d.notation.ENGRAVING`: no indentation
#: (a smaller message to the browser) and ids seeded from the input (the same melody, the same SVG).
LIVE_ENGRAVING = {"svgFormatRaw": True, "xmlIdChecksum": True}

#: How the save links look: two small buttons.
BUTTON_CSS = ("display:inline-block;margin:0 6px 0 0;padding:1px 10px;border:1px solid #888;"
              "border-radius:4px;background:#f4f4f4;color:#222;text-decoration:none;font-size:13px")


@functools.cache
def _verovio(options: str):
    """One Verovio toolkit per option set, kept: creating one costs as much as engraving a melody."""
    import verovio

    verovio.enableLog(verovio.LOG_ERROR)
    tk = verovio.toolkit()
    tk.setOptions(json.loads(options))
    return tk


def engrave_musicxml(musicxml: str, options: dict | None = None) -> str:
    """Inline SVG of a MusicXML document: :func:`m2d.notation.engrave` on a kept Verovio toolkit
    (layout :data:`m2d.notation.ENGRAVING` updated by :data:`LIVE_ENGRAVING` and ``options``).

    Notebook: notebooks/01_markov.ipynb (the editor's score)
    Raises:
        ValueError: Verovio could not read the document
    """
    from m2d import notation

    tk = _verovio(json.dumps({**notation.ENGRAVING, **LIVE_ENGRAVING, **(options or {})},
                             sort_keys=True))
    if not tk.loadData(musicxml):
        raise ValueError("Verovio could not read the score's MusicXML")
    pages = [tk.renderToSVG(i) for i in range(1, tk.getPageCount() + 1)]
    return "".join(re.sub(r"^<\?xml[^>]*>\s*", "", svg) for svg in pages)


def _musicxml(score) -> str:
    """MusicXML of a score that :func:`m2d.notation.melody_score` made: the same document as
    :func:`m2d.notation.to_musicxml` (up to its random part ids) without a second ``makeNotation``,
    which deep-copies the score (five times faster). A note music21 cannot write without splitting
    it (a complex duration, e.g. a dotted half starting off the beat) takes the full path."""
    from music21.musicxml import m21ToXml

    from m2d import notation

    exporter = m21ToXml.GeneralObjectExporter(score)
    exporter.makeNotation = False
    try:
        return exporter.parse().decode("utf-8")
    except m21ToXml.MusicXMLExportException:
        return notation.to_musicxml(score)


def analysed_key(pitches, durations) -> str:
    """The key music21 hears in a melody (``Stream.analyze("key")``, as :func:`m2d.notation.melody_score`
    does with ``key=None``), as a name for ``melody_score(key=...)``: ``"F"``, ``"a"``, ``"B-"``.

    Handing melody_score the name instead of letting it analyse gives the same key and notes, faster
    (16 notes: 31 instead of 45 ms at the median, 47 instead of 121 ms at p95): the analysed key
    object carries its 23 alternative interpretations, which music21's ``makeNotation`` deep-copies.

    Notebook: notebooks/02_attention.ipynb (typed melodies in the attention explorer)
    """
    from m2d.corpus import import_music21

    m21 = import_music21()
    stream = m21.stream.Stream()
    for p, d in zip(pitches, durations, strict=True):
        note = m21.note.Note(int(p))
        note.quarterLength = float(d)
        stream.append(note)
    return stream.analyze("key").tonicPitchNameWithCase


def svg_note_count(svg: str) -> int:
    """Notes drawn in a Verovio SVG, a note tied over a bar line counted once: the ``note`` groups
    minus the ``tie`` groups."""
    return len(re.findall(r'class="note\b', svg)) - len(re.findall(r'class="tie\b', svg))


class ScoreView:
    """A widget's melody as a musician reads it, and the files to take it home: the engraved score
    (Verovio SVG in an ``ipywidgets.HTML``) and "save" links with the MIDI and MusicXML files inside
    (base64 data URIs: no file on a server, so they download the same way in Jupyter, Binder and
    Colab).

    A widget calls :meth:`show` after its picture (the score of the new melody; scores of recent
    melodies are kept) and :meth:`offer` after its sound (the files). A failure there never raises
    into the page: the message appears beside the save links (``message``), ``error`` holds it, and
    the last good score and files stay.

    Notebook: notebooks/01_markov.ipynb, notebooks/02_attention.ipynb
    Args:
        name (str): file name stem of the downloads (``name.mid``, ``name.musicxml``)
        keep (int): how many recent melodies keep their score
    State after :meth:`show`: ``stream`` (music21 score), ``musicxml``, ``svg``, ``notes``
    ((MIDI pitch, quarter notes) per note); after :meth:`offer`: ``midi``, ``name``.
    """

    def __init__(self, name: str = "melody", keep: int = 32):
        import ipywidgets as W

        self.sheet = W.HTML(layout=W.Layout(width="100%"))
        self.files = W.HTML()
        self.message = W.HTML()
        self.name, self.keep = name, keep
        self.stream = None
        self.svg = self.musicxml = ""
        self.midi = b""
        self.notes: list[tuple[int, float]] = []
        self.error: str | None = None
        self._recent: OrderedDict[tuple, dict] = OrderedDict()
        self._entry: dict | None = None

    def _fail(self, msg: str) -> None:
        self.error = msg
        self.message.value = error_html(msg)

    def show(self, pitches, durations, key: str | None = None) -> bool:
        """Engrave the melody (:func:`m2d.notation.melody_score`, then Verovio) and show it.

        Args:
            pitches (sequence of int): MIDI numbers
            durations (sequence of float or float): quarter notes per note
            key (str or None): key signature, e.g. ``"C"`` or ``"c"``; None: music21 analyses it
                (:func:`analysed_key`)
        Returns:
            ok (bool): False if the score could not be made (the message is shown, the old score kept)
        """
        from m2d import notation

        p = [int(x) for x in np.asarray(pitches).ravel()]
        d = np.broadcast_to(np.asarray(durations, dtype=float), (len(p),)).tolist() \
            if np.ndim(durations) == 0 else [float(x) for x in durations]
        k = (tuple(p), tuple(d), key)
        entry = self._recent.get(k)
        if entry is None:
            try:
                stream = notation.melody_score(p, d, key=key or analysed_key(p, d))
                xml = _musicxml(stream)
                entry = {"stream": stream, "musicxml": xml, "svg": engrave_musicxml(xml), "midi": None}
            except Exception as exc:  # noqa: BLE001 - music21/Verovio errors must not break the widget
                self._fail(f"the score could not be engraved ({type(exc).__name__}: {exc}); "
                           "showing the last one")
                return False
            self._recent[k] = entry
            while len(self._recent) > self.keep:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(k)
        self._entry = entry
        self.stream, self.musicxml, self.svg = entry["stream"], entry["musicxml"], entry["svg"]
        self.notes = list(zip(p, d, strict=True))
        self.sheet.value = (f"<div class='m2d-score-svg' role='img' aria-label='score of the melody' "
                            f"style='width:100%;max-width:1100px;overflow-x:auto'>{self.svg}</div>")
        self.error = None
        self.message.value = ""
        return True

    def offer(self, name: str | None = None) -> bool:
        """Fill the save links with the shown melody's MIDI and MusicXML.

        Args:
            name (str or None): file name stem (default: the one given at construction)
        Returns:
            ok (bool): False if the files could not be written (the message is shown, the old links
            kept), or if the last :meth:`show` failed (its message stays)
        """
        from m2d import notation, players

        if self._entry is None or self.error is not None:  # no score yet, or not the shown melody's
            return False
        try:
            stem = players.file_stem(name or self.name)
            if self._entry["midi"] is None:
                self._entry["midi"] = notation.to_midi(self.stream)
            links = players.download_links(stem, self._entry["midi"], self.musicxml, style=BUTTON_CSS)
        except Exception as exc:  # noqa: BLE001 - a failed save must not break the widget
            self._fail(f"could not write the files ({type(exc).__name__}: {exc})")
            return False
        self.midi, self.name = self._entry["midi"], stem
        self.files.value = f"<span style='font-size:13px'>save this melody:&nbsp;</span>{links}"
        self.error = None
        self.message.value = ""
        return True

    def frame_score(self):
        """The shown score and files for a frame of the static counterpart (:class:`m2d.static.Score`)."""
        from m2d import static

        return static.Score(self.svg, self.midi or None, self.musicxml or None, self.name)

    @property
    def widget(self):
        import ipywidgets as W

        return W.VBox([self.sheet, W.HBox([self.files, self.message])],
                      layout=W.Layout(width="100%"))
