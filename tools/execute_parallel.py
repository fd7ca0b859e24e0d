"""Execute the book's notebooks two at a time into the Jupyter cache that `jupyter-book build` reads.

`jupyter-book build` (myst-nb, ``execute_notebooks: cache``) runs notebooks one after another; on a
2-core machine a cold build then waits for Part III's training while the second core idles. This
script runs the same execution as myst-nb (``jupyter_cache``'s ``single_nb_execution`` in the
notebook's folder) in a pool of worker processes, longest chapter first, and stores each result in
``_build/.jupyter_cache`` exactly as myst-nb would; the book build then finds every notebook cached.
Chapters that need the same trained model do not train it twice: ``m2d.cache`` locks each artefact
while one process builds it. Each kernel uses one thread per worker, so two workers fill two cores
without oversubscribing them.

Usage: python tools/execute_parallel.py [--jobs N]      (N defaults to min(2, CPU count))
Exit status 1 when a notebook fails (its traceback is printed; nothing is cached for it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"
# Start order: longest first (cold, alone on the 2-core CI machine: Part III 290 s, Part II 145 s,
# chapter 5 90 s, Part I 46 s). Chapter 5 reuses Part III's model and samples, so it goes after
# Part I: it would otherwise sit waiting for Part III's lock while Part I waits for a free core.
ORDER = ["03_diffusion", "02_attention", "01_markov", "05_landscape", "04_examples"]


def toc_notebooks() -> list[Path]:
    """The ``.ipynb`` chapters listed in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def execute_config() -> dict:
    """``timeout`` and ``allow_errors`` from ``_config.yml``'s ``execute`` section (as myst-nb uses them)."""
    execute = yaml.safe_load((ROOT / "_config.yml").read_text()).get("execute", {})
    return {"timeout": execute.get("timeout", 30), "allow_errors": execute.get("allow_errors", False)}


#: Two kernels started at once can pick the same free TCP port (jupyter_client chooses ports by
#: binding and releasing them): the loser dies with "Address already in use" before it replies.
KERNEL_START_ATTEMPTS = 3


def _execute(path: str, threads: int | None, config: dict) -> tuple[str, object, float, str | None]:
    """Worker: execute one notebook in its folder; return (path, executed notebook, seconds, error).
    A kernel that dies before it starts (a port race between the two workers) is started again."""
    from jupyter_cache.executors.utils import single_nb_execution

    if threads is not None:  # inherited by the kernel process
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(threads)
    for attempt in range(KERNEL_START_ATTEMPTS):
        nb = nbformat.read(path, as_version=4)
        try:
            result = single_nb_execution(nb, cwd=str(Path(path).parent), meta_override=True, **config)
        except RuntimeError as exc:  # the kernel never started: retry, it is not the notebook's fault
            if "Kernel died before replying" not in str(exc) or attempt == KERNEL_START_ATTEMPTS - 1:
                raise
            print(f"execute_parallel: {Path(path).stem}: kernel did not start ({exc}); retrying",
                  file=sys.stderr, flush=True)
            time.sleep(1.0 + attempt)
            continue
        return path, nb, result.time, (result.exc_string if result.err is not None else None)
    raise AssertionError("unreachable")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def drop_unshown_widget_state(nb) -> bool:
    """Remove the notebook's saved ipywidgets state when no output shows a widget.

    Building a static counterpart creates a live widget in the kernel (its controls are never
    displayed in the HTML book), and the kernel saves the state of every widget it made; the page
    would embed it for nothing (chapter 1: 384 kB). Returns whether state was dropped.
    """
    shown = any(WIDGET_VIEW in out.get("data", {})
                for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []))
    if shown or "widgets" not in nb.metadata:
        return False
    del nb.metadata["widgets"]
    return True


def execute_into_cache(paths: list[Path], cache_dir: Path, jobs: int,
                       config: dict | None = None) -> list[str]:
    """Execute the notebooks among ``paths`` that ``cache_dir`` does not hold yet, ``jobs`` at a time
    (in ``ORDER``), and store each success there as myst-nb would. Returns the names that failed."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_dir))
    todo = []
    for path in paths:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    if not todo:
        print("execute_parallel: every notebook is cached")
        return []
    todo.sort(key=lambda p: ORDER.index(p.stem) if p.stem in ORDER else len(ORDER))
    threads = 1 if jobs > 1 else None
    names = ", ".join(p.stem for p in todo)
    print(f"execute_parallel: {len(todo)} notebooks, {jobs} at a time: {names}", flush=True)
    failed = []
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_execute, str(p.resolve()), threads, config or execute_config()) for p in todo]
        for fut in as_completed(futures):
            path, nb, seconds, error = fut.result()
            name = Path(path).stem
            if error is not None:
                failed.append(name)
                print(f"execute_parallel: {name} FAILED after {seconds:.0f} s\n{error}", file=sys.stderr,
                      flush=True)
                continue
            drop_unshown_widget_state(nb)
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(CacheBundleIn(nb, record.uri, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"execute_parallel: {name} executed in {seconds:.1f} s "
                  f"({time.perf_counter() - start:.0f} s since start)", flush=True)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    return 1 if execute_into_cache(toc_notebooks(), CACHE, args.jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
