"""The PDF edition as a reader opens it (`make pdf`, which runs this file after building): poppler's
``pdfinfo``/``pdftotext``/``pdftoppm`` read the book's PDF and check that it has pages, fits the size
budget, carries every chapter title, every numbered block of the lecture page (Definition 21.x,
Theorem 21.x, ...) and the Chinese epigraphs as text, has its licence on the copyright page, and
contains no Python repr or widget JSON where an output had no printed form; sample pages render.

The PDF checks are skipped when the PDF has not been built (``make test`` runs before ``make pdf`` in CI, and
``make pdf`` runs this file itself). ``M2D_PDF`` points it at another PDF. The printed forms
themselves (what m2d's outputs offer the LaTeX builder) are checked without a PDF.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PDF = Path(os.environ.get("M2D_PDF", ROOT / "_build" / "latex" / "from-markov-to-diffusion.pdf"))
MAX_MB = 40.0  # issue 16's budget
MIN_PAGES = 60
#: what an output without a printed form leaves behind (a repr, widget state, a raw mime type)
PLACEHOLDERS = ("object at 0x", "IPython.core.display", "application/vnd.jupyter",
                "widget-view", "model_id", "<m2d.", "Output()", "HBox(children", "VBox(children")

needs_pdf = pytest.mark.skipif(not PDF.exists(), reason=f"{PDF.name} not built (make pdf)")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: `make pdf` installs poppler-utils")
    return path


@pytest.fixture(scope="module")
def text() -> str:
    out = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(PDF), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out


def _flat(s: str) -> str:
    """Text with all whitespace removed: pdftotext breaks lines (and CJK runs) anywhere."""
    return re.sub(r"\s+", "", s)


def _sources() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    out = []
    for f in files:
        for ext in (".md", ".ipynb"):
            if (ROOT / (f + ext)).exists():
                out.append(ROOT / (f + ext))
    return out


def _markdown(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def _title(md: str) -> str:
    m = re.search(r"^# (.+)$", md, re.M)
    assert m, "a page without a title"
    return re.sub(r"[*_`$]|\{[^}]*\}", "", m.group(1)).replace("\\mathbb Z_", "ℤ").strip()


@needs_pdf
def test_pages_size_and_metadata():
    info = subprocess.run([_tool("pdfinfo"), str(PDF)], check=True, capture_output=True,
                          text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= MIN_PAGES, f"only {pages} pages"
    assert PDF.stat().st_size <= MAX_MB * 2**20, f"{PDF.stat().st_size / 2**20:.1f} MB > {MAX_MB} MB"
    assert re.search(r"^Title:\s+From Markov to Diffusion", info, re.M)


@needs_pdf
def test_every_chapter_title(text):
    flat = _flat(text)
    missing = []
    for src in _sources():
        title = _title(_markdown(src))
        words = [w for w in re.split(r"[^\w]+", title) if len(w) > 2 and w.isascii()]
        if not all(w in flat for w in words):
            missing.append(title)
    assert not missing, f"chapter titles not found in the PDF: {missing}"


@needs_pdf
def test_every_numbered_block(text):
    flat = _flat(text)
    blocks = set()
    for src in _sources():
        for kind, num in re.findall(r"\{prf:(definition|theorem|lemma|proposition|example|corollary)\}"
                                    r"\s+(\d+\.\d+)", _markdown(src)):
            blocks.add(f"{kind.capitalize()}{num}")
    assert len(blocks) >= 20
    missing = sorted(b for b in blocks if b not in flat)
    assert not missing, f"numbered blocks missing from the PDF: {missing}"


@needs_pdf
def test_chinese_epigraphs(text):
    flat = _flat(text)
    quotes = []
    for src in _sources():
        quotes += re.findall(r"^> 中文[:：]\s*[\"“”]?([^\"“”\n]{4,})", _markdown(src), re.M)
    assert len(quotes) >= 5
    missing = [q[:12] for q in quotes if _flat(q)[:12] not in flat]
    assert not missing, f"Chinese epigraphs missing (font or encoding): {missing}"


@needs_pdf
def test_licence_on_the_copyright_page():
    first = subprocess.run([_tool("pdftotext"), "-f", "1", "-l", "4", str(PDF), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert "CC BY-SA 4.0" in first and "MIT" in first


@needs_pdf
def test_no_output_without_a_printed_form(text):
    found = [p for p in PLACEHOLDERS if p in text]
    assert not found, f"unprinted outputs left their repr in the PDF: {found}"


@needs_pdf
def test_sample_pages_render(tmp_path):
    from PIL import Image

    info = subprocess.run([_tool("pdfinfo"), str(PDF)], check=True, capture_output=True,
                          text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    def contrast(p: int) -> int:
        stem = tmp_path / f"p{p}"
        subprocess.run([_tool("pdftoppm"), "-r", "30", "-png", "-f", str(p), "-l", str(p),
                        "-singlefile", str(PDF), str(stem)], check=True)
        with Image.open(f"{stem}.png") as im:
            lo, hi = im.convert("L").getextrema()
        return hi - lo

    # a sampled page may be the blank back of a chapter's last page: then its next page counts
    for p in sorted({1, 3, pages // 4, pages // 2, 3 * pages // 4, pages - 1}):
        assert max(contrast(p), contrast(p + 1)) > 50, f"pages {p} and {p + 1} render blank"


# --- printed forms: what the LaTeX builder picks from m2d's outputs (no PDF needed) ---------------
#: myst-nb's mime priority for the LaTeX builder (lower wins), as in myst_nb.core.render
LATEX_PRIORITY = ["application/pdf", "image/png", "image/jpeg", "text/latex", "text/markdown",
                  "text/plain"]


def _latex_pick(obj) -> tuple[str, object]:
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(obj)
    mime = next(m for m in LATEX_PRIORITY if m in data)
    return mime, data[mime]


def test_players_print_a_picture_while_the_book_is_built(monkeypatch):
    from m2d import audio, notation, players, plotting

    monkeypatch.setenv("M2D_HTML_BUILD", "1")
    y = audio.synthesize([60, 64, 67], 0.5)
    mime, png = _latex_pick(players.play(y, label="C major arpeggio"))
    assert mime == "image/png" and plotting.alt_of_png(png) == "Audio (0.8 s): C major arpeggio"
    score = notation.melody_score([60, 62, 64], [1.0, 0.5, 2.0])
    sp = players.score_player(score, y, "steps", caption="Three steps up")
    assert [[n[2] for n in part] for part in sp.parts] == [[60, 62, 64]]
    assert [n[0] for n in sp.parts[0]] == [0.0, 1.0, 1.5]  # onsets as written
    mime, png = _latex_pick(sp)
    assert mime == "image/png" and plotting.alt_of_png(png) == "Score: Three steps up"


def test_players_print_what_they_play_and_where(monkeypatch):
    import numpy as np

    from m2d import audio, players

    monkeypatch.delenv("M2D_HTML_BUILD", raising=False)  # a live notebook: no picture to wait for
    y = audio.synthesize([60, 64, 67], 0.5)
    mime, md = _latex_pick(players.play(y, label="C major arpeggio"))
    assert mime == "text/markdown"
    assert "C major arpeggio" in md and players.HTML_EDITION in md and "0x" not in md
    mime, md = _latex_pick(players.play(np.zeros(10) + 0.5, label="a*b_[c]"))
    assert "a\\*b\\_\\[c\\]" in md  # Markdown punctuation kept literal


def test_frame_player_prints_its_first_frame():
    import io

    from PIL import Image

    from m2d import static

    def png(v: int) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (4, 4), (v, 0, 0)).save(buf, format="PNG")
        return buf.getvalue()

    frames = {(n,): static.Frame(png(40 * n), None, f"n = {n}") for n in (0, 1, 2)}
    player = static.frame_player({"n": [0, 1, 2]}, frames, title="T")
    mime, data = _latex_pick(player)
    assert mime == "image/png" and data == frames[(0,)].image
    assert "m2d-frames" in player.data  # the page still gets the player


def test_browser_only_reprs_are_replaced_in_the_pdf():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from m2d_sphinx import _BROWSER_ONLY

    for r in ("<IPython.core.display.HTML object>",
              "<m2d.players.Player object at 0x7f3a2c>", "VBox(children=(IntSlider(value=1),))"):
        assert _BROWSER_ONLY.match(r), r
    for r in ("array([0.25, 0.75])", "0.3333", "Markov chain with 12 states"):
        assert not _BROWSER_ONLY.match(r), r


def _m2d_sphinx():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import m2d_sphinx

    return m2d_sphinx


def test_the_intro_page_links_the_pdf_once_it_exists(tmp_path):
    """link_pdf copies the PDF into the HTML build and fills the intro page's placeholder with a
    relative link that resolves; without a PDF the page is left as written; running it twice
    changes nothing. The Chinese edition inside the English build (html/zh/) is left to its own
    PDF: the English call does not touch it, the Chinese call links the Chinese PDF in Chinese."""
    ms = _m2d_sphinx()
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "zh" / "book").mkdir(parents=True)
    slot = '<p>built by make pdf<span class="m2d-pdf-link"></span>.</p>'
    (html / "book" / "intro.html").write_text(slot)
    (html / "zh" / "book" / "intro.html").write_text(slot)
    (html / "other.html").write_text("<p>no slot</p>")
    pdf = tmp_path / "latex" / ms.PDF_NAME
    assert ms.link_pdf(html, pdf) == [] and (html / "book" / "intro.html").read_text() == slot
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.5\n" + b"x" * 2_000_000)
    assert ms.link_pdf(html, pdf) == [html / "book" / "intro.html"]
    page = (html / "book" / "intro.html").read_text()
    href = re.search(r'href="([^"]+)"', page).group(1)
    assert (html / "book" / href).resolve() == (html / ms.PDF_NAME).resolve()
    assert (html / ms.PDF_NAME).read_bytes() == pdf.read_bytes()
    assert "2.0 MB" in page and page.count("<a ") == 1
    ms.link_pdf(html, pdf)
    assert (html / "book" / "intro.html").read_text() == page
    assert (html / "other.html").read_text() == "<p>no slot</p>"
    assert (html / "zh" / "book" / "intro.html").read_text() == slot

    zh_pdf = tmp_path / "zh" / "latex" / ms.PDF_NAME_ZH
    zh_pdf.parent.mkdir(parents=True)
    zh_pdf.write_bytes(b"%PDF-1.5\n" + b"z" * 3_000_000)
    assert ms.link_pdf(html / "zh", zh_pdf, "zh") == [html / "zh" / "book" / "intro.html"]
    zh_page = (html / "zh" / "book" / "intro.html").read_text()
    href = re.search(r'href="([^"]+)"', zh_page).group(1)
    assert (html / "zh" / "book" / href).resolve() == (html / "zh" / ms.PDF_NAME_ZH).resolve()
    assert (html / "zh" / ms.PDF_NAME_ZH).read_bytes() == zh_pdf.read_bytes()
    assert "下载 PDF 版（3.0 MB" in zh_page and zh_page.count("<a ") == 1
    assert (html / "book" / "intro.html").read_text() == page  # the English link stays


@needs_pdf
def test_the_built_book_links_its_pdf():
    """After `make pdf` the HTML book's intro page carries the link and the file behind it is the
    PDF just built."""
    html = ROOT / "_build" / "html"
    if os.environ.get("M2D_PDF") or not (html / "book" / "intro.html").exists():
        pytest.skip("no HTML build beside this PDF")
    page = (html / "book" / "intro.html").read_text(encoding="utf-8")
    m = re.search(r'<span class="m2d-pdf-link">: <a href="([^"]+)"', page)
    assert m, "the intro page does not link the PDF"
    assert (html / "book" / m.group(1)).resolve().read_bytes() == PDF.read_bytes()
