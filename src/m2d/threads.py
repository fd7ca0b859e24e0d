"""Thread limits for small computations on a shared machine (the book builds two chapters at once on
two cores): competing BLAS or torch threads only slow small matrices down.

Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Context limiting numpy's BLAS to one thread (threadpoolctl), or doing nothing without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(n)`` (None: leave torch's setting), then restore it.

    Raises:
        ValueError: n < 1
    """
    if n is None:
        yield
        return
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive number of threads or None, got {n!r}")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)
