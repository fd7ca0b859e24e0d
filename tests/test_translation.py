"""The Chinese edition cannot silently fall behind (issue 17): every English page has its zh/
counterpart, every piece of it (a notebook's markdown cell, a Markdown page's section) records the
hash of the English text it translates and carries the same directives, labels, cross-references,
math and heading levels, and code cells are identical. The check is shown to fail when an English
section is edited after its translation (on a copy of the sources).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import translation  # noqa: E402


def test_the_chinese_edition_is_in_step_with_the_english_one():
    problems = translation.check()
    assert not problems, f"{len(problems)} problem(s); update these pieces:\n" + "\n".join(problems[:40])


def test_the_chinese_table_of_contents_mirrors_the_english_one():
    en = yaml.safe_load((ROOT / "_toc.yml").read_text())
    zh = yaml.safe_load((ROOT / "zh" / "_toc.yml").read_text())
    assert zh["root"] == en["root"]
    assert [[c["file"] for c in p["chapters"]] for p in zh["parts"]] == \
        [[c["file"] for c in p["chapters"]] for p in en["parts"]]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p["caption"]) for p in zh["parts"])


@pytest.fixture
def copy_of_the_sources(tmp_path, monkeypatch):
    for name in ("book", "notebooks", "zh"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    monkeypatch.setattr(translation, "ROOT", tmp_path)
    return tmp_path


def _translated(root: Path, page: str) -> None:
    """Give every piece of one page a recorded translation (the English text itself stands in)."""
    en = root / page
    if en.suffix == ".ipynb":
        cells = json.loads(en.read_text())["cells"]
        mapping = {c["id"]: "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"}
    else:
        mapping = {str(i): body for i, (_, body) in enumerate(translation.md_sections(en.read_text()))}
    translation.apply(root / "zh" / page, mapping)


def _problems_of(page: str) -> list[str]:
    return [p for p in translation.check(translation.ROOT) if p.startswith(page)]


def test_editing_an_english_cell_after_its_translation_is_reported(copy_of_the_sources):
    root, page = copy_of_the_sources, "notebooks/04_examples.ipynb"
    _translated(root, page)
    assert _problems_of(page) == []
    nb = json.loads((root / page).read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and "## " in "".join(c["source"]))
    cell["source"] = ["".join(cell["source"]) + "\nOne more English sentence.\n"]
    (root / page).write_text(json.dumps(nb))
    found = _problems_of(page)
    assert len(found) == 1 and cell["id"] in found[0] and "changed in English" in found[0]
    translation.stamp(root / "zh" / page, [cell["id"]])  # the translator updated it
    assert _problems_of(page) == []


def test_editing_an_english_section_or_its_math_is_reported(copy_of_the_sources):
    root, page = copy_of_the_sources, "book/intro.md"
    _translated(root, page)
    assert _problems_of(page) == []
    text = (root / page).read_text()
    (root / page).write_text(text.replace("## How to read and run this book\n",
                                          "## How to read and run this book\n\nA new line.\n"))
    found = _problems_of(page)
    assert len(found) == 1 and "How to read and run this book" in found[0]
    zh = root / "zh" / page
    zh.write_text(zh.read_text().replace("P_{ij} \\ge 0", "P_{ij} > 0"))  # a translator broke math
    assert any("display math" in p or "inline math" in p for p in _problems_of(page))


def test_a_changed_code_cell_or_a_missing_page_is_reported(copy_of_the_sources):
    root, page = copy_of_the_sources, "notebooks/04_examples.ipynb"
    zh = root / "zh" / page
    nb = json.loads(zh.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["source"] = ["print('changed')\n"]
    zh.write_text(json.dumps(nb))
    assert any("code cell" in p and code["id"] in p for p in _problems_of(page))
    (root / "zh" / "book" / "timeline.md").unlink()
    assert any("no translation" in p for p in _problems_of("book/timeline.md"))


def test_skeleton_keeps_translations_when_the_english_notebook_gains_a_cell(copy_of_the_sources):
    root, page = copy_of_the_sources, "notebooks/04_examples.ipynb"
    _translated(root, page)
    nb = json.loads((root / page).read_text())
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "new-cell", "metadata": {}, "source": ["New."]})
    (root / page).write_text(json.dumps(nb))
    assert any("cells differ" in p for p in _problems_of(page))
    translation.skeleton(root / page)
    found = _problems_of(page)
    assert len(found) == 1 and "new-cell" in found[0] and "not translated yet" in found[0]


def test_the_zh_build_configuration_is_derived_from_the_english_one():
    cfg = yaml.safe_load(translation.zh_config().read_text(encoding="utf-8"))
    en = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cfg["sphinx"]["config"]["language"] == "zh_CN"
    assert cfg["execute"]["cache"] == str(ROOT / "_build" / ".jupyter_cache")  # nothing runs twice
    for key in ("proof_title_format", "numfig", "bibtex_reference_style", "nb_merge_streams"):
        assert cfg["sphinx"]["config"][key] == en["sphinx"]["config"][key]
    assert cfg["sphinx"]["extra_extensions"] == en["sphinx"]["extra_extensions"]


def test_a_glued_phrase_may_have_its_own_chinese_words():
    """{glue:text}`x_zh` in a zh page stands for {glue:text}`x` (tables.glue(..., zh=...)); any
    other glue name is still a structure break."""
    en = "the samples are {glue:text}`fd_verdict` the data, by {glue:text}`fd_ratio`"
    ratio = "{glue:text}`fd_ratio` 倍"
    assert translation.structure_problems("p", en, "离数据{glue:text}`fd_verdict_zh`，" + ratio) == []
    assert translation.structure_problems("p", en, "样本{glue:text}`fd_other_zh`，" + ratio)
