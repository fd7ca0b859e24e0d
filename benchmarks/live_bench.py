"""Part II's live attention explorer in headless Chromium (issue 18's targets: the model ready <= 2 s
after the first press, each live update <= 100 ms p95 on this 2-core machine), and Part III's live
"generate" button (DDIM with the shipped U-Net in the page; target: a 10-step sample <= 3 s).
Each widget's live part alone in a page opened from file://, beside the shared runtime script that
`make vendor` wrote (_vendor/ort/ort-live.js) and the chapter's trained model exported by
m2d.models.export; timed inside the page (performance.now). Printed, never asserted.

Usage: .venv/bin/python benchmarks/live_bench.py [attention|ddim]   (after `make vendor`; trains/loads
Part II's model; no argument: both)
"""

from __future__ import annotations

import shutil
import sys
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


def ddim_bench() -> None:
    """Part III's generate button: first press (runtime + U-Net + session + sample + sound), then
    DDIM samples of 10, 20 and 50 steps and the Griffin-Lim sound, timed in the page."""
    from playwright.sync_api import sync_playwright

    from m2d import live, spectro
    from m2d.models import ddpm
    from m2d.widgets.diffusion import LIVE_GL_ITER, generate_live

    model, _, _ = ddpm.book_model(progress=False)
    clip = ddpm.centred_clip(spectro.load_patches("train", spectro.PatchConfig()))
    print("\n== live DDIM generator, Part III (Chromium, file://; target: 10 steps <= 3 s) ==")
    state = "document.querySelector('.m2d-live').m2dState"
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        live.write_assets(root)
        (root / "ort").mkdir()
        (root / "ort" / "ort-live.js").symlink_to(RUNTIME)
        part = generate_live(model, ddpm.BOOK_CONFIG, clip, directory=root / "models").data
        head = '<!doctype html><html lang="en" data-content_root="./"><head><meta charset="utf-8"></head>'
        (root / "p.html").write_text(f"{head}<body>{part}</body></html>", encoding="utf-8")
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        pg = b.new_page()
        pg.goto((root / "p.html").as_uri())
        pg.click(".m2d-live-on")
        pg.fill("[name=steps]", "10")
        t = time.perf_counter()
        pg.click("button[name=generate]")
        pg.wait_for_function("() => +(document.querySelector('.m2d-live').dataset.liveRuns || 0) >= 1",
                             timeout=300_000)
        wall = time.perf_counter() - t
        s = pg.evaluate(f"() => {{ const s = {state}; return [s.loadMs, s.sampleMs, s.soundMs]; }}")
        print(f"  first press -> sound playing (wall)                    {wall * 1e3:9.1f} ms")
        print(f"    runtime + U-Net script + session                     {s[0]:9.1f} ms")
        print(f"    10-step sample (first, with warm-up)                 {s[1]:9.1f} ms")
        print(f"    sound ({LIVE_GL_ITER} Griffin-Lim iterations, 64 frames)         {s[2]:9.1f} ms")
        for steps in (10, 20, 50):
            ms = pg.evaluate(f"""async (n) => {{ const s = {state}, out = [];
                for (let k = 0; k < 3; k++) {{ await s.sample(n, k, null); out.push(s.sampleMs); }}
                return out; }}""", steps)
            print(f"  {steps:2d}-step sample (64 x 64), 3 runs              median {np.median(ms):9.1f} ms "
                  f"({1e-3 * np.median(ms) / steps * 1e3:.0f} ms per U-Net evaluation)")
        gl = pg.evaluate(f"""async () => {{ const s = {state}, out = {{}}, x = [];
            for (let i = 0; i < 64; i++) x.push(s.x0.slice(i * 64, (i + 1) * 64));
            for (const n of [0, 4, 8, 16, 32]) {{ const t0 = performance.now();
              await window.m2dLive.spectro.unitToAudio(x, null, n, 0); out[n] = performance.now() - t0; }}
            return out; }}""")
        print("  sound of one 64-frame sample: " + ", ".join(f"{k} Griffin-Lim iterations {v:.0f} ms"
                                                         for k, v in gl.items()))
        kb = sum(f.stat().st_size for f in (root / "models").glob("*.js")) / 1e3
        print(f"  U-Net model script {kb:.0f} kB")
        b.close()


def main() -> None:
    which = sys.argv[1:] or ["attention", "ddim"]
    if not RUNTIME.exists():
        raise SystemExit(f"{RUNTIME} is missing: run `make vendor` first")
    if "attention" in which:
        attention_bench()
    if "ddim" in which:
        ddim_bench()


def attention_bench() -> None:
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
