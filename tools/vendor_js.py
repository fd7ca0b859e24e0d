"""Copy the pinned npm packages the book serves itself into _vendor/ (published at the HTML root).

_vendor/mathjax/   <- mathjax/es5 (tex-chtml.js and the fonts/extensions it loads on demand)
_vendor/require.js <- requirejs/require.js
_vendor/widgets/   <- @jupyter-widgets/html-manager/dist (embed-amd.js + its chunks and fonts)
_vendor/widgets-config.js <- tools/widgets-config.js (tells require.js where that folder is)

Each package's licence travels with it (book/licences.md lists them): mathjax/LICENSE (Apache-2.0),
widgets/LICENSE (BSD-3-Clause) with widgets/embed.js.LICENSE.txt (the notices of the MIT/BSD code
bundled into the manager) and widgets/LICENSE-fontawesome.txt (the icon fonts in dist/); require.js
keeps its MIT header. axe-core (a devDependency) is read by the accessibility test from node_modules
and is never copied here.

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
    licences = {
        "mathjax/LICENSE": NM / "mathjax" / "LICENSE",
        "widgets/LICENSE": NM / "@jupyter-widgets" / "html-manager" / "LICENSE",
        "widgets/LICENSE-fontawesome.txt": NM / "@fortawesome" / "fontawesome-free" / "LICENSE.txt",
    }
    missing = [str(p) for p in [*sources.values(), *licences.values()] if not p.exists()]
    if missing:
        print(f"missing {missing}: run `npm ci` first", file=sys.stderr)
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    ignore = shutil.ignore_patterns("*.map")
    for name, src in sources.items():
        if src.is_dir():
            shutil.copytree(src, OUT / name, ignore=ignore)
        else:
            shutil.copy2(src, OUT / name)
    for name, src in licences.items():
        shutil.copy2(src, OUT / name)
    print(f"vendored {', '.join(sources)} into {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
