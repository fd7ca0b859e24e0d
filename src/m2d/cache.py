"""Versioned on-disk cache for slow work (corpus extraction, model training).

A cached artefact lives at ``<cache_dir>/<name>-<key>.<suffix>`` where ``key`` hashes everything the
result depends on (library version, data selection, configuration). A missing file is built; a file
that fails to load (truncated, corrupt, written by an incompatible version) is rebuilt with a warning,
never a crash. Each file has a checksum beside it (``<file>.sha256``, written after the file): a file
whose bytes no longer match it (edited, half-copied, swapped) is rebuilt, and a ``check`` callable
given by the caller validates the loaded content's schema (keys, shapes, dtypes) before it is served.
Writes are atomic (temporary file + rename), so an interrupted build leaves no half file; temporary
files older than an hour (from a killed writer) and lock files nobody holds are removed.
Builds are serialised across processes by a lock file beside the artefact: when two chapters run at
once (``tools/execute_parallel.py``) and need the same model, one trains it and the other waits and
loads it.

Keys: :func:`cache_key` hashes JSON-able parts; :func:`fingerprint` hashes content (arrays, torch
models, melodies given as arrays) for the parts that are data. Arrays are stored with
:func:`cached_arrays` / :func:`cached_array` (``.npz`` / ``.npy``, never pickled), models with
:func:`m2d.models.common.load_or_train`.

Notebook: all chapters
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def cache_dir() -> Path:
    """Directory for cached artefacts: ``$M2D_CACHE_DIR`` or ``~/.cache/m2d`` (created on demand).

    Returns:
        path (Path): an existing directory
    """
    path = Path(os.environ.get("M2D_CACHE_DIR", Path.home() / ".cache" / "m2d"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key_default(obj: Any) -> Any:
    """JSON stand-in for a key part json cannot write: arrays, tensors and torch modules by their
    content (:func:`fingerprint`; ``str`` of a large array elides its middle, so two different
    arrays could share a key); anything else (numpy scalars, dataclasses, paths) by its ``str``."""
    if isinstance(obj, np.ndarray) or type(obj).__module__.startswith("torch"):
        return {"__content__": fingerprint(obj)}
    return str(obj)


def cache_key(*parts: Any) -> str:
    """Stable 16-hex-digit hash of ``parts`` (dict keys sorted): JSON values as they are, arrays,
    tensors and torch modules by their content (:func:`fingerprint`), other objects by ``str``.

    Args:
        *parts: JSON-able values, arrays, tensors, modules, or objects whose ``str`` identifies them
    Returns:
        key (str): hex digest prefix
    """
    blob = json.dumps(parts, sort_keys=True, default=_key_default).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cached(
    name: str,
    key: str,
    build: Callable[[], T],
    dump: Callable[[T, Path], None],
    load: Callable[[Path], T],
    suffix: str = "bin",
    check: Callable[[T], None] | None = None,
) -> T:
    """Return the artefact ``name``/``key`` from disk, building (and storing) it when needed.

    A stored file is served only if its bytes match the checksum written beside it and the loaded
    object passes ``check``; otherwise it is rebuilt (with a warning).

    Args:
        name (str): human-readable prefix of the file name
        key (str): version key, e.g. from :func:`cache_key`
        build (callable): computes the artefact
        dump (callable): ``dump(obj, path)`` writes it
        load (callable): ``load(path)`` reads it; any exception means "corrupt, rebuild"
        suffix (str): file extension
        check (callable or None): ``check(obj)`` raises if a loaded object is malformed (schema)
    Returns:
        obj: the loaded or freshly built artefact
    Raises:
        ValueError: a name or key that could leave the cache folder (see :func:`cache_path`)
    """
    path = cache_path(name, key, suffix)
    clean_stale()
    found = _try_load(path, load, check)
    if found is not None:
        return found[0]
    with _build_lock(path):
        found = _try_load(path, load, check)  # another process may have built it meanwhile
        if found is not None:
            return found[0]
        obj = build()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            dump(obj, Path(tmp))
            digest = sha256_of(Path(tmp))
            os.replace(tmp, path)
            _write_atomic(_sum_path(path), digest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return obj


def _sum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    """sha256 hex digest of a file (read in 1 MiB blocks): the cache's checksums and the shipped
    weights' manifests (:mod:`m2d.models.shipped`)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _try_load(path: Path, load: Callable[[Path], T],
              check: Callable[[T], None] | None = None) -> tuple[T] | None:
    """``(obj,)`` when ``path`` exists, matches its checksum, loads and passes ``check``; ``None``
    when missing or not servable (then deleted, so it is rebuilt). A file without a checksum (from
    before checksums) is served if it loads and passes ``check``, and its checksum is recorded."""
    if not path.exists():
        return None
    try:
        digest = sha256_of(path)
        sums = _sum_path(path)
        if sums.exists() and digest != sums.read_text().strip():
            raise ValueError("content does not match its checksum")
        obj = load(path)
        if check is not None:
            check(obj)
        if not sums.exists():  # written before checksums existed: adopted once it loads and checks
            _write_atomic(sums, digest)
        return (obj,)
    except Exception as exc:  # corrupt, malformed or incompatible: rebuild, never crash
        warnings.warn(f"cache file {path} not served ({exc!r}); rebuilding", stacklevel=3)
        path.unlink(missing_ok=True)
        _sum_path(path).unlink(missing_ok=True)
        return None


def stored(name: str, key: str, load: Callable[[Path], T], suffix: str = "bin",
           check: Callable[[T], None] | None = None) -> T | None:
    """The artefact ``name``/``key`` that :func:`cached` stored, or ``None`` when it is missing or
    not servable (checksum, ``load`` or ``check`` fails): for a reader that cannot build it.

    Raises:
        ValueError: a name or key that could leave the cache folder (see :func:`cache_path`)
    """
    found = _try_load(cache_path(name, key, suffix), load, check)
    return None if found is None else found[0]


#: Temporary files older than this (seconds) come from a killed writer and are removed.
STALE_SECONDS = 3600.0
_cleaned: set[str] = set()


def clean_stale(max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove what interrupted builds leave in the cache folder: ``*.tmp`` files older than
    ``max_age`` seconds and ``*.lock`` files no process holds. Runs once per process and folder
    (called by :func:`cached`); returns the removed paths.

    Notebook: all chapters
    """
    folder = cache_dir()
    if str(folder) in _cleaned:
        return []
    _cleaned.add(str(folder))
    removed = []
    now = time.time()
    for tmp in folder.glob("*.tmp"):
        try:
            if now - tmp.stat().st_mtime > max_age:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:
            pass
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return removed
    for lock in folder.glob("*.lock"):
        try:
            with open(lock, "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody builds behind it
                lock.unlink()
                fcntl.flock(fh, fcntl.LOCK_UN)
                removed.append(lock)
        except (BlockingIOError, FileNotFoundError):
            pass
    return removed


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


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def cache_path(name: str, key: str, suffix: str = "bin") -> Path:
    """Path of the artefact ``name``/``key`` (it may not exist yet), inside :func:`cache_dir`.

    Raises:
        ValueError: a name, key or suffix with path separators, ``..`` or other characters
            outside letters, digits and ``._+-`` (the file must not leave the cache folder)
    """
    for what, part in (("name", name), ("key", key), ("suffix", suffix)):
        if not isinstance(part, str) or not _SAFE_NAME.match(part) or ".." in part:
            raise ValueError(f"cache {what} {part!r} must be letters, digits and ._+- only "
                             "(no path separators or '..')")
    return cache_dir() / f"{name}-{key}.{suffix}"


def dump_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as JSON (helper for :func:`cached`)."""
    path.write_text(json.dumps(obj))


def load_json(path: Path) -> Any:
    """Read JSON (helper for :func:`cached`)."""
    return json.loads(path.read_text())


def fingerprint(*parts: Any) -> str:
    """Stable 16-hex-digit hash of the *content* of ``parts``: a cache-key part for data and models.

    numpy arrays and torch tensors contribute dtype, shape and bytes; a torch module its state dict
    (names, shapes, values), so anything computed from a trained model can be keyed by its weights
    whatever configuration produced them; lists, tuples and dicts are walked (dict keys sorted);
    strings, numbers and other JSON-able values contribute their JSON text.

    Notebook: all chapters
    Args:
        *parts: arrays, tensors, modules, containers of them, or JSON-able values
    Returns:
        key (str): hex digest prefix
    """
    h = hashlib.sha256()
    for p in parts:
        _feed(h, p)
    return h.hexdigest()[:16]


def _feed(h, obj: Any) -> None:
    if callable(getattr(obj, "state_dict", None)):  # a torch module (the book's own classes too)
        h.update(b"module(")
        for name, v in sorted(obj.state_dict().items()):
            h.update(name.encode())
            _feed(h, v)
        h.update(b")")
    elif isinstance(obj, np.ndarray) or type(obj).__module__.startswith("torch"):
        a = obj.detach().cpu().numpy() if hasattr(obj, "detach") else obj
        a = np.ascontiguousarray(a)
        h.update(f"array({a.dtype.str},{a.shape})".encode())
        h.update(a.tobytes())
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _feed(h, v)
        h.update(b"]")
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=str):
            h.update(json.dumps(str(k)).encode())
            _feed(h, obj[k])
        h.update(b"}")
    else:
        h.update(json.dumps(obj, sort_keys=True, default=str).encode())
        h.update(b";")


def cached_arrays(name: str, key_parts: Any, build: Callable[[], dict[str, Any]], version: int = 1,
                  check: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """A dict of numpy arrays and floats computed once by ``build`` and kept in the cache as an
    ``.npz`` (no pickles): e.g. samples together with the time it took to draw them. Timings loaded
    from the cache are those measured when the entry was built.

    Notebook: notebooks/03_diffusion.ipynb, notebooks/05_landscape.ipynb
    Args:
        name (str): cache-file prefix
        key_parts: everything the result depends on (JSON-able; use :func:`fingerprint` for data)
        build (callable): returns {name: np.ndarray or float}
        version (int): bump when the meaning of the result changes
        check (callable or None): raises on a loaded dict that is malformed (it is then rebuilt)
    Returns:
        result (dict): arrays as built; 0-d entries come back as float
    """
    key = cache_key(version, key_parts)

    def dump(obj: dict[str, Any], path: Path) -> None:
        with open(path, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in obj.items()})

    def load(path: Path) -> dict[str, Any]:
        with np.load(path, allow_pickle=False) as z:
            return {k: (float(z[k]) if z[k].ndim == 0 else z[k]) for k in z.files}

    out = cached(name, key, build, dump, load, suffix="npz", check=check)
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def cached_array(name: str, key_parts: Any, build: Callable[[], np.ndarray], version: int = 1,
                 check: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
    """One numpy array computed once by ``build`` and kept in the cache as an ``.npy`` (no pickles).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        name (str): cache-file prefix
        key_parts: everything the array depends on (JSON-able)
        build (callable): returns the array
        version (int): bump when the meaning of the result changes
        check (callable or None): raises on a loaded array of the wrong shape or dtype (rebuilt)
    Returns:
        array (np.ndarray)
    """
    def dump(arr: np.ndarray, path: Path) -> None:
        with open(path, "wb") as f:
            np.save(f, np.asarray(arr), allow_pickle=False)

    def load(path: Path) -> np.ndarray:
        return np.load(path, allow_pickle=False)

    return cached(name, cache_key(version, key_parts), build, dump, load, suffix="npy", check=check)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``(fn(), wall-clock seconds)``: how long one call took (the generation-time tables)."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def cached_timed(name: str, key_parts: Any, fn: Callable[[], np.ndarray], version: int = 1
                 ) -> tuple[np.ndarray, float]:
    """``(fn(), seconds)`` computed once and cached (:func:`cached_arrays`): a generated array
    together with the wall-clock time its computation took when the entry was built.

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        result (np.ndarray), seconds (float)
    """
    out = cached_arrays(name, key_parts, lambda: dict(zip(("result", "seconds"), timed(fn), strict=True)),
                        version=version)
    return out["result"], out["seconds"]
