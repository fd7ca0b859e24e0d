"""Copy the pinned npm packages the book serves itself into _vendor/ (published at the HTML root).

_vendor/mathjax/   <- mathjax/es5 (tex-chtml.js and the fonts/extensions it loads on demand)
_vendor/require.js <- requirejs/require.js
_vendor/widgets/   <- @jupyter-widgets/html-manager/dist (embed-amd.js + its chunks and fonts)
_vendor/widgets-config.js <- tools/widgets-config.js (tells require.js where that folder is)

Run by `make vendor` after `npm ci`; nothing here is committed (see .gitignore).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NM = ROOT / "node_modules"
OUT = ROOT / "_vendor"


def main() -> int:
    sources = {
        "mathjax": NM / "mathjax" / "es5",
        "require.js": NM / "requirejs" / "require.js",
        "widgets": NM / "@jupyter-widgets" / "html-manager" / "dist",
        "widgets-config.js": ROOT / "tools" / "widgets-config.js",
    }
    missing = [str(p) for p in sources.values() if not p.exists()]
    if missing:
        print(f"missing {missing}: run `npm ci` first", file=sys.stderr)
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    ignore = shutil.ignore_patterns("*.map", "*.LICENSE.txt")
    for name, src in sources.items():
        if src.is_dir():
            shutil.copytree(src, OUT / name, ignore=ignore)
        else:
            shutil.copy2(src, OUT / name)
    print(f"vendored {', '.join(sources)} into {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
