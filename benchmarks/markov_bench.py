"""Part I benchmark: the speed targets of the Markov library and of the matrix editor.

Prints figures (no pass/fail): sampling 10^6 notes, a 12x12 stationary distribution, a mixing time,
and the editor's update latency over 50 updates (p50/p95), picture and sound separately.
Run: .venv/bin/python benchmarks/markov_bench.py
"""

from __future__ import annotations

from _timing import line as report  # noqa: E402  (benchmarks/ is on sys.path when run)
from _timing import stopwatch as timeit  # noqa: E402

from m2d import audio, markov
from m2d.widgets import markov as wm


def main() -> None:
    P = markov.illiac_matrix()
    markov.sample_melody(P, 10, rng=0)  # compile the numba walk once
    report("sample_melody, 10^6 notes", timeit(lambda i: markov.sample_melody(P, 10**6, rng=i), 10))
    report("stationary_distribution, 12x12", timeit(lambda i: markov.stationary_distribution(P)))
    report("mixing_time, 12x12", timeit(lambda i: markov.mixing_time(P)))
    report("sample_melody, 128 notes (editor size)", timeit(lambda i: markov.sample_melody(P, 128, rng=i)))

    ed = wm.TransitionMatrixEditor(preset="Illiac-style")
    pcs = markov.sample_melody(P, 32, rng=0)
    midi = markov.pcs_to_midi(pcs)
    report("editor: sound (synthesize 32 notes)", timeit(lambda i: audio.synthesize(midi, 0.5, tempo=132)))
    report("editor: picture (redraw + PNG)", timeit(lambda i: ed._draw()))
    report("editor: full update (seed change)", timeit(lambda i: setattr(ed.seed, "value", i + 1)))


if __name__ == "__main__":
    main()
