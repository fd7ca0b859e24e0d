"""Timing helpers shared by the benchmark scripts (run them from the repo root)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def stopwatch(fn: Callable[[int], object], repeat: int = 50) -> np.ndarray:
    """Wall time of ``fn(i)`` for i = 0..repeat-1, in milliseconds."""
    out = np.empty(repeat)
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        out[i] = time.perf_counter() - t
    return out * 1e3


def line(name: str, ms: np.ndarray) -> None:
    """Print p50 and p95 of a timing sample."""
    print(f"  {name:46s} p50 {np.percentile(ms, 50):9.3f} ms   p95 {np.percentile(ms, 95):9.3f} ms")
