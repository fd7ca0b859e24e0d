"""Widgets with melodies (issue 12): update latency including the engraved score, and what the scores
add to the pages.

Prints figures (no pass/fail):
- the transition-matrix editor (chapter 1): p50/p95 over >= 50 updates of the time from a control
  change until the picture, the picture + score, the sound and the save links are ready; at the
  chapter's 32 notes and at the slider's maximum of 128;
- the attention explorer (chapter 2): the same after a melody change (the score is redone only then),
  over >= 50 changes through the test split, and for typed melodies (music21 analyses their key);
- one score alone: the widgets' path (music21 score, MusicXML without a second makeNotation, a kept
  Verovio toolkit) against `notation.engrave` (a fresh toolkit per call), as a ratio;
- the static counterparts' HTML with and without their scores and files (the page-weight budget).
Each case also prints the CPU time of picture + score: on this shared 2-core machine the wall times
include waiting for a core. Targets (issue 12): picture + score p95 <= 150 ms, sound <= 0.5 s, pages
<= 4 MB. `run.py` runs this script with the others.
The explorer runs the book's Transformer architecture with untrained weights: latency does not depend
on the weights, and no model has to be trained for this script.
Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/widget_bench.py
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import time

import numpy as np
from _timing import line, stopwatch  # noqa: E402  (benchmarks/ is on sys.path when run)

STEPS = ("picture", "score", "sound", "files")
LABELS = {"picture": "picture", "score": "picture + score", "sound": "... + sound",
          "files": "... + save links"}


def report(name: str, timings: list[dict[str, float]]) -> None:
    """p50/p95 of each milestone (ms from the control change), the sound step alone, and the CPU
    time of the picture and the score."""
    print(f"  {name} (n = {len(timings)}):")
    for step in STEPS:
        line(f"    {LABELS[step]}", np.array([t[step] for t in timings]) * 1e3)
    line("    sound step alone (synthesis, MP3, player)",
         np.array([t["sound"] - t["score"] for t in timings]) * 1e3)
    line("    CPU time of picture + score", np.array([t["cpu"] for t in timings]) * 1e3)


class CPU:
    """Process CPU time spent in a widget's picture (``steps``: its drawing, and the explorer's
    forward pass) and score (``score.show``) during one update: what the update costs on a core of
    its own (the wall times also wait for a core shared with other work)."""

    def __init__(self, widget, steps=("_draw",)):
        self.seconds = 0.0
        for owner, name in [(widget, step) for step in steps] + [(widget.score, "show")]:
            setattr(owner, name, self._timed(getattr(owner, name)))

    def _timed(self, fn):
        def run(*args, **kwargs):
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - t
        return run

    def take(self) -> float:
        out, self.seconds = self.seconds, 0.0
        return out


def quiet(update, cpu: CPU, n: int = 60) -> list[dict[str, float]]:
    """``update(i)`` for i < n, each giving the widget's ``last_timing`` (plus the CPU time of its
    picture and score); outside Jupyter the audio players print themselves, which is silenced."""
    out = []
    cpu.take()
    with contextlib.redirect_stdout(io.StringIO()):
        for i in range(n):
            out.append({**update(i), "cpu": cpu.take()})
    return out


def bench_editor() -> None:
    from m2d.widgets import markov as wm

    print("== transition-matrix editor (chapter 1): every update a new melody ==")
    with contextlib.redirect_stdout(io.StringIO()):
        ed = wm.TransitionMatrixEditor(preset="Bach-fitted", seed=7, length=32)
    cpu = CPU(ed)

    def seed(i: int) -> dict[str, float]:
        ed.seed.value = 1000 + i
        return ed.last_timing

    def cell(i: int) -> dict[str, float]:  # a typed number in row C
        ed.cells[0][7].value = f"{0.2 + 0.01 * i:g}"
        return ed.last_timing

    report("seed changes, 32 eighth notes (the chapter's length)", quiet(seed, cpu))
    quiet(lambda i: setattr(ed.length, "value", 128) or {}, cpu, 1)
    report("seed changes, 128 eighth notes (the slider's maximum)", quiet(seed, cpu))
    quiet(lambda i: setattr(ed.length, "value", 32) or {}, cpu, 1)
    report("cell edits, 32 notes", quiet(cell, cpu))


def bench_explorer() -> None:
    import torch

    from m2d import corpus, ngram
    from m2d.models.transformer import BOOK_CONFIG, MusicTransformer
    from m2d.widgets.attention import AttentionExplorer

    print("== attention explorer (chapter 2), book architecture ==")
    torch.manual_seed(0)
    model = MusicTransformer(BOOK_CONFIG).eval()
    split = corpus.load_split("bach")
    test = split["test"]
    P = ngram.fit_transition_matrix(split["train"], smoothing=0.1)
    with contextlib.redirect_stdout(io.StringIO()):
        ex = AttentionExplorer(model, test, P)
    ex.score.keep = 1  # every melody engraved afresh (no kept scores)
    cpu = CPU(ex, ("compute", "_draw"))
    lengths = [len(m) for m in test]
    print(f"  {len(test)} test melodies, {min(lengths)}-{max(lengths)} notes (median "
          f"{int(np.median(lengths))})")

    def melody(i: int) -> dict[str, float]:
        ex.melody.value = (i + 1) % len(test)
        return ex.last_timing

    rng = np.random.default_rng(0)
    names = ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5", "Eb4", "F#4", "Bb3"]

    def typed(i: int) -> dict[str, float]:
        ex.text.value = " ".join(rng.choice(names, size=16))
        return ex.last_timing

    def head_query(i: int) -> dict[str, float]:  # one change per update
        if i % 2:
            ex.head.value = (ex.head.value + 1) % model.cfg.n_heads
        else:
            ex.query.value = 1 + (7 * i) % ex.query.max
        return ex.last_timing

    report("melody changes (new forward pass, axes re-laid out, new score)", quiet(melody, cpu))
    quiet(lambda i: setattr(ex.source, "value", "typed") or {}, cpu, 1)
    report("typed 16-note melodies (key analysed by music21)", quiet(typed, cpu))
    report("head / query changes (the same melody: no new score)", quiet(head_query, cpu))


def bench_score() -> None:
    from m2d import corpus, notation, pitch
    from m2d.widgets._common import ScoreView

    print("== one score: widget path vs notation.engrave (ratio < 1: widget path faster) ==")
    rng = np.random.default_rng(0)
    chorale = corpus.load_split("bach")["test"][0]
    cases = {"32 eighths": lambda i: (pitch.pcs_to_midi(rng.integers(0, 12, 32)), 0.5),
             "128 eighths": lambda i: (pitch.pcs_to_midi(rng.integers(0, 12, 128)), 0.5),
             f"chorale melody ({len(chorale)} notes)": lambda i: (chorale.pitches + i % 5,
                                                                   chorale.durations)}
    for name, make in cases.items():
        view = ScoreView(keep=1)
        melodies = [make(i) for i in range(30)]
        ours = stopwatch(lambda i, ms=melodies, v=view: v.show(*ms[i], key="C"), 30)
        theirs = stopwatch(lambda i, ms=melodies: notation.engrave(notation.melody_score(
            ms[i][0], ms[i][1], key="C")), 30)
        line(f"  {name}: widget path", ours)
        line(f"  {name}: melody_score + notation.engrave", theirs)
        print(f"    ratio {np.median(ours) / np.median(theirs):.2f}")


def bench_pages() -> None:
    import torch

    from m2d import corpus, ngram, static
    from m2d.models.transformer import BOOK_CONFIG, MusicTransformer
    from m2d.widgets import attention as wa
    from m2d.widgets import markov as wm

    print("== static counterparts: HTML with and without the scores and files ==")
    original, grabbed = static.frame_player, {}

    def grab(params, frames, title="", sliders=()):
        grabbed["args"] = (params, frames, title, sliders)
        return original(params, frames, title, sliders)

    static.frame_player = grab
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            chapter1 = wm.editor_static().data
        sizes = [("editor_static() (ch. 1)", chapter1, grabbed.pop("args"))]
        split = corpus.load_split("bach")
        torch.manual_seed(0)
        model = MusicTransformer(BOOK_CONFIG).eval()
        P = ngram.fit_transition_matrix(split["train"], order=1, smoothing=0.1)
        demo = next(m for m in split["test"]
                    if 4 <= np.sum(m.pitch_classes[6:40] == 7) and len(m) >= 40)  # the chapter's
        index = [m.id for m in split["test"]].index(demo.id)
        chapter2 = wa.explorer_static(model, split["test"], P, melody_index=index, query=24).data
        sizes.append(("explorer_static(...) (ch. 2)", chapter2, grabbed.pop("args")))
    finally:
        static.frame_player = original
    for name, page, (params, frames, title, sliders) in sizes:
        bare = {k: dataclasses.replace(f, score=None) for k, f in frames.items()}
        no_files = {k: dataclasses.replace(f, score=static.Score(f.score.svg)) for k, f in frames.items()}
        without = len(static.frame_player_html(params, bare, title, sliders))
        scores = len(static.frame_player_html(params, no_files, title, sliders))
        raw = sum(len(f.score.svg) for f in frames.values())
        print(f"  {name}: {len(frames)} frames, {len(page) / 1e3:.0f} kB with scores and files, "
              f"{without / 1e3:.0f} kB without: +{(scores - without) / 1e3:.1f} kB scores, "
              f"+{(len(page) - scores) / 1e3:.1f} kB files (the frames' SVGs as engraved: "
              f"{raw / 1e3:.0f} kB)")


def main() -> None:
    import torch

    torch.set_num_threads(1)
    bench_editor()
    bench_explorer()
    bench_score()
    bench_pages()


if __name__ == "__main__":
    main()
