"""Copy the pinned npm packages the book serves itself into _vendor/ (published at the HTML root).

_vendor/mathjax/   <- mathjax/es5 (tex-chtml.js and the fonts/extensions it loads on demand)
_vendor/require.js <- requirejs/require.js
_vendor/widgets/   <- @jupyter-widgets/html-manager/dist (embed-amd.js + its chunks and fonts)
_vendor/widgets-config.js <- tools/widgets-config.js (tells require.js where that folder is)
_vendor/ort/ort-live.js <- onnxruntime-web/dist: ort.wasm.bundle.min.mjs and ort-wasm-simd-threaded.wasm
                           (gzipped), both base64 in ONE script (tools/live/ort-live.template.js)
                           that the live widgets insert on the reader's first press (file:// pages
                           can read bytes only through <script src>); ort/LICENSE <-
                           tools/live/ort-LICENSE.txt (the npm package has no licence file; MIT,
                           see book/licences.md)
_vendor/models/          written by the chapters while the book is built (the exported models,
                           m2d.models.export.write_model_script); kept when this script re-runs

Each package's licence travels with it (book/licences.md lists them): mathjax/LICENSE (Apache-2.0),
widgets/LICENSE (BSD-3-Clause) with widgets/embed.js.LICENSE.txt (the notices of the MIT/BSD code
bundled into the manager) and widgets/LICENSE-fontawesome.txt (the icon fonts in dist/); require.js
keeps its MIT header. axe-core (a devDependency) is read by the accessibility test from node_modules
and is never copied here.

Run by `make vendor` after `npm ci`; nothing here is committed (see .gitignore).
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NM = ROOT / "node_modules"
OUT = ROOT / "_vendor"
ORT = NM / "onnxruntime-web"
#: Folders under _vendor/ that the book build writes and this script leaves alone.
KEEP = ("models",)


def ort_live_script() -> str:
    """The shared runtime script: the template with the ES-module bundle and the WebAssembly binary
    (gzip-compressed: 14 MB -> 3.7 MB; the page unpacks it) of the pinned onnxruntime-web inlined
    as base64."""
    dist = ORT / "dist"
    version = json.loads((ORT / "package.json").read_text())["version"]
    template = (ROOT / "tools" / "live" / "ort-live.template.js").read_text()
    mjs = base64.b64encode((dist / "ort.wasm.bundle.min.mjs").read_bytes()).decode()
    wasm = (dist / "ort-wasm-simd-threaded.wasm").read_bytes()
    packed = base64.b64encode(gzip.compress(wasm, 9, mtime=0)).decode()
    return (template.replace("__VERSION__", version).replace("__MJS_BASE64__", mjs)
            .replace("__WASM_GZIP_BASE64__", packed))


def main() -> int:
    sources = {
        "mathjax": NM / "mathjax" / "es5",
        "require.js": NM / "requirejs" / "require.js",
        "widgets": NM / "@jupyter-widgets" / "html-manager" / "dist",
        "widgets-config.js": ROOT / "tools" / "widgets-config.js",
    }
    licences = {
        "mathjax/LICENSE": NM / "mathjax" / "LICENSE",
        "widgets/LICENSE": NM / "@jupyter-widgets" / "html-manager" / "LICENSE",
        "widgets/LICENSE-fontawesome.txt": NM / "@fortawesome" / "fontawesome-free" / "LICENSE.txt",
        "ort/LICENSE": ROOT / "tools" / "live" / "ort-LICENSE.txt",
    }
    ort_files = [ORT / "package.json", ORT / "dist" / "ort.wasm.bundle.min.mjs",
                 ORT / "dist" / "ort-wasm-simd-threaded.wasm"]
    missing = [str(p) for p in [*sources.values(), *licences.values(), *ort_files] if not p.exists()]
    if missing:
        print(f"missing {missing}: run `npm ci` first", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        if old.name in KEEP:
            continue
        shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    ignore = shutil.ignore_patterns("*.map")
    for name, src in sources.items():
        if src.is_dir():
            shutil.copytree(src, OUT / name, ignore=ignore)
        else:
            shutil.copy2(src, OUT / name)
    (OUT / "ort").mkdir()
    (OUT / "ort" / "ort-live.js").write_text(ort_live_script())
    for name, src in licences.items():
        shutil.copy2(src, OUT / name)
    print(f"vendored {', '.join([*sources, 'ort/ort-live.js'])} into {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
