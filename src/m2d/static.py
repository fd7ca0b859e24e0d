"""Static counterparts of the live widgets: a frame player that works in the HTML book with no kernel.

In the published HTML, ipywidgets lose their Python callbacks. For each signature widget the chapter
therefore also emits a *frame player*: the widget's own update function is run at build time over a
grid of its key parameters, and every resulting picture (PNG) and sound (MP3) is embedded in the page,
switched by plain HTML controls and a few lines of inline JavaScript. Generated from the same library
calls as the live widget, so the two cannot drift; no request leaves the page.

A frame may also carry its melody as a :class:`Score`: the engraved SVG and the MIDI and MusicXML
files. Scores are heavy as separate pages (Verovio repeats its glyph definitions and styles in every
SVG) but nearly identical from frame to frame, so a player stores each distinct score once, with the
glyphs and the style shared (:func:`compact_svg`), gzip-compressed into the page; the browser unpacks
them with its built-in ``DecompressionStream``. The first frame's score and files are also plain HTML.

Notebook: notebooks/01_markov.ipynb, 02_attention.ipynb, 03_diffusion.ipynb
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import io
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from m2d import checks, i18n


@dataclass(frozen=True)
class Score:
    """A frame's melody as notation: the engraved SVG (:func:`m2d.notation.engrave`) and, optionally,
    the files a reader takes home (``name.mid``, ``name.musicxml``)."""

    svg: str
    midi: bytes | None = None
    musicxml: str | None = None
    name: str = "melody"


@dataclass(frozen=True)
class Frame:
    """One precomputed state of a widget: its picture, its sound, a caption and (optionally) the
    melody's score."""

    image: bytes  # PNG
    audio: bytes | None  # MP3 (or None for a silent frame)
    caption: str = ""
    score: Score | None = None


def compact_png(png: bytes, colors: int = 96) -> bytes:
    """Re-encode a PNG with an adaptive palette (about 3x smaller for plots; what a frame embeds).

    Raises:
        TypeError: png is not bytes, or colors not an integer
        ValueError: png is not a PNG image, or colors outside 2..256 (a PNG palette's size)
    """
    from PIL import Image

    colors = checks.integer("colors", colors, low=2, high=256)
    if not isinstance(png, (bytes, bytearray)):
        raise TypeError(f"png must be the bytes of a PNG image, got {type(png).__name__}")
    if bytes(png[:8]) != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"png is not a PNG image (it starts with {bytes(png[:8])!r})")
    im = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=colors)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def render_frames(params: dict[str, Sequence], make: Callable[..., Frame]) -> dict[tuple, Frame]:
    """Run ``make(**values)`` over the Cartesian grid of ``params`` (the build-time sweep)."""
    names = list(params)
    return {combo: make(**dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(params[n] for n in names))}


def _uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


_GLYPH_RE = re.compile(r'<g id="([A-Za-z0-9]+)-([A-Za-z0-9_-]+)">(<path [^<>]*/>)</g>')


def compact_svg(svg: str, prefix: str = "m2dg") -> tuple[str, dict[str, str], str]:
    """Split a Verovio SVG into what differs between scores and what they share.

    Verovio writes every glyph it uses (clef, note heads, flags...) once per SVG as
    ``<defs><g id="E0A4-<svg id>">``, a ``<style>`` scoped by the SVG's random id, and an id on every
    element. For a page of many scores the body keeps only the drawing: whitespace between tags and
    element ids removed, glyph references renamed to ``#<prefix>-E0A4``; the glyph definitions and the
    style are returned separately, to be put in the page once (see :func:`frame_player_html`).
    An SVG not laid out as expected is returned whole (correct, only bigger).

    Args:
        svg (str): one ``<svg>`` element as :func:`m2d.notation.engrave` returns it
        prefix (str): id prefix of the shared glyphs (unique per page section)
    Returns:
        body (str): the SVG without definitions, style and ids
        glyphs (dict): shared glyph id -> its ``<g>`` element
        style (str): the CSS rules, scoped with the placeholder ``{scope}``
    """
    root = re.match(r'\s*<svg[^>]* id="([^"]+)"', svg)
    defs = re.findall(r"<defs>(.*?)</defs>", svg, re.S)
    if root is None or len(defs) != 1 or svg.count("<svg") - svg.count("<svg class=") != 1:
        return svg, {}, ""
    rid = root.group(1)
    body = re.sub(r">\s+<", "><", svg.strip())
    inner = re.sub(r">\s+<", "><", defs[0].strip())
    glyphs = {}
    for code, suffix, path in _GLYPH_RE.findall(inner):
        if suffix != rid:
            return svg, {}, ""
        glyphs[f"{prefix}-{code}"] = f'<g id="{prefix}-{code}">{path}</g>'
    if _GLYPH_RE.sub("", inner):  # something else among the definitions: keep the SVG whole
        return svg, {}, ""
    body = re.sub(r"<defs>.*?</defs>", "", body, flags=re.S)
    style = "".join(re.findall(r"<style[^>]*>(.*?)</style>", body, re.S)).replace(f"#{rid}", "{scope}")
    body = re.sub(r"<style[^>]*>.*?</style>", "", body, flags=re.S)
    body = re.sub(r"<desc>[^<]*</desc>", "", body)
    body = re.sub(r'href="#([A-Za-z0-9]+)-' + re.escape(rid) + '"', rf'href="#{prefix}-\1"', body)
    body = re.sub(r' id="[^"]*"', "", body)
    body = re.sub(r'(class="\w+MilestoneEnd) [^"]*"', r'\1"', body)  # classes naming removed ids
    return body, glyphs, style


_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var img = root.querySelector("img"), aud = root.querySelector("audio"),
      cap = root.querySelector(".m2d-caption"), sheet = root.querySelector(".m2d-fscore"),
      links = root.querySelectorAll(".m2d-files a"), packed = null,
      shown = [data.first_score, data.first_files];
  // the Chinese edition shows the same frames with the words m2d.i18n translated at build time
  var zh = /^zh/i.test(document.documentElement.lang || "") ? data.zh : null;
  var title = zh ? zh.title : data.title;
  if (zh) {
    root.setAttribute("aria-label", title);
    root.querySelector(".m2d-ftitle").textContent = title;
    if (sheet) sheet.setAttribute("aria-label", "旋律的乐谱");
    Array.prototype.forEach.call(root.querySelectorAll("[data-param]"), function (el) {
      var n = el.dataset.param, name = el.parentNode.querySelector(".m2d-pname");
      if (name) name.textContent = zh.params[n];
      Array.prototype.forEach.call(el.options || [], function (o, i) { o.textContent = zh.values[n][i]; });
    });
  }
  function unpack(b64) {  // the frames' scores and files: gzip-compressed JSON
    if (typeof DecompressionStream === "undefined") return Promise.reject(new Error("old browser"));
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var s = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(s).text().then(JSON.parse);
  }
  function b64utf8(text) {
    var bytes = new TextEncoder().encode(text), bin = "";
    for (var i = 0; i < bytes.length; i += 8192)
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return btoa(bin);
  }
  function showScore(f, k) {
    if (!sheet || (f.score === shown[0] && f.files === shown[1])) return;
    if (!packed) packed = unpack(data.packed);
    packed.then(function (p) {
      if (root.dataset.state !== k) return;  // another frame was chosen meanwhile
      sheet.innerHTML = f.score === null ? "" : p.svgs[f.score];
      var file = f.files === null ? null : p.files[f.files];
      Array.prototype.forEach.call(links, function (a, i) {
        a.hidden = !file;
        if (!file) return;
        a.download = file[0] + (i ? ".musicxml" : ".mid");
        a.href = i ? "data:%(xml_mime)s;base64," + b64utf8(file[2])
                   : "data:%(midi_mime)s;base64," + file[1];
      });
      shown = [f.score, f.files];
    }, function () {
      sheet.textContent = zh ? "（这个浏览器无法解压其他帧的乐谱）"
                             : "(this browser cannot unpack the scores of the other frames)";
    });
  }
  function show() {
    var k = key(), f = data.frames[k];
    if (!f) return;
    var caption = zh ? zh.captions[k] : f.caption;
    img.src = f.image;
    img.alt = title + (caption ? (zh ? "：" : ": ") + caption : "");
    if (aud && f.audio) {
      aud.src = f.audio; aud.load();
      aud.setAttribute("aria-label", (zh ? "声音：" : "sound of ") + img.alt);
    }
    cap.textContent = caption;
    root.dataset.state = k;
    showScore(f, k);
  }
  function key() {
    return Array.prototype.map.call(root.querySelectorAll("[data-param]"), function (el) {
      var vals = data.values[el.dataset.param];
      var v = el.type === "range" ? vals[+el.value] : el.value;
      var out = root.querySelector("output[data-for='" + el.dataset.param + "']");
      if (out) out.textContent = zh ? zh.values[el.dataset.param][vals.indexOf(v)] : v;
      return v;
    }).join("|");
  }
  root.addEventListener("input", function (e) {  // the player's own controls, not an extra part's
    if (e.target.dataset && e.target.dataset.param !== undefined) show();
  });
  show();
})();
"""


def _pack_scores(frames: dict[tuple, Frame], prefix: str) -> tuple[dict, dict, str, str]:
    """Each distinct score and file set of the frames once: (frame key -> (score index, files index),
    the packed payload {"svgs": [...], "files": [[stem, midi base64, musicxml], ...]}, the shared glyph
    definitions, the shared style)."""
    from m2d.players import file_stem

    svgs: dict[str, int] = {}
    files: dict[tuple, int] = {}
    glyphs: dict[str, str] = {}
    style = ""
    index = {}
    for k, f in frames.items():
        if f.score is None:
            index[k] = (None, None)
            continue
        body, g, st = compact_svg(f.score.svg, prefix)
        glyphs.update(g)
        style = style or st
        i = svgs.setdefault(body, len(svgs))
        j = None
        if f.score.midi and f.score.musicxml:
            entry = (file_stem(f.score.name), base64.b64encode(f.score.midi).decode(), f.score.musicxml)
            j = files.setdefault(entry, len(files))
        index[k] = (i, j)
    payload = {"svgs": list(svgs), "files": [list(e) for e in files]}
    return index, payload, "".join(glyphs[g] for g in sorted(glyphs)), style


def _check_grid(params: dict[str, Sequence], frames: dict[tuple, Frame],
                sliders: Sequence[str]) -> None:
    if not params:
        raise ValueError("params must name at least one parameter, got {}")
    for name, grid in params.items():
        shown = [str(v) for v in grid]
        if not shown:
            raise ValueError(f"params[{name!r}] has no values")
        if len(set(shown)) < len(shown):
            raise ValueError(f"params[{name!r}] has values that print alike: {shown}")
    unknown = [s for s in sliders if s not in params]
    if unknown:
        raise ValueError(f"sliders {unknown} are not parameters (params: {list(params)})")
    bad = next((k for k, f in frames.items() if not isinstance(f, Frame)), None)
    if bad is not None:
        raise TypeError(f"frames[{bad!r}] must be a Frame, got {type(frames[bad]).__name__}")


def frame_player_html(params: dict[str, Sequence], frames: dict[tuple, Frame], title: str = "",
                      sliders: Sequence[str] = (), extra: str = "") -> str:
    """HTML of a self-contained frame player.

    Accessible: the player is a named group (``title``), its controls are labelled native sliders
    and drop-down lists (keyboard-operable), the picture's alt text is "title: caption" of the frame
    shown (updated with it, as is the audio's name), and caption changes are announced.
    Frames with a :class:`Score` also show the melody's notation under the picture and, when the
    score has files, its MIDI and MusicXML download links (``<figure class="m2d-score">``). Each
    distinct score is stored once, gzip-compressed, with Verovio's glyphs and style shared
    (:func:`compact_svg`); the page unpacks a score when its frame is chosen.

    Args:
        params (dict): parameter name -> the grid of values (shown as a slider if listed in
            ``sliders``, else as a drop-down list)
        frames (dict): tuple of values (in ``params`` order) -> Frame, for every grid point
        title (str): heading shown above the controls
        sliders (sequence of str): parameters drawn as range sliders
        extra (str): HTML placed inside the player after the frames, e.g. a live mode
            (:func:`m2d.widgets.attention.explorer_live_html`); only ``data-param`` controls switch
            frames
    Returns:
        html (str): one ``<div class="m2d-frames">`` with its data and inline script
    Raises:
        ValueError: no parameter, a parameter with no values or two values that print alike, a
            slider that is not a parameter, a grid point without a frame, or a score whose file
            name has no letters or digits
        TypeError: a frame that is not a :class:`Frame`
    """
    from m2d import players

    names = list(params)
    _check_grid(params, frames, sliders)
    missing = [c for c in itertools.product(*(params[n] for n in names)) if c not in frames]
    if missing:
        raise ValueError(f"{len(missing)} grid points have no frame, e.g. {missing[0]}")
    values = {n: [str(v) for v in params[n]] for n in names}
    data = {
        "title": title,
        "values": values,
        "frames": {"|".join(str(v) for v in k): {
            "image": _uri("image/png", compact_png(f.image)),
            "audio": _uri("audio/mpeg", f.audio) if f.audio else None,
            "caption": f.caption} for k, f in frames.items()},
    }
    data["zh"] = {  # the Chinese edition's words (m2d.i18n), shown where <html lang> is zh
        "title": i18n.translate(title),
        "params": {n: i18n.translate(n) for n in names},
        "values": {n: [i18n.translate(v) for v in vals] for n, vals in values.items()},
        "captions": {k: i18n.translate(f["caption"]) for k, f in data["frames"].items()}}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode())
    for f in frames.values():  # the scores are part of what the player shows
        if f.score is not None:
            digest.update(repr((f.score.svg, f.score.midi, f.score.musicxml, f.score.name)).encode())
    pid = "m2d-" + digest.hexdigest()[:12]
    first_key = next(iter(itertools.product(*(params[n] for n in names))))
    first_id = "|".join(str(v) for v in first_key)
    sheet = ""
    if any(f.score is not None for f in frames.values()):
        index, payload, glyphs, css = _pack_scores(frames, f"{pid}-g")
        for k, (i, j) in index.items():
            data["frames"]["|".join(str(v) for v in k)].update(score=i, files=j)
        packed = gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), 9, mtime=0)
        data["packed"] = base64.b64encode(packed).decode()
        i0, j0 = index[first_key]
        data["first_score"], data["first_files"] = i0, j0
        first_score = frames[first_key].score
        links = ""
        if j0 is not None:
            links = players.download_links(first_score.name, first_score.midi, first_score.musicxml)
        elif any(j is not None for _, j in index.values()):  # placeholders the script fills in
            links = ("<a hidden download='melody.mid'>MIDI</a>"
                     "<a hidden download='melody.musicxml'>MusicXML</a>")
        sheet = (
            f"<svg aria-hidden='true' focusable='false' style='position:absolute;width:0;height:0;"
            f"overflow:hidden'><desc>Engraved by Verovio</desc><defs>{glyphs}</defs></svg>"
            f"<style>{css.replace('{scope}', f'#{pid} .m2d-fscore > svg')}</style>"
            f"<figure class='m2d-score' style='margin:6px 0'>"
            f"<div class='m2d-fscore' role='img' aria-label='score of the melody' "
            f"style='max-width:100%;overflow-x:auto'>{payload['svgs'][i0] if i0 is not None else ''}"
            f"</div><div class='m2d-files' style='display:flex;gap:12px;flex-wrap:wrap'>{links}</div>"
            f"</figure>")
    blob = json.dumps(data, sort_keys=True)
    controls = []
    for n in names:
        label = html.escape(n)
        if n in sliders:
            controls.append(
                f"<label><span class='m2d-pname'>{label}</span> "
                f"<input type='range' data-param='{label}' min='0' "
                f"max='{len(values[n]) - 1}' step='1' value='0'> "
                f"<output data-for='{label}'>{html.escape(values[n][0])}</output></label>")
        else:
            opts = "".join(f"<option value='{html.escape(v, quote=True)}'>{html.escape(v)}</option>"
                           for v in values[n])
            controls.append(f"<label><span class='m2d-pname'>{label}</span> "
                            f"<select data-param='{label}'>{opts}</select></label>")
    first = data["frames"][first_id]
    safe_blob = blob.replace("</", "<\\/")  # a "</script>" inside the JSON must not end the tag
    has_audio = any(f.audio for f in frames.values())
    alt = html.escape(title + (f": {first['caption']}" if first["caption"] else ""), quote=True)
    audio_tag = (f"<audio controls preload='auto' aria-label='sound of {alt}' src='{first['audio']}'>"
                 "</audio>") if has_audio else ""
    style = ("border:1px solid #ccc;border-radius:6px;padding:8px;margin:8px 0;"
             "font-family:sans-serif;font-size:14px")
    script = _JS % {"id": pid, "midi_mime": players.MIDI_MIME, "xml_mime": players.MUSICXML_MIME}
    return (
        f"<div class='m2d-frames' id='{pid}' role='group' aria-label='{html.escape(title, quote=True)}' "
        f"style='{style}'>"
        f"<div class='m2d-ftitle' style='font-weight:bold'>{html.escape(title)}</div>"
        f"<div class='m2d-controls' style='display:flex;gap:18px;flex-wrap:wrap;margin:6px 0'>"
        f"{''.join(controls)}</div>"
        f"<img alt='{alt}' style='max-width:100%' src='{first['image']}'>"
        f"<div class='m2d-caption' aria-live='polite' style='color:#555'>"
        f"{html.escape(first['caption'])}</div>"
        f"{audio_tag}"
        f"{sheet}"
        f"<script type='application/json'>{safe_blob}</script>"
        f"<script>{script}</script>"
        f"{extra}"  # after the player's data, which its script finds as the first JSON script
        "</div>"
    )


class FramePlayer:
    """A frame player for display: the page shows :func:`frame_player_html` (HTML and Jupyter pick
    ``text/html``), the PDF edition its first frame as a picture (the LaTeX builder picks
    ``image/png``).

    Attributes:
        html (str): the player
        png (bytes): the first frame's picture
        caption (str): the first frame's caption
    """

    def __init__(self, html_text: str, png: bytes, caption: str = ""):
        self.html, self.png, self.caption = html_text, png, caption

    @property
    def data(self) -> str:
        """The HTML, as ``IPython.display.HTML(...).data`` (what this class replaced)."""
        return self.html

    def _repr_html_(self) -> str:
        return self.html

    def _repr_png_(self) -> bytes:
        return self.png


def frame_player(params: dict[str, Sequence], frames: dict[tuple, Frame], title: str = "",
                 sliders: Sequence[str] = (), extra: str = "") -> FramePlayer:
    """:func:`frame_player_html` wrapped for display in a notebook (a :class:`FramePlayer`)."""
    html_text = frame_player_html(params, frames, title, sliders, extra)
    first = frames[next(iter(itertools.product(*params.values())))]
    return FramePlayer(html_text, first.image, first.caption)
