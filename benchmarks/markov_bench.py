"""Part I benchmark: the speed targets of the Markov library and of the matrix editor.

Prints figures (no pass/fail): sampling 10^6 notes, a 12x12 stationary distribution, a mixing time.
The matrix editor's latencies are measured with the other widgets in run.py.
Run: .venv/bin/python benchmarks/markov_bench.py
"""

from __future__ import annotations

from _timing import line as report  # noqa: E402  (benchmarks/ is on sys.path when run)
from _timing import stopwatch as timeit  # noqa: E402

from m2d import example_chains, markov


def main() -> None:
    P = example_chains.illiac_matrix()
    markov.sample_melody(P, 10, rng=0)  # compile the numba walk once
    report("sample_melody, 10^6 notes", timeit(lambda i: markov.sample_melody(P, 10**6, rng=i), 10))
    report("stationary_distribution, 12x12", timeit(lambda i: markov.stationary_distribution(P)))
    report("mixing_time, 12x12", timeit(lambda i: markov.mixing_time(P)))
    report("sample_melody, 128 notes (editor size)", timeit(lambda i: markov.sample_melody(P, 128, rng=i)))


if __name__ == "__main__":
    main()
