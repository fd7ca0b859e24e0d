"""The Chinese PDF edition as a reader opens it (`make pdf` builds it from zh/ beside the English one
and runs this file): it has a sensible number of pages, every chapter's Chinese headings (taken from
the zh/ sources) come out as text, every numbered block under its Chinese name (定理 21.1), LaTeX's
own names in Chinese (目录, 第 3 章, 第二部分), every font embedded, no character that the fonts lack
(xelatex's "Missing character" in its log), every figure of the English edition, the licence on the
copyright page, and the Chinese intro page links this PDF.

Skipped when the zh PDF has not been built (``make test`` runs before ``make pdf`` in CI).
``M2D_PDF_ZH`` points it at another PDF (the log, the .tex and the HTML checks are then skipped).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from test_pdf import MAX_MB, MIN_PAGES, PLACEHOLDERS, _flat, _markdown, _tool

ROOT = Path(__file__).resolve().parent.parent
LATEX = ROOT / "_build" / "zh" / "_build" / "latex"
PDF = Path(os.environ.get("M2D_PDF_ZH", LATEX / "from-markov-to-diffusion-zh.pdf"))
EN_PDF = ROOT / "_build" / "latex" / "from-markov-to-diffusion.pdf"
#: the zh headings' CJK runs (a heading's math, code and Latin words print in other fonts and
#: pdftotext may space them differently)
_CJK_RUN = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]{2,}")
#: the Chinese names sphinx-proof's zh_CN catalogue gives each kind of block
KINDS = {"definition": "定义", "theorem": "定理", "lemma": "引理", "proposition": "命题",
         "example": "例子", "corollary": "推论"}

needs_pdf = pytest.mark.skipif(not PDF.exists(), reason=f"{PDF.name} not built (make pdf)")
built_here = pytest.mark.skipif(bool(os.environ.get("M2D_PDF_ZH")) or not PDF.exists(),
                                reason="not the PDF `make pdf` built")


@pytest.fixture(scope="module")
def text() -> str:
    return subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(PDF), "-"], check=True,
                          capture_output=True, text=True).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _zh_sources() -> list[Path]:
    toc = yaml.safe_load((ROOT / "zh" / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    out = [p for f in files for p in (ROOT / "zh" / (f + ".md"), ROOT / "zh" / (f + ".ipynb"))
           if p.exists()]
    assert len(out) == len(files), "a zh page in zh/_toc.yml has no source"
    return out


def _headings(md: str) -> list[str]:
    """The page's title and section headings (# and ##), outside code fences."""
    out, fence = [], False
    for line in md.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        elif not fence and re.match(r"#{1,2} ", line):
            out.append(line.lstrip("#").strip())
    return out


@needs_pdf
def test_pages_size_and_metadata():
    pages = _pages(PDF)
    assert pages >= MIN_PAGES, f"only {pages} pages"
    if EN_PDF.exists():  # the same book: within a fifth of the English edition's length
        en = _pages(EN_PDF)
        assert 0.8 * en <= pages <= 1.25 * en, f"{pages} pages against the English {en}"
    assert PDF.stat().st_size <= MAX_MB * 2**20, f"{PDF.stat().st_size / 2**20:.1f} MB > {MAX_MB} MB"
    info = subprocess.run([_tool("pdfinfo"), str(PDF)], check=True, capture_output=True,
                          text=True).stdout
    assert re.search(r"^Title:\s+从马尔可夫到扩散", info, re.M), info


@needs_pdf
def test_every_chinese_heading_of_every_chapter(text):
    flat = _flat(text)
    missing, count = [], 0
    for src in _zh_sources():
        heads = _headings(_markdown(src))
        assert heads, f"{src.relative_to(ROOT)}: no heading"
        for h in heads:
            for run in _CJK_RUN.findall(re.sub(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}", " ", h)):
                count += 1
                if _flat(run) not in flat:
                    missing.append(f"{src.relative_to(ROOT)}: {h}")
                    break
    assert count >= 50, f"only {count} Chinese heading runs found in zh/"
    assert not missing, f"Chinese headings not found in the PDF: {missing}"


@needs_pdf
def test_every_numbered_block_under_its_chinese_name(text):
    flat = _flat(text)
    blocks = set()
    for src in _zh_sources():
        for kind, num in re.findall(r"\{prf:(" + "|".join(KINDS) + r")\}\s+(\d+\.\d+)",
                                    _markdown(src)):
            blocks.add(KINDS[kind] + num)
    assert len(blocks) >= 20
    missing = sorted(b for b in blocks if b not in flat)
    assert not missing, f"numbered blocks missing from the PDF: {missing}"
    assert "证明：" in flat and "ProofIndex" not in flat


@built_here
def test_no_english_block_kind_or_proof():
    """sphinx-proof's words (tools/m2d_sphinx.py puts them in Chinese for the LaTeX builder): no
    block titled Theorem..., no proof opening with "Proof. " (the code cells may say Theorem)."""
    tex = PDF.with_suffix(".tex").read_text(encoding="utf-8")
    titles = re.findall(r"\\begin\{sphinxadmonition\}\{note\}\{([^}\n]{0,24})", tex)
    assert len(titles) >= 20
    english = [t for t in titles if re.match(r"[A-Z][a-z]+", t)]
    assert not english, f"blocks with an English kind: {english[:5]}"
    assert not re.search(r"^Proof\. ", tex, re.M)


@needs_pdf
def test_latex_names_are_chinese(text):
    flat = _flat(text)
    for name in ("目录", "第3章", "第二部分", "参考文献"):
        assert name in flat, f"{name} not in the PDF"
    front = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", "-f", "1", "-l", "8", str(PDF), "-"],
                           check=True, capture_output=True, text=True).stdout
    for english in ("Contents", "Chapter", "Part", "Index"):  # the title page and contents
        assert english not in front, f"LaTeX's English {english} in the Chinese PDF"


@needs_pdf
def test_licence_on_the_copyright_page():
    first = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", "-f", "1", "-l", "4", str(PDF), "-"],
                           check=True, capture_output=True, text=True).stdout
    assert "CC BY-SA 4.0" in first and "MIT" in first and "许可" in first


@needs_pdf
def test_every_font_is_embedded():
    out = subprocess.run([_tool("pdffonts"), str(PDF)], check=True, capture_output=True,
                         text=True).stdout
    rows = [ln.split() for ln in out.splitlines()[2:] if ln.strip()]
    # columns: name ... emb sub uni object ID; emb is the fifth field from the end
    assert any("WenQuanYi" in r[0] for r in rows), "the CJK font is not used"
    not_embedded = [r[0] for r in rows if r[-5] != "yes"]
    assert not not_embedded, f"fonts not embedded: {not_embedded}"


@built_here
def test_no_missing_character_in_the_xelatex_log():
    """xelatex logs every character no font of the run has ("Missing character: There is no 马
    (U+9A6C) in font ..."), which the PDF then silently lacks."""
    log = PDF.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert "Output written on" in log
    lost = sorted(set(re.findall(r"Missing character: There is no (.*?) in font", log)))
    assert not lost, f"characters the fonts lack: {lost[:20]}"


@built_here
def test_every_figure_of_the_english_edition():
    """Every figure the .tex includes is there, and they are as many as the English edition's (the
    notebooks' code cells are the same: the same outputs); the PDF holds the raster ones."""
    tex = PDF.with_suffix(".tex").read_text(encoding="utf-8")
    figures = re.findall(r"\\sphinxincludegraphics(?:\[[^]]*\])?\{\{([^}]+)\}(\.\w+)\}", tex)
    assert len(figures) >= 50, f"only {len(figures)} figures"
    absent = [f + ext for f, ext in figures if not (PDF.parent / (f + ext)).exists()]
    assert not absent, f"figures missing: {absent[:5]}"
    en_tex = EN_PDF.with_suffix(".tex")
    if en_tex.exists():
        en = re.findall(r"\\sphinxincludegraphics", en_tex.read_text(encoding="utf-8"))
        assert len(figures) == len(en), f"{len(figures)} figures against the English {len(en)}"
    images = subprocess.run([_tool("pdfimages"), "-list", str(PDF)], check=True,
                            capture_output=True, text=True).stdout.splitlines()[2:]
    assert len(images) >= 20, f"only {len(images)} raster images in the PDF"


@built_here
def test_pointers_to_the_html_edition_are_chinese():
    """A player's printed form says in Chinese where to hear it (tools/m2d_sphinx.py)."""
    tex = PDF.with_suffix(".tex").read_text(encoding="utf-8")
    assert tex.count("在 HTML 版的") >= 10
    assert "HTML edition" not in tex and "Interactive output" not in tex


@needs_pdf
def test_no_output_without_a_printed_form(text):
    found = [p for p in PLACEHOLDERS if p in text]
    assert not found, f"unprinted outputs left their repr in the PDF: {found}"


@built_here
def test_the_chinese_intro_page_links_this_pdf():
    """After `make pdf` the Chinese edition's intro page (_build/html/zh/) links the Chinese PDF
    copied beside it, in Chinese; the English intro page links the English one."""
    html = ROOT / "_build" / "html"
    if not (html / "zh" / "book" / "intro.html").exists():
        pytest.skip("no HTML build beside this PDF")
    page = (html / "zh" / "book" / "intro.html").read_text(encoding="utf-8")
    m = re.search(r'<span class="m2d-pdf-link">：<a href="([^"]+)" download>下载 PDF 版', page)
    assert m, "the Chinese intro page does not link the PDF"
    target = (html / "zh" / "book" / m.group(1)).resolve()
    assert target.parent == (html / "zh").resolve() and target.read_bytes() == PDF.read_bytes()
    en = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "from-markov-to-diffusion-zh.pdf" not in en
