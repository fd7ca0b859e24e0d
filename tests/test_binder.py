"""Binder, replayed the way repo2docker builds it, so a broken set-up fails CI and not a reader:
from the repository's root, a fresh virtual environment, ``pip install -r binder/requirements.txt``,
then ``binder/postBuild``, then one chapter executed by that environment's ``jupyter``.

The only liberty taken: the ``--extra-index-url`` line of the PyTorch CPU index is dropped (that
host is not reachable from the build machines; the pinned CPU torch wheel comes from the package
registry here). Slow (a full install and a run of every chapter): part of ``make test``, never of a
quick ``pytest -k``. Models come from the shared ``M2D_CACHE_DIR`` when the book was built first.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(".venv", "_build", "node_modules", "_vendor", ".git", "__pycache__",
                                "*.egg-info", ".pytest_cache", ".ruff_cache", ".hypothesis")


def _run(cmd, cwd, env, timeout):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n"
                                 f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


@pytest.mark.skipif(os.environ.get("M2D_SKIP_BINDER") == "1", reason="M2D_SKIP_BINDER=1")
def test_binder_builds_and_runs_a_chapter(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=IGNORE)
    reqs = (repo / "binder" / "requirements.txt").read_text().splitlines()
    (repo / "binder" / "requirements.txt").write_text(
        "\n".join(line for line in reqs if not line.startswith("--extra-index-url")) + "\n")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    _run([sys.executable, "-m", "venv", str(venv)], repo, env, 300)
    # repo2docker: pip install -r binder/requirements.txt, from the repository root
    _run([venv / "bin" / "pip", "install", "--quiet", "-r", "binder/requirements.txt"], repo, env,
         1800)
    shown = _run([venv / "bin" / "python", "-c", "import m2d, os; print(os.path.dirname(m2d.__file__))"],
                 tmp_path, env, 120).stdout.strip()
    assert Path(shown).resolve() == (repo / "src" / "m2d").resolve(), "m2d is not the repository's"
    _run(["bash", "binder/postBuild"], repo, env, 3600)
    assert not (repo / "_build").exists(), "postBuild leaves no build behind in the image"
    # a reader opens a chapter: that environment's jupyter runs it top to bottom
    _run([venv / "bin" / "jupyter", "execute", "--output=executed", "notebooks/04_examples.ipynb"],
         repo, env, 1800)
    assert (repo / "notebooks" / "executed.ipynb").stat().st_size > 10_000
