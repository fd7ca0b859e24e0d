"""Part II benchmark: Limit 2 (attention's quadratic cost) and the attention explorer's latency.

Prints figures (no pass/fail):
- time and peak memory of one scaled dot-product attention (m2d, numpy) for n = 64 ... 4096, with the
  fitted log-log slopes (Limit 2 predicts 2 for memory, and 2 for time once the n^2 terms dominate);
- forward time of the chapter's Music Transformer against melody length;
- the attention explorer: p50/p95 over >= 60 updates of the picture (layer, head, query, temperature,
  causal), of a melody change, and of the sound (synthesis + the embedded player), separately.
Uses the cached trained Transformer (trains it first, about a minute, when the cache is empty).
Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/attention_scaling.py
"""

from __future__ import annotations

import time

import numpy as np


def pct(ms: np.ndarray) -> str:
    return f"p50 {np.percentile(ms, 50):8.2f} ms   p95 {np.percentile(ms, 95):8.2f} ms   (n={ms.size})"


def bench_scaling() -> None:
    from m2d import attention

    print("== Limit 2: one attention, numpy, d_k = 64 ==")
    ns = 2 ** np.arange(6, 13)
    c = attention.attention_cost(ns, d_k=64, reps=3, rng=0)
    for n, s, b in zip(c["n"], c["seconds"], c["peak_bytes"], strict=True):
        print(f"  n = {n:5d}: {s * 1e3:9.2f} ms   peak {b / 2**20:9.2f} MiB")
    big = c["n"] >= 256
    print(f"  log-log slope: time {attention.loglog_slope(c['n'][big], c['seconds'][big]):.2f} (n >= 256), "
          f"{attention.loglog_slope(c['n'], c['seconds']):.2f} (all n); "
          f"memory {attention.loglog_slope(c['n'], c['peak_bytes']):.2f}")


def bench_model(model) -> None:
    import torch

    from m2d.models import melody_lm as ml

    print("== Music Transformer forward (book config), one melody ==")
    rng = np.random.default_rng(0)
    for n in (32, 64, 128, 256, 511):
        b = ml.collate([ml.encode((rng.integers(0, 12, n), np.ones(n)))])
        with torch.no_grad():
            model(b["tokens"], b["durs"], b["onsets"])
            ts = []
            for _ in range(10):
                t = time.perf_counter()
                model(b["tokens"], b["durs"], b["onsets"])
                ts.append(time.perf_counter() - t)
        print(f"  n = {n:4d}: {np.median(ts) * 1e3:8.2f} ms")


def bench_widget(model, split) -> None:
    from m2d import audio, ngram, players
    from m2d.widgets.attention import AttentionExplorer

    print("== attention explorer ==")
    P = ngram.fit_transition_matrix(split["train"], smoothing=0.1)
    ex = AttentionExplorer(model, split["test"], P, sound=False)
    lengths = [len(m) for m in split["test"]]
    typical = int(np.argsort(lengths)[len(lengths) // 2])
    ex.melody.value = typical
    print(f"  melody {typical}: {lengths[typical]} notes (median length of the test split)")
    rng = np.random.default_rng(0)
    ex.timings.clear()
    L, H = model.cfg.n_layers, model.cfg.n_heads
    for i in range(80):
        k = i % 5
        if k == 0:
            ex.layer.value = int((ex.layer.value + 1) % L)
        elif k == 1:
            ex.head.value = int((ex.head.value + 1) % H)
        elif k == 2:
            ex.query.value = int(rng.integers(1, ex.query.max + 1))
        elif k == 3:
            ex.temperature.value = float(2.0 ** rng.integers(-2, 3))
        else:
            ex.causal.value = not ex.causal.value
    print(f"  picture (layer/head/query/temperature/causal): {pct(np.array(ex.timings) * 1e3)}")
    ex.timings.clear()
    for i in range(20):
        ex.melody.value = int(i % len(split["test"]))
    print("  picture after a melody change (new forward pass, axes rebuilt): "
          f"{pct(np.array(ex.timings) * 1e3)}")
    m = split["test"][typical]
    ts_syn, ts_play = [], []
    for _ in range(20):
        t = time.perf_counter()
        y = audio.synthesize(m.pitches, m.durations, tempo=100)
        ts_syn.append(time.perf_counter() - t)
        t = time.perf_counter()
        players.play(y)
        ts_play.append(time.perf_counter() - t)
    print(f"  sound: synthesize the melody: {pct(np.array(ts_syn) * 1e3)}")
    print(f"  sound: embed it in a player (players.play): {pct(np.array(ts_play) * 1e3)}")


def main() -> None:
    import torch

    from m2d import corpus
    from m2d.models import transformer

    torch.set_num_threads(1)
    bench_scaling()
    split = corpus.load_split("bach")
    model, _ = transformer.book_model(split, progress=False)
    bench_model(model)
    bench_widget(model, split)


if __name__ == "__main__":
    main()
