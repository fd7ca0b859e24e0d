"""All benchmark figures in one run (`make bench`): printed, never asserted.

- build: cold `make book` (fresh cache dirs) and warm rebuild wall time; per-notebook execution time
- library vs independent implementations, as ratios (quantecon, diffusers, torch)
- widget callbacks: p50/p95 over >= 50 updates, picture and sound separately
- training time to the chapters' quality figures (Part II bits/note, Part III ELBO)
- Part-specific scripts found beside this one (markov_bench, attention_scaling, diffusion_bench,
  widget_bench: the melody widgets' update including the engraved score, and the scores' page weight)

Usage: .venv/bin/python benchmarks/run.py [--no-build]
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import line, stopwatch

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def bench_build() -> None:
    print("\n== book build ==")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, M2D_CACHE_DIR=cache)  # cold: corpus extraction and training included
        shutil.rmtree(ROOT / "_build", ignore_errors=True)
        t = time.perf_counter()
        subprocess.run(["make", "book"], cwd=ROOT, env=env, check=True, capture_output=True)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run(["make", "book"], cwd=ROOT, env=env, check=True, capture_output=True)
        warm = time.perf_counter() - t
    print(f"  cold make book: {cold:7.1f} s    warm rebuild: {warm:6.1f} s")
    from jupyter_cache import get_cache

    for rec in get_cache(str(ROOT / "_build" / ".jupyter_cache")).list_cache_records():
        print(f"  executed {Path(rec.uri).name:24s} {rec.data.get('execution_seconds', float('nan')):7.1f} s")


def bench_peers() -> None:
    print("\n== m2d against independent implementations (ratio < 1: m2d faster) ==")
    from m2d import attention, diffusion, example_chains, markov

    P = example_chains.illiac_matrix()
    markov.sample_melody(P, 10, rng=0)
    ours = stopwatch(lambda i: markov.sample_melody(P, 100_000, rng=i), 50)
    line("m2d sample_melody 1e5", ours)
    ours_pi = stopwatch(lambda i: markov.stationary_distribution(P), 50)
    line("m2d stationary_distribution 12x12", ours_pi)
    try:
        import quantecon as qe

        mc = qe.MarkovChain(P)
        mc.simulate(10, init=0, random_state=0)
        theirs = stopwatch(lambda i: mc.simulate(100_000, init=0, random_state=i), 50)
        line("quantecon MarkovChain.simulate 1e5", theirs)
        theirs_pi = stopwatch(lambda i: qe.MarkovChain(P).stationary_distributions, 50)
        line("quantecon stationary_distributions 12x12", theirs_pi)
        print(f"  ratios: sampling {np.median(ours) / np.median(theirs):.2f}, "
              f"stationary {np.median(ours_pi) / np.median(theirs_pi):.2f}")
        np.testing.assert_allclose(qe.MarkovChain(P).stationary_distributions[0],
                                   markov.stationary_distribution(P), atol=1e-10)
        print("  stationary distributions agree to 1e-10")
    except ImportError:
        print("  quantecon not installed (make bench installs it)")

    ab = diffusion.alpha_bars(diffusion.linear_beta_schedule(1000))
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((64, 64, 64)).astype(np.float32)
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    t = rng.integers(1, 1001, size=64)
    ours_q = stopwatch(lambda i: diffusion.q_sample(x0, t, ab, eps), 30)
    line("m2d q_sample 64 x 64x64", ours_q)
    try:
        import torch
        from diffusers import DDPMScheduler

        sch = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
        X0, E, Tt = torch.from_numpy(x0), torch.from_numpy(eps), torch.from_numpy(t - 1)
        theirs_q = stopwatch(lambda i: sch.add_noise(X0, E, Tt), 30)
        line("diffusers DDPMScheduler.add_noise", theirs_q)
        np.testing.assert_allclose(sch.add_noise(X0, E, Tt).numpy(), diffusion.q_sample(x0, t, ab, eps),
                                   atol=1e-4)
        print(f"  ratio q_sample/add_noise {np.median(ours_q) / np.median(theirs_q):.2f}; "
              "results agree to 1e-4 (diffusers indexes t from 0)")
    except ImportError:
        print("  diffusers not installed (make bench installs it)")

    import torch

    print("  attention, m2d (numpy) vs torch.nn.functional.scaled_dot_product_attention:")
    for n in (64, 256, 1024, 2048):
        Q, K, V = (rng.standard_normal((n, 64)) for _ in range(3))
        ours_a = stopwatch(lambda i, q=Q, k=K, v=V: attention.scaled_dot_product_attention(q, k, v), 5)
        T = [torch.from_numpy(a) for a in (Q, K, V)]
        theirs_a = stopwatch(lambda i, t=T: torch.nn.functional.scaled_dot_product_attention(*t), 5)
        print(f"    n = {n:5d}: m2d {np.median(ours_a):8.2f} ms, torch {np.median(theirs_a):8.2f} ms, "
              f"ratio {np.median(ours_a) / np.median(theirs_a):5.2f}")


def bench_widgets() -> None:
    """Every widget of Parts I and chapter 4 (Part II's and III's explorers: their own scripts below)."""
    print("\n== widget callbacks (>= 50 updates each; target: picture <= 100 ms p95, sound <= 0.5 s) ==")
    from m2d import markov, pitch, players, soundfont
    from m2d.widgets import attention as attention_widgets
    from m2d.widgets import diffusion as diffusion_widgets
    from m2d.widgets import markov as markov_widgets
    from m2d.widgets import markov as wm

    with contextlib.redirect_stdout(io.StringIO()):  # outside Jupyter, the editor's player prints
        ed = wm.TransitionMatrixEditor(preset="Illiac-style")
    line("matrix editor: picture", stopwatch(lambda i: ed._draw(), 50))
    line("matrix editor: sound (SoundFont piano)", stopwatch(lambda i: players.play(
        soundfont.render_melody(pitch.pcs_to_midi(markov.sample_melody(ed.P, 32, rng=i)), 0.5,
                                tempo=132)), 50))
    with contextlib.redirect_stdout(io.StringIO()):
        whole = stopwatch(lambda i: setattr(ed.seed, "value", i + 1), 50)
    line("matrix editor: whole update (seed)", whole)
    ex = wm.PowerExplorer()
    line("P^n explorer: n (picture only)", stopwatch(lambda i: setattr(ex.n, "value", i % 40), 50))
    toy = markov_widgets.ToyChainExample()
    line("toy chain example: n (picture only)", stopwatch(lambda i: setattr(toy.n, "value", i % 30), 50))
    line("toy chain example: matrix edited", stopwatch(lambda i: setattr(
        toy.matrix, "value", f"0.5 0.5 0\n{(i + 1) / 100:g} {1 - (i + 1) / 100:g} 0\n0.2 0.3 0.5"), 50))
    att = attention_widgets.AttentionExample()
    line("attention example: temperature", stopwatch(lambda i: setattr(
        att.temperature, "value", 10 ** (-1 + 0.04 * (i % 50))), 50))
    line("attention example: K edited", stopwatch(lambda i: setattr(
        att.K, "value", f"1 0\n0 {1 + i / 50:g}\n1 1"), 50))
    px = diffusion_widgets.PixelDiffusionExample()
    line("pixel diffusion example: t", stopwatch(lambda i: setattr(px.t, "value", (37 * i + 11) % 1000), 50))
    line("pixel diffusion example: T (schedule)",
         stopwatch(lambda i: setattr(px.T, "value", 500 + 20 * i), 50))


def bench_training() -> None:
    """Training time (recorded when each model was trained, one core) next to the quality figure the
    chapter reports for it; models missing from the cache are trained now."""
    print("\n== training time to the chapters' quality figures (one core each) ==")
    from dataclasses import replace

    from m2d import corpus, ngram, spectro
    from m2d.models import ddpm, lstm, transformer
    from m2d.models import melody_lm as ml

    split = corpus.load_split("bach")
    chain = ngram.NGramModel(12, 3, alpha=0.1).fit(split["train"])
    print(f"  Part I Markov k = 3 (counting, no training): {chain.bits_per_note(split['test'], first=6):.3f} "
          "test bits/note")
    for name, module in (("Transformer", transformer), ("LSTM", lstm)):
        for rhythm in (True, False):
            cfg = replace(module.BOOK_CONFIG, rhythm=rhythm)
            model, hist = module.book_model(split, progress=False, cfg=cfg)
            label = f"Part II {name}{'' if rhythm else ', pitch only'}"
            print(f"  {label:34s} {hist['seconds']:6.1f} s -> {ml.bits_per_note(model, split['test']):.3f} "
                  "test bits/note")
    config = ddpm.DDPMConfig()
    unet, extra, key = ddpm.book_model(config, progress=False)
    elbo = ddpm.book_elbo(unet, spectro.load_patches("test"), config, key)
    print(f"  Part III U-Net, {extra['steps']} steps           {extra['seconds']:6.1f} s -> ELBO "
          f"{elbo['total']:.3f} bits/dim")


def main() -> None:
    if "--no-build" not in sys.argv:
        bench_build()
    bench_peers()
    bench_widgets()
    bench_training()
    for script in sorted(HERE.glob("*.py")):
        if script.name not in ("run.py",) and not script.name.startswith("_"):
            print(f"\n== {script.name} ==")
            runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
