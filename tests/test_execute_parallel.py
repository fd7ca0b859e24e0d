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
