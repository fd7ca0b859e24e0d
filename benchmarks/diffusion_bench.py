"""Part III benchmark: the speed targets of the diffusion chapter. Prints figures (no pass/fail).

- noise-schedule explorer: picture and sound latency (p50/p95 over >= 50 updates each), t moves and
  schedule/T moves separately; targets: picture <= 100 ms p95, sound <= 0.5 s
- the sound path: fast inversion (pseudo-inverse + clean phase) against Griffin-Lim (32 iterations)
- U-Net training step (1 thread, batch 32) and the recorded training time of the chapter's model
- sampling: DDPM (1000 network evaluations) against DDIM with 100/50/20/10, 8 samples

Run: .venv/bin/python benchmarks/diffusion_bench.py   (add --no-train to skip loading/training the model)
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _timing import line as report  # noqa: E402  (benchmarks/ is on sys.path when run)
from _timing import stopwatch as timeit  # noqa: E402

from m2d import audio, corpus, spectro


def bench_widget() -> None:
    from m2d.widgets.diffusion import NoiseScheduleExplorer

    melodies = corpus.load_split("bach")["test"][:3]
    w = NoiseScheduleExplorer(melodies, seconds=3.0)
    pic, snd = [], []

    def move_t(i):
        w.t.value = (37 * i + 11) % 1000
        pic.append(w.timings["picture"])
        snd.append(w.timings["sound"])

    timeit(move_t, 60)
    report("explorer, t moves: picture", np.array(pic) * 1e3)
    report("explorer, t moves: sound (inversion + MP3)", np.array(snd) * 1e3)
    pic2, snd2 = [], []

    def move_schedule(i):
        if i % 2:
            w.schedule.value = "cosine" if w.schedule.value == "linear" else "linear"
        else:
            w.T.value = 1000 + (i % 7) * 50
        pic2.append(w.timings["picture"])
        snd2.append(w.timings["sound"])

    timeit(move_schedule, 50)
    report("explorer, schedule/T moves: picture (+ curves)", np.array(pic2) * 1e3)
    report("explorer, schedule/T moves: sound", np.array(snd2) * 1e3)
    report("explorer, whole update incl. widget sync",
           timeit(lambda i: setattr(w.t, "value", (53 * i) % 1000), 50))

    y, s_db = spectro.excerpt(melodies[0], seconds=3.0)
    power, phase = audio.db_to_power(s_db), spectro.stft_phase(y)
    report("3 s: fast inversion, clean phase", timeit(lambda i: spectro.fast_mel_to_audio(power, phase), 30))
    report("3 s: fast inversion, 4 Griffin-Lim iterations",
           timeit(lambda i: spectro.fast_mel_to_audio(power, n_iter=4, rng=i), 20))
    report("3 s: audio.mel_to_audio (NNLS + 32 Griffin-Lim)", timeit(lambda i: audio.mel_to_audio(power), 5))
    report("3 s: MP3 encoding (audio.encode_mp3)", timeit(lambda i: audio.encode_mp3(y), 20))


def bench_model() -> None:
    import torch

    from m2d.models import ddpm, sampling
    from m2d.models.unet import UNet
    from m2d.threads import torch_threads

    cfg = ddpm.BOOK_CONFIG
    net = UNet(cfg.unet)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    ab = torch.as_tensor(cfg.noise_schedule().alpha_bar.copy(), dtype=torch.float32)
    x = torch.randn(cfg.batch, 1, 64, 64)

    def step(i):
        t = torch.randint(1, cfg.T + 1, (cfg.batch,))
        loss = ddpm.l_simple(net, x, t, torch.randn_like(x), ab)
        opt.zero_grad()
        loss.backward()
        opt.step()

    with torch_threads(1):
        ms = timeit(step, 20)
    report("U-Net training step (1 thread, batch 32)", ms)
    print(f"  -> {cfg.steps} steps would take about {np.median(ms) * cfg.steps / 1e3:.0f} s now")
    if "--no-train" in sys.argv:
        return
    model, extra, key = ddpm.book_model(progress=False)
    print(f"  book model: {extra['steps']} steps recorded {extra['seconds']:.0f} s of training")
    betas = cfg.betas()
    n = 8
    with torch_threads(1):
        t = time.perf_counter()
        sampling.ddpm_sample(model, (n, 1, 64, 64), betas, rng=0)
        ddpm_s = time.perf_counter() - t
        print(f"  DDPM, 1000 steps, {n} samples: {ddpm_s:6.2f} s")
        for S in (100, 50, 20, 10):
            t = time.perf_counter()
            sampling.ddim_sample(model, (n, 1, 64, 64), betas, S, rng=0)
            s = time.perf_counter() - t
            print(f"  DDIM, {S:4d} steps, {n} samples: {s:6.2f} s  ({ddpm_s / s:5.1f}x faster)")


def bench_quality_curve() -> None:
    """Issue 13: quality against training minutes, as `make train` recorded it in the manifest
    (Frechet distance of 32 DDIM-50 samples to the held-out patches; ELBO on 64 held-out patches)."""
    from m2d.models import ddpm, shipped

    m = shipped.read_manifest(ddpm.BOOK_WEIGHTS)
    if m is None:
        print("no shipped manifest: run `make train`")
        return
    print(f"Part III U-Net ({m['command']}, commit {m['commit'][:10]}, {m['device']}, "
          f"{m['wall_seconds'] / 60:.0f} min, {m['bytes'] / 1e6:.1f} MB)")
    print("| step | training minutes | L_simple (last 100) | Frechet, DDIM-50 | ELBO bits/dim |")
    print("|---|---|---|---|---|")
    for c in m["curve"]:
        print(f"| {c['step']} | {c['minutes']:.1f} | {c['loss']:.4f} | {c['frechet_ddim']:.1f} | "
              f"{c['elbo_bits']:.3f} |")


def main() -> None:
    bench_widget()
    bench_quality_curve()
    bench_model()


if __name__ == "__main__":
    main()
