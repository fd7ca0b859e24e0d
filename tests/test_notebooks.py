"""Every chapter executes without error, notebooks are committed without outputs, and their code
cells only call the library and plot (short cells that fit the page)."""

import json
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_all_chapters_exist_and_are_in_toc():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_markov", "02_attention", "03_diffusion", "04_examples", "05_landscape"]
    toc = (ROOT / "_toc.yml").read_text()
    for name in names:
        assert f"notebooks/{name}" in toc
    yaml.safe_load(toc)


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((ROOT / "zh" / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, \
                f"{path.name} has outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_installs_this_books_version(path):
    """Where m2d is missing (Colab), the first code cell installs the library at the book's own
    version tag (v + m2d.__version__, written in pyproject.toml), never the moving default branch,
    and the SoundFont player every chapter's sound needs."""
    import re

    import m2d

    nb = json.loads(path.read_text())
    setup = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    pins = re.findall(r'%pip install[^\n]*"m2d @ git\+[^"@]*@([^"]+)"', setup)
    assert pins == [f"v{m2d.__version__}"], f"{path.name}: m2d install pinned to {pins}"
    assert "--no-deps tinysoundfont==" in setup
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert version == m2d.__version__


#: Longest code cell (lines) and line (columns; wider lines are cut off in the HTML book).
MAX_CELL_LINES, MAX_COLUMNS = 15, 88


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_call_the_library_and_fit_the_page(path):
    nb = json.loads(path.read_text())
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        if len(lines) > MAX_CELL_LINES:
            problems.append(f"cell {i}: {len(lines)} lines")
        problems += [f"cell {i}: {len(x)} columns: {x.strip()[:40]}" for x in lines
                     if len(x) > MAX_COLUMNS]
        problems += [f"cell {i}: defines {x.strip()[:40]}" for x in lines
                     if x.lstrip().startswith(("def ", "class "))]
    assert not problems, f"{path.name}: logic belongs in src/m2d, cells must fit: {problems}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # every chapter shows at least one figure (catches a non-inline matplotlib backend)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} displayed no figure"
