"""The live widgets that are JavaScript ports of m2d (Part I's transition-matrix editor, Part III's
noise-schedule explorer) in headless Chromium (issue 18's targets: ready soon after the first press,
each live update <= 100 ms p95 on this 2-core machine). Timed inside the page (performance.now), each
widget alone in a page opened from file://, as tests/test_live_*.py build them. Printed, never
asserted.

Usage: .venv/bin/python benchmarks/live_js_bench.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from m2d import live
from m2d.widgets import markov as markov_widgets

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main() -> None:
    from playwright.sync_api import sync_playwright

    print("\n== live Markov editor (Chromium, file://) ==")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        live.write_assets(root)
        page_html = markov_widgets.editor_live().data
        head = '<!doctype html><html data-content_root="./"><head><meta charset="utf-8"></head>'
        (root / "e.html").write_text(f"{head}<body>{page_html}</body></html>", encoding="utf-8")
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox",
                              "--autoplay-policy=no-user-gesture-required"])
        pg = b.new_page()
        pg.goto((root / "e.html").as_uri())
        first = pg.evaluate("""() => { const t = performance.now();
            document.querySelector('.m2d-live-on').click(); return performance.now() - t; }""")
        print(f"  first press: controls built, pi, melody, drawing   {first:9.3f} ms")
        # one edit = one cell changed -> renormalise, solve pi, sample 32 notes, redraw
        ms = np.array(pg.evaluate("""() => { const out = [];
            const c = document.querySelector("input[data-i='3'][data-j='5']");
            for (let k = 0; k < 100; k++) { c.value = String(0.05 + (k % 10) / 20);
              const t = performance.now(); c.dispatchEvent(new Event('change'));
              out.push(performance.now() - t); } return out; }"""))
        print(f"  edit one entry (100 edits)                          p50 {np.percentile(ms, 50):8.3f} ms"
              f"   p95 {np.percentile(ms, 95):8.3f} ms")
        snd = pg.evaluate("""async () => { let t = performance.now(); await window.m2dLive.noteBank();
            const load = performance.now() - t; const s = document.querySelector('.m2d-live').m2dState;
            const beats = s.melody.map(() => 0.5); const out = [];
            for (let k = 0; k < 30; k++) { t = performance.now();
              await window.m2dLive.renderMelody(s.melody, beats, 132); out.push(performance.now() - t); }
            return [load, out]; }""")
        print(f"  note bank: first load (one script, once per book)   {snd[0]:9.3f} ms")
        r = np.array(snd[1])
        print(f"  render a 32-note melody                             p50 {np.percentile(r, 50):8.3f} ms"
              f"   p95 {np.percentile(r, 95):8.3f} ms")
        kb = (root / live.ASSET_DIR / "notes.js").stat().st_size / 1e3
        print(f"  note bank size (shared by the book)                 {kb:9.1f} kB")
        diffusion(pg, root)
        b.close()


def diffusion(pg, root: Path) -> None:
    from m2d import corpus
    from m2d.widgets import diffusion as diffusion_widgets

    print("\n== live noise-schedule explorer (Chromium, file://) ==")
    page_html = diffusion_widgets.explorer_live(corpus.load_split("bach")["test"][0]).data
    head = '<!doctype html><html data-content_root="./"><head><meta charset="utf-8"></head>'
    (root / "d.html").write_text(f"{head}<body>{page_html}</body></html>", encoding="utf-8")
    pg.goto((root / "d.html").as_uri())
    first = pg.evaluate("""() => { const t = performance.now();
        document.querySelector('.m2d-live-on').click(); return performance.now() - t; }""")
    print(f"  first press: controls, noise, x_t, curves, picture   {first:9.3f} ms")
    ms = np.array(pg.evaluate("""() => { const out = []; const c = document.querySelector('[name=t]');
        for (let k = 0; k < 100; k++) { c.value = String(10 * k);
          const t = performance.now(); c.dispatchEvent(new Event('input'));
          out.push(performance.now() - t); } return out; }"""))
    print(f"  move t (q_sample, curves, picture), 100 moves        p50 {np.percentile(ms, 50):8.3f} ms"
          f"   p95 {np.percentile(ms, 95):8.3f} ms")
    snd = pg.evaluate("""async () => { const s = document.querySelector('.m2d-live').m2dState;
        let t = performance.now(); await window.m2dLive.spectro.melPinv(); const load = performance.now() - t;
        const out = []; for (let k = 0; k < 20; k++) { t = performance.now();
          await window.m2dLive.spectro.unitToAudio(s.xt, s.phase, 0); out.push(performance.now() - t); }
        t = performance.now(); await window.m2dLive.spectro.unitToAudio(s.xt, null, 8, 1);
        return [load, out, performance.now() - t]; }""")
    print(f"  mel pseudo-inverse, first load (once per book)       {snd[0]:9.3f} ms")
    r = np.array(snd[1])
    print(f"  x_t to sound, 3 s, clean phase                       p50 {np.percentile(r, 50):8.3f} ms"
          f"   p95 {np.percentile(r, 95):8.3f} ms")
    print(f"  x_t to sound, 3 s, 8 Griffin-Lim iterations          {snd[2]:9.3f} ms")


if __name__ == "__main__":
    main()
