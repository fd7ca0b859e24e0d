"""tools/execute_parallel.py: what it stores must be what jupyter-book's myst-nb looks up, or every
`make book` would execute each chapter twice; a failing notebook is reported and not cached."""

import importlib
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    """The script as a module (importable by name: its worker function is pickled to the pool)."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    return importlib.import_module("execute_parallel")


def test_every_toc_chapter_is_scheduled():
    tool = _tool()
    names = [p.stem for p in tool.toc_notebooks()]
    assert names == sorted(names) and len(names) >= 5  # the chapters, in book order
    assert set(names) <= set(tool.ORDER), "a chapter missing from ORDER would be started last"
    assert tool.execute_config()["timeout"] >= 600


def test_results_are_found_by_myst_nb_and_failures_are_not_cached(tmp_path):
    from jupyter_cache import get_cache

    tool = _tool()
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    for path, code in ((good, "x = 6 * 7\nprint(x)"), (bad, "raise ValueError('boom')")):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell(code)]
        nbformat.write(nb, path)
    cache_dir = tmp_path / "cache"
    config = {"timeout": 120, "allow_errors": False}
    failed = tool.execute_into_cache([good, bad], cache_dir, jobs=2, config=config)
    assert failed == ["bad"]
    cache = get_cache(str(cache_dir))
    # myst-nb's cache mode: match_cache_notebook on the notebook as read from disk, then merge outputs
    record = cache.match_cache_notebook(nbformat.read(good, as_version=4))
    _, merged = cache.merge_match_into_notebook(nbformat.read(good, as_version=4))
    assert record.data["execution_seconds"] > 0
    assert merged.cells[1].outputs[0]["text"].strip() == "42"
    with pytest.raises(KeyError):  # a failed notebook is not cached
        cache.match_cache_notebook(nbformat.read(bad, as_version=4))
    assert tool.execute_into_cache([good], cache_dir, jobs=1, config=config) == []  # cached: nothing to run


def test_widget_state_is_kept_only_when_a_widget_is_shown():
    tool = _tool()
    state = {"application/vnd.jupyter.widget-state+json": {"state": {"m": {}}}}
    hidden = nbformat.v4.new_notebook(metadata={"widgets": state})
    hidden.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": "<b>frames</b>"})])]
    assert tool.drop_unshown_widget_state(hidden) and "widgets" not in hidden.metadata
    shown = nbformat.v4.new_notebook(metadata={"widgets": state})
    shown.cells = [nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output(
        "display_data", data={tool.WIDGET_VIEW: {"model_id": "m"}, "text/plain": "W"})])]
    assert not tool.drop_unshown_widget_state(shown) and shown.metadata["widgets"] == state


def test_a_kernel_that_dies_at_start_is_started_again(tmp_path, monkeypatch):
    """The port race between two kernels started at once kills one before kernel_info: the worker
    starts it again instead of failing the build; a notebook's own error is not retried."""
    from jupyter_cache.executors import utils

    tool = _tool()
    path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1")]
    nbformat.write(nb, path)
    calls = []

    class Result:
        time, err, exc_string = 0.5, None, None

    def flaky(nb, **kwargs):
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return Result()

    monkeypatch.setattr(utils, "single_nb_execution", flaky)
    monkeypatch.setattr(tool.time, "sleep", lambda s: None)
    _, _, seconds, error = tool._execute(str(path), None, {"timeout": 10})
    assert len(calls) == 3 and seconds == 0.5 and error is None

    def broken(nb, **kwargs):
        calls.append(1)
        raise RuntimeError("something else")

    monkeypatch.setattr(utils, "single_nb_execution", broken)
    calls.clear()
    with pytest.raises(RuntimeError, match="something else"):
        tool._execute(str(path), None, {"timeout": 10})
    assert len(calls) == 1
