"""Static counterparts of the live widgets: a frame player that works in the HTML book with no kernel.

In the published HTML, ipywidgets lose their Python callbacks. For each signature widget the chapter
therefore also emits a *frame player*: the widget's own update function is run at build time over a
grid of its key parameters, and every resulting picture (PNG) and sound (MP3) is embedded in the page,
switched by plain HTML controls and a few lines of inline JavaScript. Generated from the same library
calls as the live widget, so the two cannot drift; no request leaves the page.

Notebook: notebooks/01_markov.ipynb, 02_attention.ipynb, 03_diffusion.ipynb
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """One precomputed state of a widget: its picture, its sound and a caption."""

    image: bytes  # PNG
    audio: bytes | None  # MP3 (or None for a silent frame)
    caption: str = ""


def compact_png(png: bytes, colors: int = 96) -> bytes:
    """Re-encode a PNG with an adaptive palette (about 3x smaller for plots; what a frame embeds)."""
    from PIL import Image

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


_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var img = root.querySelector("img"), aud = root.querySelector("audio"),
      cap = root.querySelector(".m2d-caption");
  function key() {
    return Array.prototype.map.call(root.querySelectorAll("[data-param]"), function (el) {
      var vals = data.values[el.dataset.param];
      var v = el.type === "range" ? vals[+el.value] : el.value;
      var out = root.querySelector("output[data-for='" + el.dataset.param + "']");
      if (out) out.textContent = v;
      return v;
    }).join("|");
  }
  function show() {
    var f = data.frames[key()];
    if (!f) return;
    img.src = f.image;
    if (aud && f.audio) { aud.src = f.audio; aud.load(); }
    cap.textContent = f.caption;
    root.dataset.state = key();
  }
  root.addEventListener("input", show);
  show();
})();
"""


def frame_player_html(params: dict[str, Sequence], frames: dict[tuple, Frame], title: str = "",
                      sliders: Sequence[str] = ()) -> str:
    """HTML of a self-contained frame player.

    Args:
        params (dict): parameter name -> the grid of values (shown as a slider if listed in
            ``sliders``, else as a drop-down list)
        frames (dict): tuple of values (in ``params`` order) -> Frame, for every grid point
        title (str): heading shown above the controls
        sliders (sequence of str): parameters drawn as range sliders
    Returns:
        html (str): one ``<div class="m2d-frames">`` with its data and inline script
    Raises:
        ValueError: a grid point without a frame
    """
    names = list(params)
    missing = [c for c in itertools.product(*(params[n] for n in names)) if c not in frames]
    if missing:
        raise ValueError(f"{len(missing)} grid points have no frame, e.g. {missing[0]}")
    values = {n: [str(v) for v in params[n]] for n in names}
    data = {
        "values": values,
        "frames": {"|".join(str(v) for v in k): {
            "image": _uri("image/png", compact_png(f.image)),
            "audio": _uri("audio/mpeg", f.audio) if f.audio else None,
            "caption": f.caption} for k, f in frames.items()},
    }
    blob = json.dumps(data, sort_keys=True)
    pid = "m2d-" + hashlib.sha256(blob.encode()).hexdigest()[:12]
    controls = []
    for n in names:
        label = html.escape(n)
        if n in sliders:
            controls.append(
                f"<label>{label} <input type='range' data-param='{label}' min='0' "
                f"max='{len(values[n]) - 1}' step='1' value='0'> "
                f"<output data-for='{label}'>{html.escape(values[n][0])}</output></label>")
        else:
            opts = "".join(f"<option>{html.escape(v)}</option>" for v in values[n])
            controls.append(f"<label>{label} <select data-param='{label}'>{opts}</select></label>")
    first_key = next(iter(itertools.product(*(params[n] for n in names))))
    first = data["frames"]["|".join(str(v) for v in first_key)]
    safe_blob = blob.replace("</", "<\\/")  # a "</script>" inside the JSON must not end the tag
    has_audio = any(f.audio for f in frames.values())
    audio_tag = f"<audio controls preload='auto' src='{first['audio']}'></audio>" if has_audio else ""
    style = ("border:1px solid #ccc;border-radius:6px;padding:8px;margin:8px 0;"
             "font-family:sans-serif;font-size:14px")
    return (
        f"<div class='m2d-frames' id='{pid}' style='{style}'>"
        f"<div style='font-weight:bold'>{html.escape(title)}</div>"
        f"<div class='m2d-controls' style='display:flex;gap:18px;flex-wrap:wrap;margin:6px 0'>"
        f"{''.join(controls)}</div>"
        f"<img alt='{html.escape(title)}' style='max-width:100%' src='{first['image']}'>"
        f"<div class='m2d-caption' style='color:#555'>{html.escape(first['caption'])}</div>"
        f"{audio_tag}"
        f"<script type='application/json'>{safe_blob}</script>"
        f"<script>{_JS % {'id': pid}}</script>"
        "</div>"
    )


def frame_player(params: dict[str, Sequence], frames: dict[tuple, Frame], title: str = "",
                 sliders: Sequence[str] = ()):
    """:func:`frame_player_html` wrapped for display in a notebook (``IPython.display.HTML``)."""
    from IPython.display import HTML

    return HTML(frame_player_html(params, frames, title, sliders))
