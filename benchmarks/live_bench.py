"""Part II's live attention explorer in headless Chromium (issue 18's targets: the model ready <= 2 s
after the first press, each live update <= 100 ms p95 on this 2-core machine). The explorer's live
part alone in a page opened from file://, beside the shared runtime script that `make vendor` wrote
(_vendor/ort/ort-live.js) and the chapter's trained Transformer exported by m2d.models.export; timed
inside the page (performance.now). Printed, never asserted.

Usage: .venv/bin/python benchmarks/live_bench.py   (after `make vendor`; trains/loads Part II's model)
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RUNTIME = ROOT / "_vendor" / "ort" / "ort-live.js"
NAMES = ("C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5", "F#4", "Bb4")


def melodies(n: int, seed: int = 0) -> list[str]:
    """n typed melodies of 8..64 notes (the explorer's typical range)."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(NAMES, int(k))) for k in rng.integers(8, 65, n)]


def main() -> None:
    import torch
    from playwright.sync_api import sync_playwright

    from m2d import corpus
    from m2d.models import transformer
    from m2d.widgets.attention import explorer_live_html

    if not RUNTIME.exists():
        raise SystemExit(f"{RUNTIME} is missing: run `make vendor` first")
    torch.set_num_threads(1)
    model, _ = transformer.book_model(corpus.load_split("bach"), progress=False)
    print("\n== live attention explorer (Chromium, file://) ==")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        (root / "ort").mkdir()
        (root / "ort" / "ort-live.js").symlink_to(RUNTIME)
        t = time.perf_counter()
        part = explorer_live_html(model, root / "models")
        print(f"  export + model script (cached after the first run)  {time.perf_counter() - t:9.3f} s")
        (root / "nb").mkdir()
        head = '<!doctype html><html lang="en" data-content_root="../"><head><meta charset="utf-8"></head>'
        (root / "nb" / "p.html").write_text(f"{head}<body>{part}</body></html>", encoding="utf-8")
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        pg = b.new_page()
        pg.goto((root / "nb" / "p.html").as_uri())
        t = time.perf_counter()
        pg.check(".m2d-attn-live-switch")
        pg.wait_for_function("() => +(document.querySelector('.m2d-attn-live').dataset.liveUpdates"
                             " || 0) >= 1", timeout=60_000)
        wall = time.perf_counter() - t
        s = pg.evaluate("() => { const r = document.querySelector('.m2d-attn-live');"
                        " const s = window.m2dLive.attention[r.id];"
                        " return [s.loadMs, s.timings[0], s.runtimeMs, s.modelMs]; }")
        print(f"  first press -> model ready (runtime + model + session) {s[0]:9.1f} ms")
        print(f"    runtime script read and its module imported         {s[2]:9.1f} ms")
        print(f"    model script read                                   {s[3]:9.1f} ms")
        print(f"    session created (WebAssembly compiled, graph loaded) {s[0] - s[2] - s[3]:9.1f} ms")
        print(f"  first press -> first maps and continuation (wall)     {wall * 1e3:9.1f} ms")
        print(f"    of which the first update (warm-up)                 {s[1]:9.1f} ms")
        texts = melodies(60)
        out = pg.evaluate("""async (texts) => {
            const r = document.querySelector('.m2d-attn-live'), s = window.m2dLive.attention[r.id];
            const box = r.querySelector('.m2d-attn-live-text'), maps = [], all = [], run = [], draw = [];
            for (const text of texts) {
              const n = s.updates;
              box.value = text; box.dispatchEvent(new Event('input'));
              while (s.updates === n) await new Promise(res => setTimeout(res, 1));
              maps.push(s.mapsMs); all.push(s.timings[s.timings.length - 1]);
              run.push(s.runMs); draw.push(s.drawMs);
            }
            return [maps, all, run, draw]; }""", texts)
        for name, ms in (("  of which the forward pass (ONNX Runtime Web)", out[2]),
                         ("  of which drawing 16 maps and the bars", out[3]),
                         ("maps + next-note bars (one forward pass)", out[0]),
                         ("whole update (+ 8-note sampled continuation)", out[1])):
            ms = np.asarray(ms)
            print(f"  {name:52s} p50 {np.percentile(ms, 50):7.1f} ms   p95 "
                  f"{np.percentile(ms, 95):7.1f} ms  (60 melodies of 8-64 notes)")
        mb = RUNTIME.stat().st_size / 1e6
        kb = sum(f.stat().st_size for f in (root / "models").glob("*.js")) / 1e3
        print(f"  runtime script (shared by the book) {mb:.1f} MB; model script {kb:.0f} kB")
        b.close()


if __name__ == "__main__":
    main()
