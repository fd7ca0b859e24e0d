"""Local Sphinx extension for the book (loaded through `_config.yml`, `sphinx.local_extensions`).

Jupyter Book 1 runs sphinx-thebe's set-up once per read phase, so every page carried its inline
configuration script twice and the browser reported
``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``. This removes exact duplicate
script entries from each page's context before it is rendered (the duplicate togglebutton setting
goes too).

The book sets ``launch_buttons.thebe: false``, yet sphinx-thebe still adds its loader script and a
configuration naming ``https://unpkg.com/thebe...``: dead weight, and a remote JavaScript address in
an offline book. Both are dropped here too, with its stylesheet.

Accessibility (issue 16; tests/test_browser.py runs axe-core on every page):

- figures get the alt text m2d.plotting generated with them (stored in the PNG), not their file name;
- 中文 passages are marked ``lang="zh"`` (every paragraph that opens in Chinese), so screen readers
  switch voice and browsers pick a CJK font;
- two theme buttons whose ``aria-label`` did not contain their visible text (axe's
  ``label-content-name-mismatch``) are replaced by the templates in ``tools/_templates``;
  myst-nb's "Show code cell source" toggles lose their mismatching ``aria-label`` the same way;
- Sphinx's ``<div role="list" class="citation-list">`` held citations that are not list items (axe's
  critical ``aria-required-children``): the role goes;
- (PDF) every output has a printed form: a player's picture (spectrogram or piano roll, made while
  the book is built) gets a line saying what it plays and on which HTML page, the players' Markdown
  pointers (when there is no picture) name that page, and
  outputs that only exist in a browser (an ``IPython.display.HTML`` object, a widget's repr) are
  replaced by a pointer to the page instead of their Python repr;
- (HTML) large figures are re-encoded with a 256-colour adaptive palette after the build (the
  heatmaps use 256-entry colour maps, so nothing visible is lost; Part III's organ spectrograms are
  noise-like textures that plain RGBA PNG stores at up to 0.5 MB each: the page weight budget);
- (HTML) every page links its counterpart in the other edition (English <-> 中文, issue 17);
- (HTML) the intro page links the PDF edition when `make pdf` has built it (:func:`link_pdf`);
- (HTML) the live widgets' shared assets are written into ``_static/m2d-live/`` (:mod:`m2d.live`);
- links in the light theme are a darker blue (#1461d0): the theme's #176de8 on the tinted
  backgrounds of the theorem, example and quote blocks had a contrast of 4.2:1, under WCAG AA's 4.5.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "_templates"
#: inline in every page's <head>, before the theme's stylesheets, hence the extra :root (it must
#: outrank their html[data-theme=light]); a stylesheet of our own would need a file in _static
A11Y_CSS = ('<style>html:root[data-theme="light"] { --pst-color-primary: #1461d0; --pst-color-link: #1461d0; '
            '--pst-color-link-hover: #0b3f91; }</style>')
_CJK_PARAGRAPH = re.compile(r"<p>(?=[\u3400-\u9fff])")


def _key(js) -> tuple:
    attrs = getattr(js, "attributes", {}) or {}
    # the two copies differ only in filename None vs "" (inline scripts)
    name = getattr(js, "filename", str(js)) or ""
    return (name, tuple(sorted((k, str(v)) for k, v in attrs.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set = set()
    unique = []
    for js in scripts:
        k = _key(js)
        body = str((getattr(js, "attributes", {}) or {}).get("body", ""))
        if "thebe" in (getattr(js, "filename", "") or "") or "THEBE_JS_URL" in body:
            continue  # Thebe is off: no loader, no remote address
        if k not in seen:
            seen.add(k)
            unique.append(js)
    scripts[:] = unique  # in place: Sphinx restores its own list before the next page
    css = context.get("css_files")
    if css:
        css[:] = [c for c in css if "thebe" not in (getattr(c, "filename", str(c)) or "")]


def _accessible_body(app, pagename, templatename, context, doctree) -> None:
    """Rewrite the page body for axe-core (see the module docstring): lang="zh", no list role on
    the citation list, no aria-label that hides a toggle's visible text; add the link colour."""
    body = context.get("body")
    if body:
        if not _is_zh(app):  # in the Chinese edition the page itself is lang="zh-CN"
            body = _CJK_PARAGRAPH.sub('<p lang="zh">', body)
        body = body.replace('<div role="list" class="citation-list">', '<div class="citation-list">')
        body = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")
        context["body"] = body
    context["metatags"] = context.get("metatags", "") + A11Y_CSS


def _is_zh(app) -> bool:
    return str(app.config.language or "").startswith("zh")


def counterpart_href(pagename: str, zh: bool) -> str:
    """The relative address of a page's counterpart in the other edition: the Chinese edition is
    the English HTML tree again under zh/ (``notebooks/01_markov`` <-> ``zh/notebooks/01_markov``)."""
    up = "../" * pagename.count("/")
    return ("../" + up + pagename + ".html") if zh else (up + "zh/" + pagename + ".html")


def _language_switch(app, pagename, templatename, context, doctree) -> None:
    """Every page links its counterpart in the other edition (one click, offline), at the top of the
    page body."""
    if app.builder.name != "html" or not context.get("body"):
        return
    zh = _is_zh(app)
    href = counterpart_href(pagename, zh)
    link = (f'<a href="{href}" hreflang="en" lang="en">English edition</a>' if zh else
            f'<a href="{href}" hreflang="zh-CN" lang="zh-CN">中文版</a>')
    context["body"] = f'<p class="m2d-lang-switch">{link}</p>\n' + context["body"]


def _png_alt_text(app, doctree, docname) -> None:
    """Figures say what they show: an image without alt text gets the description its PNG carries
    (written with the figure by m2d.plotting.install_alt_text; an iTXt chunk "Description")."""
    from docutils import nodes

    for node in doctree.findall(nodes.image):
        uri = node.get("uri", "")
        if node.get("alt") or not uri.lower().endswith(".png"):
            continue
        for path in (Path(app.srcdir) / uri, Path(app.env.relfn2path(uri, docname)[1])):
            if path.is_file():
                text = _png_description(path)
                if text:
                    node["alt"] = text
                break


def _png_description(path: Path) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return (getattr(im, "text", None) or {}).get("Description")
    except OSError:
        return None


#: Python reprs of outputs that only a browser shows (what the LaTeX builder would print instead).
_BROWSER_ONLY = re.compile(r"^\s*(<(IPython\.core\.display\.\w+|m2d\.[\w.]+|ipywidgets\.[\w.]+) object"
                           r"( at 0x[0-9a-f]+)?>|(VBox|HBox|Output|Tab|Accordion|interactive)\(.*)\s*$",
                           re.S)
#: the sentence m2d.players.printed_pointer ends with
_HTML_EDITION = "hear it in the HTML edition of this page"


def _page_of(node, default: str) -> str:
    """The document a node of the LaTeX builder's assembled tree came from: the nearest
    ``start_of_file``, or a section jupyterbook-latex tagged with its ``docname``."""
    from docutils import nodes

    while node is not None:
        if isinstance(node, nodes.Element) and node.get("docname"):
            return node["docname"]
        node = node.parent
    return default


def _translate_tables(app, doctree, docname) -> None:
    """The Chinese edition: the library's printed tables (cell outputs) get Chinese header and
    row labels, cell by cell from m2d.i18n.TABLE_TERMS (the English execution serves both editions;
    a cell without an entry stays as printed), and the players' HTML tables their column headers."""
    if not _is_zh(app):
        return
    from docutils import nodes

    from m2d import i18n

    for table in doctree.findall(nodes.table):
        parent = table.parent
        while parent is not None and "cell_output" not in parent.get("classes", []):
            parent = parent.parent
        if parent is None:
            continue
        for entry in table.findall(nodes.entry):
            zh = i18n.translate_cell(entry.astext())
            paragraphs = list(entry.findall(nodes.paragraph))
            if zh != entry.astext() and len(paragraphs) == 1:
                paragraphs[0].clear()
                paragraphs[0] += nodes.Text(zh)
    # the players' tables (m2d.players.players_html) are HTML: their column headers
    for raw in doctree.findall(nodes.raw):
        if "html" not in raw.get("format", "") or "<th" not in raw.astext():
            continue
        text = re.sub(r"(<th[^>]*>)([^<]*)(</th>)", lambda m: m.group(1) + html.escape(
            i18n.translate_cell(html.unescape(m.group(2)))) + m.group(3), raw.astext())
        if text != raw.astext():
            raw.replace_self(nodes.raw("", text, format=raw["format"]))


def _printed_forms(app, doctree, docname) -> None:
    """LaTeX builds: name the HTML page in the players' pointers, and replace browser-only outputs
    (their Python repr) by a pointer to the page."""
    if app.builder.format != "latex":
        return
    from docutils import nodes

    zh = _is_zh(app)
    hear = "在 HTML 版的 {}.html 页面中收听" if zh else "hear it in the HTML edition, page {}.html"
    for text in list(doctree.findall(nodes.Text)):
        if _HTML_EDITION in text and text.parent is not None:
            page = _page_of(text.parent, docname)
            text.parent.replace(text, nodes.Text(text.replace(_HTML_EDITION, hear.format(page))))
    for image in list(doctree.findall(nodes.image)):  # a player's printed form: say where it plays
        alt = image.get("alt", "")
        if alt.startswith(("Audio (", "Score: ")) and image.parent is not None:
            page = _page_of(image, docname)
            note = nodes.paragraph("", "", nodes.emphasis("", alt), nodes.Text(
                ("：" if zh else ": ") + hear.format(page) + ("。" if zh else ".")))
            image.parent.insert(image.parent.index(image) + 1, note)
    for block in list(doctree.findall(nodes.literal_block)):
        if _BROWSER_ONLY.match(block.astext()) and block.parent is not None:
            page = _page_of(block, docname)
            words = (("交互输出", f"：请在 HTML 版的 {page}.html 页面中查看。") if zh else
                     ("Interactive output", f": see it in the HTML edition, page {page}.html."))
            block.parent.replace(block, nodes.paragraph("", "", nodes.emphasis("", words[0]),
                                                        nodes.Text(words[1])))


#: the Chinese edition's word for sphinx-proof's "Proof." (its zh_CN catalogue has none)
PROOF_ZH = "证明："


def _proof_titles(app, doctree, docname) -> None:
    """LaTeX builds: sphinx-proof prints a block's kind ("Theorem") untranslated, though its own
    zh_CN catalogue has the word (定理), and for an unnumbered block (every block here: the title
    carries the lecture's number) with no space before the title ("Theorem21.1"). The kind goes
    in the book's language with its space. In every builder, the Chinese edition's proofs open with
    证明： instead of the directive's English "Proof. "."""
    latex = app.builder.format == "latex"
    if not latex and not _is_zh(app):
        return
    from docutils import nodes
    from sphinx_proof.nodes import _ as proof_words
    from sphinx_proof.nodes import unenumerable_node

    for node in list(doctree.findall(nodes.Element)):
        kind = node.get("realtype")
        if not latex:
            kind = None
        if kind and isinstance(kind, str) and not kind.endswith(" ") and kind != "proof":
            word = str(proof_words(kind.title()))
            node["realtype"] = word + (" " if isinstance(node, unenumerable_node) else "")
        elif _is_zh(app) and isinstance(node, nodes.admonition) and "proof" in node["classes"]:
            first = next(iter(node.findall(nodes.Text)), None)
            if first is not None and first.startswith("Proof. "):
                first.parent.replace(first, nodes.Text(PROOF_ZH + first[len("Proof. "):]))


#: jupyterbook-latex's class loads bbm (blackboard-bold digits), which Debian ships only in the
#: 500 MB texlive-fonts-extra; the book never writes \mathbbm, so a stand-in maps it to \mathbb.
BBM_STANDIN = ("\\NeedsTeXFormat{LaTeX2e}\\ProvidesPackage{bbm}[2026/12/01 m2d stand-in]\n"
               "\\providecommand{\\mathbbm}[1]{\\mathbb{#1}}\n")


def _latex_standins(app) -> None:
    """LaTeX builds: write the bbm stand-in beside the .tex file unless TeX has the real one."""
    import shutil
    import subprocess

    if app.builder.format != "latex":
        return
    if shutil.which("kpsewhich"):
        found = subprocess.run(["kpsewhich", "bbm.sty"], capture_output=True, text=True).stdout
        if found.strip():
            return
    out = Path(app.outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bbm.sty").write_text(BBM_STANDIN)


def _add_templates(app, config) -> None:
    """Our overrides of two theme components come before the theme's own templates."""
    if str(TEMPLATES) not in config.templates_path:
        config.templates_path.insert(0, str(TEMPLATES))


def _drop_thebe_nodes(app, doctree, docname) -> None:
    """sphinx-thebe also appends its per-page configuration to some doctrees (a script naming a
    Binder repository and the kernel): remove it, Thebe is off."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "x-thebe-config" in text or text.strip().startswith("<script>kernelName ="):
            node.parent.remove(node)


#: HTML figures above this size get a palette (bytes)
PALETTE_ABOVE = 100_000


def palette_png(data: bytes) -> bytes:
    """The PNG re-encoded with a 256-colour adaptive palette (no dithering), or unchanged when
    that is not smaller. Transparency is dropped (the figures have opaque backgrounds)."""
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(data))
    q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                   dither=Image.Dither.NONE)
    out = io.BytesIO()
    q.save(out, format="PNG", optimize=True)
    return out.getvalue() if len(out.getvalue()) < len(data) else data


def _palette_images(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir, "_images").glob("*.png"):
        data = path.read_bytes()
        if len(data) > PALETTE_ABOVE:
            path.write_bytes(palette_png(data))


#: the PDF editions' file names (``latex_documents.targetname`` in _config.yml, with .pdf; the
#: Chinese one's is set by tools/translation.py's zh_config)
PDF_NAME = "from-markov-to-diffusion.pdf"
PDF_NAME_ZH = "from-markov-to-diffusion-zh.pdf"
#: the intro page's placeholder for the link (book/intro.md, zh/book/intro.md), filled when the PDF
#: exists
_PDF_SLOT = re.compile(r'(<span class="m2d-pdf-link">).*?(</span>)', re.S)
#: the link's words in each edition: (before the link, its label)
_PDF_LABEL = {"en": (": ", "download the PDF edition ({mb:.1f} MB, built {date})"),
              "zh": ("：", "下载 PDF 版（{mb:.1f} MB，构建于 {date}）")}


def link_pdf(html_dir: Path, pdf: Path, lang: str = "en") -> list[Path]:
    """Copy a PDF edition into its HTML build and fill every ``m2d-pdf-link`` placeholder of that
    edition with a link to it (its size and build date). Idempotent; without the PDF, the pages say
    how to build it instead (they are left as written).

    The Chinese edition's HTML sits inside the English one (``_build/html/zh/``) and links its own
    PDF: the English call skips ``zh/``, the Chinese call is given ``_build/html/zh`` (or the zh
    build's own ``_build/zh/_build/html``) and ``lang="zh"``.

    Called at the end of every HTML build (when `make pdf` has run before) and by `make pdf`
    itself (``python tools/m2d_sphinx.py link-pdf``), since `make book` runs first.

    Args:
        html_dir: the edition's HTML root
        pdf: its PDF
        lang: "en" or "zh", the language of the link's words

    Returns:
        pages (list[Path]): the pages that carry the link
    """
    import datetime
    import html
    import shutil

    html_dir, pdf = Path(html_dir), Path(pdf)
    if not pdf.is_file() or not html_dir.is_dir():
        return []
    target = html_dir / pdf.name
    if not target.exists() or target.stat().st_mtime < pdf.stat().st_mtime \
            or target.stat().st_size != pdf.stat().st_size:
        shutil.copy2(pdf, target)
    stamp = datetime.datetime.fromtimestamp(pdf.stat().st_mtime, datetime.UTC)
    before, words = _PDF_LABEL[lang]
    label = words.format(mb=pdf.stat().st_size / 1e6, date=f"{stamp:%Y-%m-%d}")
    done = []
    for page in html_dir.rglob("*.html"):
        rel = page.relative_to(html_dir)
        if lang == "en" and rel.parts[0] == "zh":
            continue  # the Chinese edition links the Chinese PDF
        text = page.read_text(encoding="utf-8")
        if 'class="m2d-pdf-link"' not in text:
            continue
        href = "../" * (len(rel.parts) - 1) + pdf.name
        link = f'{before}<a href="{html.escape(href)}" download>{html.escape(label)}</a>'
        new = _PDF_SLOT.sub(lambda m, link=link: m.group(1) + link + m.group(2), text)
        if new != text:
            page.write_text(new, encoding="utf-8")
        done.append(page)
    return done


def _link_pdf_after_build(app, exception) -> None:
    """HTML builds: link the edition's PDF if `make pdf` built it (the English build's is
    ``_build/latex/``, the Chinese build's ``_build/zh/_build/latex/``: beside each HTML output)."""
    if exception is not None or app.builder.format != "html" or app.builder.name != "html":
        return
    zh = _is_zh(app)
    name = PDF_NAME_ZH if zh else PDF_NAME
    link_pdf(Path(app.outdir), Path(app.outdir).parent / "latex" / name, "zh" if zh else "en")


def _live_assets(app, exception) -> None:
    """HTML builds: the live widgets' shared assets (the note bank), once for the book, and the
    model scripts the pages name, from the cached ONNX exports."""
    if exception is not None or app.builder.name != "html":
        return
    from m2d import live

    live.write_assets(app.outdir)
    if app.config.html_extra_path:  # the edition that serves ort/ and models/ (the English one)
        live.write_model_scripts(app.outdir)


def setup(app):
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=10)
    app.connect("html-page-context", _accessible_body, priority=11)
    app.connect("html-page-context", _language_switch, priority=12)
    app.connect("config-inited", _add_templates)
    app.connect("doctree-resolved", _png_alt_text)
    app.connect("doctree-resolved", _printed_forms)
    app.connect("doctree-resolved", _translate_tables)
    app.connect("doctree-resolved", _proof_titles)
    app.connect("builder-inited", _latex_standins)
    app.connect("doctree-resolved", _drop_thebe_nodes, priority=900)  # after sphinx-thebe's
    app.connect("build-finished", _palette_images)
    app.connect("build-finished", _link_pdf_after_build)
    app.connect("build-finished", _live_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}



if __name__ == "__main__":  # make pdf: python tools/m2d_sphinx.py link-pdf
    import sys

    if sys.argv[1:] != ["link-pdf"]:
        sys.exit("usage: python tools/m2d_sphinx.py link-pdf")
    root = Path(__file__).resolve().parent.parent
    html_root = root / "_build" / "html"
    if not html_root.is_dir():
        sys.exit(print("no HTML build (run `make book` first): the PDFs are not linked") or 0)
    ok = True
    for lang, html_dir, pdf in (
            ("en", html_root, root / "_build" / "latex" / PDF_NAME),
            ("zh", html_root / "zh", root / "_build" / "zh" / "_build" / "latex" / PDF_NAME_ZH)):
        pages = link_pdf(html_dir, pdf, lang)
        # the zh build's own output too, which `make book` copies into _build/html/zh/
        if lang == "zh":
            link_pdf(pdf.parent.parent / "html", pdf, lang)
        print(f"{pdf.name} linked from "
              f"{', '.join(str(p.relative_to(root)) for p in pages) or 'no page'}")
        ok = ok and bool(pages)
    sys.exit(0 if ok else 1)
