"""Trained weights that ship with the book, each with a manifest that says where it came from.

Some models need more training than a book build can afford (Part III's U-Net: about an hour on the
book's 2-core machine). ``make train`` trains them from scratch and writes, into ``src/m2d/weights/``,

- ``<name>.pt``: the state dict and the training record (loss per step, wall time), and
- ``<name>.json``: the manifest -- the configuration and its hash, the code commit, the command that
  reproduces the file, wall time, machine, device, the first and final losses, the quality curve
  measured while training, and the sha256 of the ``.pt`` file.

:func:`load` serves a shipped file only when the manifest's config hash equals the hash of the
configuration asked for (so an edited configuration falls back to training, never to stale
weights), the file's sha256 matches, the state dict fits the model and every weight is finite.
``tests/test_shipped.py`` retrains the first steps from scratch and compares the losses with the
manifest's: the weights provably come from this code.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from m2d import cache

#: Where shipped weights live (inside the package, so a pip install carries them).
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: Losses of the first steps recorded in the manifest (and re-checked by the tests).
N_FIRST_LOSSES = 5
#: Total size allowed for the shipped weights (issue 13: at most 20 MB).
MAX_TOTAL_BYTES = 20 * 2**20


def config_hash(key_parts: Any) -> str:
    """Hash of everything the weights depend on (the same content key as the model cache,
    :func:`m2d.cache.cache_key`): configuration, data selection, code version."""
    return cache.cache_key(key_parts)


def paths(name: str, directory: Path | None = None) -> tuple[Path, Path]:
    """(weights file, manifest file) of a shipped model.

    Raises:
        ValueError: a name that is not a plain file stem
    """
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"name must be letters, digits, '-' or '_', got {name!r}")
    d = Path(directory) if directory is not None else WEIGHTS_DIR
    return d / f"{name}.pt", d / f"{name}.json"


def read_manifest(name: str, directory: Path | None = None) -> dict | None:
    """The manifest of a shipped model, or None when there is none (or it is not valid JSON)."""
    _, mpath = paths(name, directory)
    try:
        m = json.loads(mpath.read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def why_not(name: str, key_parts: Any, directory: Path | None = None) -> str | None:
    """Why the shipped file cannot be served for ``key_parts`` (None: it can): no manifest, another
    configuration, a missing file or a checksum that does not match."""
    wpath, _ = paths(name, directory)
    m = read_manifest(name, directory)
    if m is None:
        return "no manifest"
    if m.get("config_hash") != config_hash(key_parts):
        return "the configuration changed since the weights were trained"
    if not wpath.exists():
        return f"{wpath.name} is missing"
    if cache.sha256_of(wpath) != m.get("sha256"):
        return f"{wpath.name} does not match its manifest's sha256"
    return None


def load(name: str, key_parts: Any, make_model: Callable[[], Any],
         directory: Path | None = None) -> tuple[Any, dict[str, Any], dict] | None:
    """A shipped model for ``key_parts``, or None (with the reason in ``status``) when the shipped
    file does not fit: then the caller trains, as it would without shipped weights.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        name (str): file stem in ``directory`` (default :data:`WEIGHTS_DIR`)
        key_parts: what the weights depend on (hashed with :func:`config_hash`)
        make_model (callable): builds the untrained module the state dict is loaded into
        directory (Path or None): where the files are
    Returns:
        (model in eval mode, training record, manifest), or None
    """
    import torch

    if why_not(name, key_parts, directory) is not None:
        return None
    wpath, _ = paths(name, directory)
    try:
        obj = torch.load(wpath, map_location="cpu", weights_only=True)
        model = make_model()
        model.load_state_dict(obj["state_dict"])
    except Exception:  # any unreadable or misfitting file: train instead
        return None
    if any(v.is_floating_point() and not bool(torch.isfinite(v).all())
           for v in obj["state_dict"].values()):
        return None
    model.eval()
    return model, obj.get("extra", {}), read_manifest(name, directory) or {}


def git_commit() -> str:
    """The repository's HEAD commit (with ``-dirty`` when files are modified), or ``unknown``."""
    root = Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def save(name: str, model: Any, extra: dict[str, Any], key_parts: Any, config: dict,
         command: str, directory: Path | None = None, commit: str | None = None) -> dict:
    """Write a trained model and its manifest (see the module docstring for the fields).

    ``commit`` is the code's commit when training started (default: :func:`git_commit` now).

    Returns:
        manifest (dict)
    Raises:
        ValueError: a training record without losses
    """
    import torch

    losses = [float(x) for x in extra.get("loss", [])]
    if not losses:
        raise ValueError("extra must hold the training losses ('loss')")
    wpath, mpath = paths(name, directory)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "extra": extra}, wpath)
    manifest = {
        "name": name,
        "config": config,
        "config_hash": config_hash(key_parts),
        "key_parts": key_parts,
        "commit": commit or git_commit(),
        "command": command,
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "wall_seconds": float(extra.get("seconds", 0.0)),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "processor": platform.processor() or platform.machine()},
        "device": extra.get("device", "cpu"),
        "torch": torch.__version__,
        "steps": len(losses),
        "first_losses": losses[:N_FIRST_LOSSES],
        "final_loss": float(sum(losses[-100:]) / len(losses[-100:])),
        "curve": extra.get("curve", []),
        "bytes": wpath.stat().st_size,
        "sha256": cache.sha256_of(wpath),
    }
    mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
    return manifest


def shipped_names(directory: Path | None = None) -> list[str]:
    """Stems of every shipped weights file."""
    d = Path(directory) if directory is not None else WEIGHTS_DIR
    return sorted(p.stem for p in d.glob("*.pt"))


def describe(extra: dict[str, Any]) -> str:
    """One line on where a model's weights came from, from the record :func:`load` returns (or a
    training record with ``source`` set by the caller): shipped with a manifest, or trained here.

    Notebook: notebooks/03_diffusion.ipynb
    """
    steps, minutes = extra.get("steps", "?"), float(extra.get("seconds", 0.0)) / 60
    line = f"{extra.get('source', 'trained here')}: {steps} steps took {minutes:.0f} min"
    m = extra.get("manifest") or {}
    if m:
        line += (f" on {m['machine']['cpus']} CPUs ({m['device']}), commit {m['commit'][:10]},"
                 f" reproduce with `{m['command']}`")
    return line
