"""Live modes of the static HTML book: widgets whose numbers the reader's browser computes (issue 18).

The frame players of :mod:`m2d.static` replay what the build computed. A live mode sits beside one
and computes in the page: a small JavaScript port of the library functions it needs
(``src/m2d/js/*.js``, held equal to the library by the browser tests), and assets the build writes
once for the whole book into ``_build/html/_static/m2d-live/`` (:func:`write_assets`), which a page
loads with ``<script src>`` -- the one way a page opened from ``file://`` can read a file -- only
when the reader first asks for them.

Assets:
    ``notes.js``: the note bank, one sample per MIDI note 55..81 played by the SoundFont piano
    (:func:`m2d.soundfont.render`, the instrument of the precomputed melodies), 16-bit PCM. The
    page cuts each note to its length at the reader's tempo with a 30 ms release.
    ``spectro.js``: the mel pseudo-inverse, for turning spectrograms into sound in the page
    (``js/spectro.js``, a port of :func:`m2d.spectro.fast_mel_to_audio`).

Notebook: notebooks/01_markov.ipynb, notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import base64
import html
import json
import re
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from m2d import audio

JS_DIR = Path(__file__).resolve().parent / "js"
#: where :func:`write_assets` puts the book's shared live assets, relative to the HTML root
ASSET_DIR = Path("_static") / "m2d-live"
#: the note bank's range: :func:`m2d.pitch.pcs_to_midi` folds every melody into it
BANK_LOW, BANK_HIGH = 55, 81
#: each bank sample lasts one eighth note at the slowest tempo a live widget offers (60)
BANK_SECONDS = 0.5


def script(name: str) -> str:
    """The JavaScript of one live module (``src/m2d/js/<name>.js``).

    Raises:
        ValueError: no such module (the message lists the ones there are)
    """
    path = JS_DIR / f"{name}.js"
    if not isinstance(name, str) or "/" in name or not path.is_file():
        known = sorted(p.stem for p in JS_DIR.glob("*.js"))
        raise ValueError(f"name must be one of {known}, got {name!r}")
    return path.read_text(encoding="utf-8")


def note_bank(low: int = BANK_LOW, high: int = BANK_HIGH, seconds: float = BANK_SECONDS,
              sr: int = audio.SR) -> np.ndarray:
    """One sample per MIDI note ``low..high``: the SoundFont piano holding the note for
    ``seconds`` (:func:`m2d.soundfont.render`, no release tail), so the page plays the instrument of
    the precomputed melodies (:func:`m2d.soundfont.render_melody`).

    Returns:
        bank (np.ndarray): float32, shape (high - low + 1, round(seconds * sr)), peak 0.8 per note
    Raises:
        ValueError: a range outside MIDI 0..127 or empty, or a non-positive duration
    """
    from m2d import checks

    low = checks.integer("low", low, low=0, high=127)
    high = checks.integer("high", high, low=low, high=127)
    seconds = checks.real("seconds", seconds, low=0, low_open=True)
    from m2d import soundfont

    return np.stack([soundfont.render([soundfont.NoteEvent(0.0, seconds, m)], sr=sr, tail=0.0)
                     for m in range(low, high + 1)])


def note_bank_js(bank: np.ndarray | None = None, low: int = BANK_LOW, sr: int = audio.SR) -> str:
    """The note bank as the script ``notes.js``: sets ``window.m2dLive.noteBankData`` to
    ``{sr, low, high, length, pcm}`` with ``pcm`` the little-endian int16 samples in base64."""
    bank = note_bank(low=low, sr=sr) if bank is None else np.asarray(bank, dtype=np.float32)
    if bank.ndim != 2 or not np.all(np.isfinite(bank)) or np.abs(bank).max() > 1:
        raise ValueError("bank must be a finite 2-D array of samples in [-1, 1]")
    pcm = np.round(bank * 32767).astype("<i2").tobytes()
    data = {"sr": int(sr), "low": int(low), "high": int(low + len(bank) - 1),
            "length": int(bank.shape[1]), "pcm": base64.b64encode(pcm).decode("ascii")}
    return ("window.m2dLive = window.m2dLive || {};\n"
            f"window.m2dLive.noteBankData = {json.dumps(data)};\n")


def float32_b64(x: np.ndarray) -> str:
    """Little-endian float32 bytes of ``x`` (C order) in base64: how a page receives an array."""
    a = np.asarray(x, dtype="<f4")
    if not np.all(np.isfinite(a)):
        raise ValueError("x must be finite")
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def quantize_phase(phase: np.ndarray) -> bytes:
    """Phase angles in [-pi, pi] as one byte each: k = floor((phi + pi) / 2pi * 256), clipped to
    0..255 (error at most pi/256 after :func:`dequantize_phase`)."""
    k = np.floor((np.asarray(phase, dtype=float) + np.pi) / (2 * np.pi) * 256)
    return np.clip(k, 0, 255).astype(np.uint8).tobytes()


def dequantize_phase(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """The angles the page decodes from :func:`quantize_phase`'s bytes: (k + 1/2) / 256 * 2pi - pi."""
    k = np.frombuffer(data, dtype=np.uint8).reshape(shape).astype(float)
    return (k + 0.5) / 256 * 2 * np.pi - np.pi


def spectro_js() -> str:
    """The script ``spectro.js``: the mel pseudo-inverse (:func:`m2d.spectro.mel_pinv`, float32,
    shape (N_FFT/2 + 1, N_MELS)) and the STFT settings, as ``window.m2dLive.spectroData``."""
    from m2d import spectro

    pinv = spectro.mel_pinv()
    data = {"pinv": float32_b64(pinv), "bins": int(pinv.shape[0]), "mels": int(pinv.shape[1]),
            "sr": audio.SR, "nFft": audio.N_FFT, "hop": audio.HOP,
            "dbLo": spectro.DB_LO, "dbHi": spectro.DB_HI}
    return ("window.m2dLive = window.m2dLive || {};\n"
            f"window.m2dLive.spectroData = {json.dumps(data)};\n")


def write_assets(html_root: str | Path) -> list[Path]:
    """Write the live widgets' shared assets into ``<html_root>/_static/m2d-live/`` (called at the
    end of every HTML build by tools/m2d_sphinx.py). Rewrites a file only when its content changed.

    Returns:
        paths (list[Path]): the asset files
    """
    out = Path(html_root) / ASSET_DIR
    out.mkdir(parents=True, exist_ok=True)
    files = {"notes.js": note_bank_js(), "spectro.js": spectro_js()}
    paths = []
    for name, text in files.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


#: a live widget's reference to its model script, in the configuration it writes into the page
_MODEL_REF = re.compile(r'"model": "models/([a-z0-9][a-z0-9-]*)-([0-9a-f]{16})\.js"')


def write_model_scripts(html_root: str | Path) -> list[Path]:
    """Write ``<html_root>/models/<name>.js`` for every model a built page's live widget names
    (``"model": "models/<kind>-<key>.js"``), from the ONNX export :func:`m2d.models.export.onnx_bytes`
    stored in the m2d cache under that content key (checksum verified), and remove the model
    scripts no page names (earlier exports). Called at the end of the HTML build
    (tools/m2d_sphinx.py), so the scripts match the pages even when the execution cache outlived
    the folder they were first written to.

    Returns:
        paths (list[Path]): the model scripts the pages need
    Raises:
        RuntimeError: a page names a model whose export is neither in the cache nor already there
            (the message says how to rebuild)
    """
    from m2d import cache
    from m2d.models import export

    root = Path(html_root)
    wanted: set[tuple[str, str]] = set()
    for page in root.rglob("*.html"):
        wanted |= set(_MODEL_REF.findall(page.read_text(encoding="utf-8", errors="replace")))
    out = root / "models"
    paths = []
    for kind, key in sorted(wanted):
        name = f"{kind}-{key}"
        blob = cache.stored(f"onnx-{kind}", key, load=lambda p: p.read_bytes(), suffix="onnx")
        path = out / f"{name}.js"
        if blob is not None:
            export.write_model_script(out, name, blob)
        elif not path.exists():
            raise RuntimeError(f"a page runs the model {name}, but its ONNX export is not in the m2d "
                               f"cache ({cache.cache_dir()}): rebuild with the execution cache "
                               "dropped (rm -rf _build/.jupyter_cache; make book)")
        paths.append(path)
    for p in out.glob("*.js") if out.is_dir() else []:
        if p not in paths:
            p.unlink()
    return paths


def common_script() -> str:
    """``js/live_common.js`` with the book's translation rules (:func:`m2d.i18n.rules_json`) for
    ``live.localize``: what every live widget's inline script starts with."""
    from m2d import i18n

    return (script("live_common") + "\nwindow.m2dLive.i18nRules = window.m2dLive.i18nRules || "
            f"{i18n.rules_json()};\n")


def widget_html(kind: str, config: dict[str, Any], scripts: list[str], title: str,
                label_on: str = "Try it live: compute in your browser") -> str:
    """A live widget for the static page: a toggle button (closed by default, so a reader who never
    asks loads nothing), an empty body the JavaScript fills, the scripts inline and the widget's
    configuration as JSON.

    Args:
        kind (str): the JavaScript constructor, e.g. ``"markov.editor"`` (``window.m2dLive.<kind>``)
        config (dict): JSON-serialisable settings passed to it (no NaN or infinity)
        scripts (list[str]): module names for :func:`script`, in load order
        title (str): the widget's heading (also its accessible name)
    Raises:
        ValueError: an unknown script or a configuration JSON cannot carry
    """
    try:
        cfg = json.dumps({**config, "labelOn": label_on, "labelOff": "Hide the live version"},
                         allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"config must be finite JSON: {exc}") from None
    cfg = cfg.replace("</", "<\\/")  # never ends the inline script
    code = "\n".join(common_script() if s == "live_common" else script(s) for s in scripts)
    uid = f"m2d-live-{uuid.uuid4().hex[:8]}"
    ctor = "window.m2dLive." + ".".join(part for part in kind.split(".") if part.isidentifier())
    return (f'<section class="m2d-live" id="{uid}" data-m2d-live="{html.escape(kind)}" '
            f'aria-label="{html.escape(title)}">'
            f'<p class="m2d-live-title"><strong>{html.escape(title)}</strong></p>'
            f'<button type="button" class="m2d-live-on" aria-expanded="false">{html.escape(label_on)}'
            f'</button><div class="m2d-live-body" hidden></div>'
            f"<script>{code}\n({ctor})(document.getElementById('{uid}'), {cfg});\n"
            f"window.m2dLive.localize && window.m2dLive.localize(document.getElementById('{uid}'));"
            "</script></section>")
