"""Versioned on-disk cache for slow work (corpus extraction, model training).

A cached artefact lives at ``<cache_dir>/<name>-<key>.<suffix>`` where ``key`` hashes everything the
result depends on (library version, data selection, configuration). A missing file is built; a file
that fails to load (truncated, corrupt, written by an incompatible version) is rebuilt with a warning,
never a crash. Writes are atomic (temporary file + rename), so an interrupted build leaves no half file.
Builds are serialised across processes by a lock file beside the artefact: when two chapters run at
once (``tools/execute_parallel.py``) and need the same model, one trains it and the other waits and
loads it.

Notebook: all chapters
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def cache_dir() -> Path:
    """Directory for cached artefacts: ``$M2D_CACHE_DIR`` or ``~/.cache/m2d`` (created on demand).

    Returns:
        path (Path): an existing directory
    """
    path = Path(os.environ.get("M2D_CACHE_DIR", Path.home() / ".cache" / "m2d"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(*parts: Any) -> str:
    """Stable 16-hex-digit hash of JSON-serialisable ``parts`` (dict keys sorted).

    Args:
        *parts: anything ``json.dumps`` accepts (non-JSON objects are turned into ``str``)
    Returns:
        key (str): hex digest prefix
    """
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cached(
    name: str,
    key: str,
    build: Callable[[], T],
    dump: Callable[[T, Path], None],
    load: Callable[[Path], T],
    suffix: str = "bin",
) -> T:
    """Return the artefact ``name``/``key`` from disk, building (and storing) it when needed.

    Args:
        name (str): human-readable prefix of the file name
        key (str): version key, e.g. from :func:`cache_key`
        build (callable): computes the artefact
        dump (callable): ``dump(obj, path)`` writes it
        load (callable): ``load(path)`` reads it; any exception means "corrupt, rebuild"
        suffix (str): file extension
    Returns:
        obj: the loaded or freshly built artefact
    """
    path = cache_path(name, key, suffix)
    found = _try_load(path, load)
    if found is not None:
        return found[0]
    with _build_lock(path):
        found = _try_load(path, load)  # another process may have built it while this one waited
        if found is not None:
            return found[0]
        obj = build()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            dump(obj, Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return obj


def _try_load(path: Path, load: Callable[[Path], T]) -> tuple[T] | None:
    """``(obj,)`` when ``path`` exists and loads; ``None`` when missing or unreadable (then deleted)."""
    if not path.exists():
        return None
    try:
        return (load(path),)
    except Exception as exc:  # corrupt or incompatible cache: rebuild, never crash
        warnings.warn(f"cache file {path} unreadable ({exc!r}); rebuilding", stacklevel=3)
        path.unlink(missing_ok=True)
        return None


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock on ``<path>.lock`` while the artefact is built (POSIX ``flock``;
    elsewhere no lock, so concurrent builds may duplicate work but never corrupt: writes are atomic)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(f"{path}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cache_path(name: str, key: str, suffix: str = "bin") -> Path:
    """Path of the artefact ``name``/``key`` (it may not exist yet)."""
    return cache_dir() / f"{name}-{key}.{suffix}"


def dump_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as JSON (helper for :func:`cached`)."""
    path.write_text(json.dumps(obj))


def load_json(path: Path) -> Any:
    """Read JSON (helper for :func:`cached`)."""
    return json.loads(path.read_text())
