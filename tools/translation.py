"""The Chinese edition's bookkeeping (issue 17): which English text each translated piece translates.

Every page of the book has a counterpart under ``zh/`` (``zh/book/intro.md`` for ``book/intro.md``,
``zh/notebooks/01_markov.ipynb`` for ``notebooks/01_markov.ipynb``). A translation is recorded per
*piece* with the SHA-256 of the English text it translates:

- notebooks: per markdown cell, keyed by the cell id (the English and Chinese notebooks have the
  same cells in the same order; code cells are identical, so the build reuses the English execution
  cache), in the cell's metadata ``{"translation": {"source_sha256": ..., "status": "done"}}``;
- Markdown pages: per section (the text from one heading to the next), keyed by the section's
  heading path, in a comment line before the section:
  ``<!-- translation: section 3 "## How to read and run this book" sha256=... -->``.

When an English piece changes, its hash no longer matches and ``check`` (run by
tests/test_translation.py) names the page, the piece and its heading: translate it again, then
``stamp`` it. Usage:

    python tools/translation.py skeleton PAGE        # zh/PAGE from PAGE, English text, status todo
    python tools/translation.py apply ZH MAPPING.json # {piece key: Chinese text}: write and stamp
    python tools/translation.py stamp ZH KEY...       # record the current English hash of pieces
    python tools/translation.py check [PAGE]         # every problem, one per line (exit 1 if any)
    python tools/translation.py status               # per page: pieces done / total
    python tools/translation.py config               # _build/zh/_config.yml for the zh build
    python tools/translation.py punctuate ZH...       # full-width punctuation in translated pieces
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANG = "zh"
_MARK = re.compile(r'^<!-- translation: section (\d+) "(.*)" sha256=([0-9a-f]{64}|todo) -->$', re.M)
_HEADING = re.compile(r"^(#{1,6}) ", re.M)
_FENCE = re.compile(r"^(```|~~~|:::)")


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def counterpart(page: Path) -> Path:
    """zh/<page> for an English page (relative to the repository root)."""
    return ROOT / LANG / Path(page).resolve().relative_to(ROOT)


def english_pages() -> list[Path]:
    """Every page of the English book (_toc.yml), as files."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    out = []
    for n in names:
        for ext in (".md", ".ipynb"):
            if (ROOT / (n + ext)).exists():
                out.append(ROOT / (n + ext))
    return out


# -- Markdown pages: sections --------------------------------------------------------------------
def md_sections(text: str) -> list[tuple[str, str]]:
    """Split Markdown into (heading line, section text) at headings outside code fences; the text
    before the first heading is section 0 with heading "" (dropped when it is only front matter)."""
    lines = text.splitlines(keepends=True)
    sections: list[tuple[str, list[str]]] = [("", [])]
    fence = None
    for line in lines:
        m = _FENCE.match(line.strip())
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
        if fence is None and _HEADING.match(line) and not m:
            sections.append((line.strip(), [line]))
        else:
            sections[-1][1].append(line)
    return [(h, "".join(body)) for h, body in sections if h or front_matter("".join(body))[1].strip()]


def zh_md_sections(text: str) -> dict[int, tuple[str, str, str]]:
    """The translated page's sections: index -> (English heading, recorded sha256, Chinese text)."""
    marks = list(_MARK.finditer(text))
    out = {}
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        out[int(m.group(1))] = (m.group(2), m.group(3), text[m.end():end].strip("\n"))
    return out


def front_matter(text: str) -> tuple[str, str]:
    """(YAML front matter with its --- lines, the rest): a MyST notebook's header (kernel, jupytext)
    is not prose; the Chinese page carries the English one, first in the file."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            return text[: end + 5], text[end + 5:]
    return "", text


def write_md(en: Path, zh: Path, pieces: dict[int, tuple[str, str]]) -> None:
    """Write zh from pieces {index: (sha or 'todo', text)} in the English section order (after the
    English page's front matter, if it has one)."""
    en_text = en.read_text(encoding="utf-8")
    head = front_matter(en_text)[0]
    parts = [head] if head else []
    for i, (heading, body) in enumerate(md_sections(en_text)):
        h, text = pieces.get(i, ("todo", body))
        text = front_matter(text)[1] if i == 0 else text
        parts.append(f'<!-- translation: section {i} "{heading}" sha256={h} -->\n{text.strip(chr(10))}\n')
    zh.parent.mkdir(parents=True, exist_ok=True)
    zh.write_text("\n".join(parts), encoding="utf-8")


# -- notebooks: markdown cells --------------------------------------------------------------------
def _nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_nb(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _src(cell: dict) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _heading_of(cells: list[dict], i: int) -> str:
    for c in reversed(cells[: i + 1]):
        if c["cell_type"] == "markdown":
            hs = [ln for ln in _src(c).splitlines() if _HEADING.match(ln)]
            if hs:
                return hs[-1].strip()
    return "(top of page)"


# -- structure: what a translation must carry over unchanged -------------------------------------
_STRUCTURE = {
    "directive": re.compile(r"^\s*(?:```+|:::+)\{([\w:-]+)\}", re.M),
    "option": re.compile(r"^[ \t]*:(label|class|nonumber|name):[ \t]*(\S*)", re.M),
    "target": re.compile(r"^\((\S+)\)=\s*$", re.M),
    "role": re.compile(r"\{(prf:ref|numref|ref|doc|eq|cite|cite:p|cite:t|glue:text|glue:)\}"
                       r"`(?:[^`<]*<)?([^`>]+)>?`"),
    "link": re.compile(r"\]\(([^)\s]+)\)"),
    "display math": re.compile(r"\$\$(.*?)\$\$", re.S),
    "code cell": re.compile(r"^```\{code-cell\}.*?^```", re.M | re.S),
    "heading level": re.compile(r"^(#{1,6}) ", re.M),
}


def structure(text: str) -> dict[str, list]:
    """What must be identical in a translation: directives (with their labels and options), link
    targets and cross-reference targets ({prf:ref}, {glue:text}, {cite}, ...), display math blocks
    and the heading levels, each as a sorted list."""
    out = {}
    for name, rx in _STRUCTURE.items():
        found = rx.findall(text)
        if name == "role":  # a zh page quotes a glued text value in its own words: name_zh
            found = [(k, v[:-3] if k.startswith("glue") and v.endswith("_zh") else v)
                     for k, v in found]
        out[name] = sorted(map(str, found))
    inline = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    out["inline math"] = sorted(" ".join(m.split()) for m in re.findall(r"(?<![\\$])\$([^$]+?)\$", inline))
    return out


def structure_problems(where: str, en_text: str, zh_text: str) -> list[str]:
    e, z = structure(en_text), structure(zh_text)
    return [f"{where}: {k} differ: English {e[k]} vs Chinese {z[k]}"[:400] for k in e if e[k] != z[k]]


# -- Chinese punctuation ------------------------------------------------------------------------
#: ASCII punctuation where Chinese prose needs the full-width form (some input paths turn ，into ,);
#: converted next to a CJK character, never inside math, code, roles, links, HTML or option lines,
#: and never in the lecture's quotations ("> 中文: ...", quoted verbatim)
_FULLWIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_PROTECTED = re.compile(r"(\{[\w:-]+\}`[^`]*`|`[^`]*`|\$\$.*?\$\$|\$[^$]+?\$|\]\([^)\s]*\)"
                        r"|<[^>\n]*>|https?://\S+)", re.S)
_KEEP_LINE = re.compile(r"^\s*(:[\w-]+:|\(\S+\)=\s*$|>\s*(中文|English)|```|:::|<!--)")


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or ch in "。、“”《》…，；：？！（）"


def _prose_punctuation(seg: str) -> str:
    out, opened = list(seg), []
    for i, ch in enumerate(seg):
        prev, nxt = out[i - 1] if i else "", seg[i + 1] if i + 1 < len(seg) else ""
        if ch in _FULLWIDTH and _cjk(prev):
            out[i] = _FULLWIDTH[ch]
        elif ch == "(":
            opened.append(_cjk(prev) or _cjk(nxt))
            out[i] = "（" if opened[-1] else ch
        elif ch == ")":
            wide = opened.pop() if opened else _cjk(prev)
            out[i] = "）" if wide or _cjk(prev) else ch
    return re.sub(r"([，；：？！（）])[ ]+(?=[^\s|])", r"\1", "".join(out))


def cjk_punctuation(text: str) -> str:
    """``text`` with the ASCII , ; : ? ! ( ) of its Chinese prose in full-width form (see above);
    math (also across lines), code, roles, link targets, HTML, MyST option lines and the lecture's
    quotations unchanged."""
    parts = _PROTECTED.split(text)
    for k in range(0, len(parts), 2):  # prose between protected spans, line by line
        lines = parts[k].split("\n")
        for n, line in enumerate(lines):
            at_line_start = n > 0 or k == 0 or parts[k - 1].endswith("\n")
            fence = re.match(r"^(\s*(?:```+|:::+)\{[\w:-]+\}\s*)(.*)$", line) if at_line_start else None
            if fence and not fence.group(1).lstrip().startswith(("```{solution", "```{code")):
                lines[n] = fence.group(1) + _prose_punctuation(fence.group(2))
            elif at_line_start and _KEEP_LINE.match(line):
                continue
            else:
                lines[n] = _prose_punctuation(line)
        parts[k] = "\n".join(lines)
    return "".join(parts)


# -- commands ----------------------------------------------------------------------------------
def skeleton(page: Path) -> Path:
    """zh/<page> in the English page's shape: new pieces carry the English text with status todo;
    pieces already translated (same cell id, or same section heading) are kept as they are, so this
    also re-syncs the structure after cells or sections were added, removed or moved in English.
    Code cells are copied from English."""
    page = Path(page).resolve()
    zh = counterpart(page)
    if page.suffix == ".md":
        old = zh_md_sections(zh.read_text(encoding="utf-8")) if zh.exists() else {}
        by_heading = {h: (s, t) for h, s, t in old.values()}
        pieces = {}
        for i, (heading, _) in enumerate(md_sections(page.read_text(encoding="utf-8"))):
            if heading in by_heading and by_heading[heading][0] != "todo":
                pieces[i] = by_heading[heading]
        write_md(page, zh, pieces)
        return zh
    nb = _nb(page)
    old_cells = {c.get("id"): c for c in _nb(zh)["cells"]} if zh.exists() else {}
    for k, c in enumerate(nb["cells"]):
        if c["cell_type"] != "markdown":
            continue
        prev = old_cells.get(c.get("id"))
        if prev is not None and prev["cell_type"] == "markdown" and \
                prev.get("metadata", {}).get("translation", {}).get("status") == "done":
            nb["cells"][k] = prev
        else:
            c.setdefault("metadata", {})["translation"] = {"source_sha256": sha(_src(c)), "status": "todo"}
    _write_nb(zh, nb)
    return zh


def apply(zh: Path, mapping: dict[str, str]) -> list[str]:
    """Write Chinese text for pieces (cell ids, or section indices of a Markdown page) and record
    the current English hash of each. Returns the keys written.

    Raises:
        KeyError: a key that is not a piece of the page
    """
    zh = Path(zh).resolve()
    en = ROOT / zh.relative_to(ROOT / LANG)
    if zh.suffix == ".md":
        sections = md_sections(en.read_text(encoding="utf-8"))
        have = zh_md_sections(zh.read_text(encoding="utf-8")) if zh.exists() else {}
        pieces = {i: (h, t) for i, (_, h, t) in have.items()}
        for key, text in mapping.items():
            i = int(key)
            if not 0 <= i < len(sections):
                raise KeyError(f"{zh.name}: no section {key} (0..{len(sections) - 1})")
            pieces[i] = (sha(sections[i][1]), cjk_punctuation(text))
        write_md(en, zh, pieces)
        return list(mapping)
    en_cells = {c.get("id"): c for c in _nb(en)["cells"]}
    nb = _nb(zh)
    by_id = {c.get("id"): c for c in nb["cells"]}
    for key, text in mapping.items():
        if key not in by_id or by_id[key]["cell_type"] != "markdown":
            raise KeyError(f"{zh.name}: no markdown cell {key!r}")
        cell = by_id[key]
        cell["source"] = cjk_punctuation(text.strip("\n")).splitlines(keepends=True)
        cell["metadata"]["translation"] = {"source_sha256": sha(_src(en_cells[key])), "status": "done"}
    _write_nb(zh, nb)
    return list(mapping)


def stamp(zh: Path, keys: list[str]) -> None:
    """Record that pieces are up to date with the English text as it is now (after updating them)."""
    zh = Path(zh).resolve()
    if zh.suffix == ".md":
        have = zh_md_sections(zh.read_text(encoding="utf-8"))
        apply(zh, {k: have[int(k)][2] for k in keys})
    else:
        by_id = {c.get("id"): c for c in _nb(zh)["cells"]}
        apply(zh, {k: _src(by_id[k]) for k in keys})


def check(root: Path = ROOT) -> list[str]:
    """Every way the Chinese edition is behind or out of shape, one message per problem."""
    problems = []
    for en in english_pages():
        rel = en.relative_to(ROOT)
        zh = root / LANG / rel
        if not zh.exists():
            problems.append(f"{rel}: no translation ({LANG}/{rel}); run `python tools/translation.py "
                            f"skeleton {rel}`")
            continue
        if en.suffix == ".md":
            sections = md_sections(en.read_text(encoding="utf-8"))
            have = zh_md_sections(zh.read_text(encoding="utf-8"))
            for i, (heading, body) in enumerate(sections):
                if i not in have:
                    problems.append(f"{rel}: section {i} {heading or '(top)'} is missing")
                elif have[i][1] == "todo":
                    problems.append(f"{rel}: section {i} {heading or '(top)'} is not translated yet")
                elif have[i][1] != sha(body):
                    problems.append(f"{rel}: section {i} {heading or '(top)'} changed in English "
                                    "after its translation: update it, then `stamp`")
                else:
                    problems += structure_problems(f"{rel}: section {i}", front_matter(body)[1], have[i][2])
            extra = sorted(set(have) - set(range(len(sections))))
            if extra:
                problems.append(f"{rel}: sections {extra} no longer exist in English")
            continue
        en_cells, zh_cells = _nb(en)["cells"], _nb(zh)["cells"]
        shape = [[(c.get("id"), c["cell_type"]) for c in cells] for cells in (en_cells, zh_cells)]
        if shape[0] != shape[1]:
            problems.append(f"{rel}: the cells differ from the English notebook's (ids, types or order)")
            continue
        for i, (e, z) in enumerate(zip(en_cells, zh_cells, strict=True)):
            if e["cell_type"] == "code":
                if _src(e) != _src(z) or e.get("metadata", {}) != z.get("metadata", {}):
                    problems.append(f"{rel}: code cell {e.get('id')} differs from the English one")
                continue
            if e["cell_type"] != "markdown":
                continue
            rec = z.get("metadata", {}).get("translation", {})
            where = f"{rel}: cell {e.get('id')} under {_heading_of(en_cells, i)}"
            if rec.get("status") != "done":
                problems.append(f"{where} is not translated yet")
            elif rec.get("source_sha256") != sha(_src(e)):
                problems.append(f"{where} changed in English after its translation: update it, then "
                                f"`python tools/translation.py stamp {LANG}/{rel} {e.get('id')}`")
            else:
                problems += structure_problems(where, _src(e), _src(z))
    return problems


def status() -> list[str]:
    out = []
    for en in english_pages():
        rel = en.relative_to(ROOT)
        zh = ROOT / LANG / rel
        if not zh.exists():
            out.append(f"{rel}: -")
            continue
        if en.suffix == ".md":
            have = zh_md_sections(zh.read_text(encoding="utf-8"))
            done = sum(1 for _, h, _ in have.values() if h != "todo")
            out.append(f"{rel}: {done}/{len(md_sections(en.read_text(encoding='utf-8')))} sections")
        else:
            cells = [c for c in _nb(zh)["cells"] if c["cell_type"] == "markdown"]
            done = sum(c.get("metadata", {}).get("translation", {}).get("status") == "done" for c in cells)
            out.append(f"{rel}: {done}/{len(cells)} markdown cells")
    return out


#: the zh build's output (Jupyter Book writes <this>/_build/html; `make book` copies it to
#: _build/html/zh/, so every Chinese page sits at the English page's path under zh/)
ZH_OUT = ROOT / "_build" / "zh"
#: the zh PDF's author line (the licence names "the m2d book contributors" in English)
ZH_AUTHOR = "m2d 图书贡献者"
#: added to the English LaTeX preamble after \usepackage{xeCJK}: fake bold and slant (WenQuanYi
#: Zen Hei has neither face) and LaTeX's own names in Chinese. Sphinx's sphinxmessages.sty already
#: translates Sphinx's strings (图, 表, 接上页...); babel stays English (it has no Chinese), so its
#: names are set at \begin{document}, after babel and sphinx-jupyterbook-latex (which sets
#: \contentsname after this preamble). Chapters read 第 3 章 (\@chappos, as Sphinx does for
#: Japanese: the running footers use it too), parts 第二部分.
ZH_LATEX_PREAMBLE = r"""\usepackage{etoolbox}
\xeCJKsetup{AutoFakeBold=2.5, AutoFakeSlant=0.2}
\AtBeginDocument{\renewcommand{\contentsname}{目录}\renewcommand{\indexname}{索引}%
  \renewcommand{\bibname}{参考文献}\renewcommand{\chaptername}{第}%
  \renewcommand{\appendixname}{附录}\renewcommand{\listfigurename}{插图}%
  \renewcommand{\listtablename}{表格}}
\makeatletter
\def\@chappos{章\quad}% xeCJK drops the footer's \space between 章 and a Chinese title
\renewcommand{\DOCH}{\raggedleft\CNV\FmN{\@chapapp}\space\CNoV\thechapter
  \space\CNV\FmN{章}\par\nobreak\vskip 40\p@}
\renewcommand{\thepart}{\ifcase\value{part}\or 一\or 二\or 三\or 四\or 五\or 六\or 七\or 八\or 九\fi}
\def\theHpart{\arabic{part}}
% the class's \@part, as nameref keeps it (hyperref's \@part calls it)
\patchcmd{\NR@part}{\partname\nobreakspace\thepart}{第\thepart 部分}{}
  {\PackageWarning{m2d}{the part headings could not be put in Chinese}}
\makeatother
"""
#: the zh PDF's title and copyright page (the English one's content, in Chinese)
ZH_LATEX_MAKETITLE = r"""\sphinxmaketitle
\thispagestyle{empty}\null\vfill
\begin{flushleft}\small
\textbf{从马尔可夫到扩散}——交互式图书的 PDF 版（中文版）。\par\medskip
版权所有 \copyright\ 2026 The m2d book contributors（m2d 图书贡献者）。\par\medskip
文字与图表：知识共享 署名-相同方式共享 4.0 国际许可协议
（CC BY-SA 4.0，\url{https://creativecommons.org/licenses/by-sa/4.0/}）。
代码：MIT 许可证。第三方材料（music21 语料库、TimGM6mb SoundFont 音色库、随书附带的
JavaScript）沿用各自的许可协议：见“许可协议与引用方式”一章。
\par\medskip
声音、附有 MIDI 与 MusicXML 文件的乐谱以及交互式图形都在 HTML 版中；本版印出每一幅图，
并注明播放其余内容的页面。英文版 PDF：from-markov-to-diffusion.pdf。
\end{flushleft}
\clearpage
"""


def zh_config() -> Path:
    """Write the Chinese edition's Jupyter Book configuration, derived from ``_config.yml`` so the
    two cannot drift: the same Sphinx settings with the source folder ``zh/`` (paths made absolute),
    Chinese language and title, the English build's execution cache (the notebooks' code cells are
    identical, so every chapter is found executed there), and the JavaScript the English build
    vendors at the HTML root (one level up from ``zh/``) instead of a second copy.

    Returns:
        path (Path): ``_build/zh/_config.yml``
    """
    import yaml

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cfg["title"] = "从马尔可夫到扩散"
    cfg["exclude_patterns"] = [".*", "**/.ipynb_checkpoints", "_build"]
    cfg["execute"]["cache"] = str(ROOT / "_build" / ".jupyter_cache")
    cfg["bibtex_bibfiles"] = [str(ROOT / b) for b in cfg["bibtex_bibfiles"]]
    cfg["repository"]["path_to_book"] = LANG
    sphinx = cfg["sphinx"]
    sphinx["local_extensions"] = {k: str(ROOT / v) for k, v in sphinx["local_extensions"].items()}
    conf = sphinx["config"]
    conf["language"] = "zh_CN"
    conf["html_static_path"] = [str(ROOT / "_static")]
    # Jupyter Book links the stylesheets of <source>/_static itself; the source here is zh/
    conf["html_css_files"] = sorted(p.name for p in (ROOT / "_static").glob("*.css"))
    conf["html_extra_path"] = []  # MathJax, require.js, the widget manager: the English build's copy
    # the figures' Chinese forms (m2d.plotting.figure_zh) before their English twins: in HTML after
    # text/html (a frame player stays a player), in LaTeX the vector form first
    conf["nb_mime_priority_overrides"] = [["html", "image/x-m2d-zh+png", 45],
                                          ["latex", "application/x-m2d-zh+pdf", 5],
                                          ["latex", "image/x-m2d-zh+png", 15]]
    conf["mathjax_path"] = "../../mathjax/tex-chtml.js"
    conf["html_js_files"] = ["../" + f for f in conf["html_js_files"]]
    cfg["latex"]["latex_documents"] = {"targetname": "from-markov-to-diffusion-zh.tex"}
    cfg["author"] = ZH_AUTHOR
    latex = conf["latex_elements"]
    # the English preamble (xeCJK, WenQuanYi Zen Hei, the Z12 stand-in, unnumbered sections) with
    # xeCJK's fake bold and slant before the fonts are set: the font has neither face, and the
    # Chinese headings, theorem titles and emphasis would print in the regular face
    assert "\\usepackage{xeCJK}\n" in latex["preamble"], "the English preamble no longer loads xeCJK"
    latex["preamble"] = latex["preamble"].replace(
        "\\usepackage{xeCJK}\n", "\\usepackage{xeCJK}\n" + ZH_LATEX_PREAMBLE, 1)
    latex["maketitle"] = ZH_LATEX_MAKETITLE
    # sphinx-proof's "Proof Index" (its labels, thm-stationary...: nothing for a reader) has no
    # Chinese title: the zh PDF ends with the references
    conf["latex_domain_indices"] = False
    ZH_OUT.mkdir(parents=True, exist_ok=True)
    path = ZH_OUT / "_config.yml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "skeleton":
        for a in args:
            print(skeleton(ROOT / a).relative_to(ROOT))
    elif cmd == "apply":
        print(", ".join(apply(ROOT / args[0], json.loads(Path(args[1]).read_text(encoding="utf-8")))))
    elif cmd == "stamp":
        stamp(ROOT / args[0], args[1:])
    elif cmd == "check":
        problems = check()
        print("\n".join(problems) or "the Chinese edition is in step with the English one")
        return 1 if problems else 0
    elif cmd == "punctuate":  # full-width punctuation in pieces already translated
        for a in args:
            zh = ROOT / a
            if zh.suffix == ".md":
                have = zh_md_sections(zh.read_text(encoding="utf-8"))
                write_md(ROOT / zh.relative_to(ROOT / LANG),
                         zh, {i: (h, cjk_punctuation(t)) for i, (_, h, t) in have.items()})
            else:
                nb = _nb(zh)
                for c in nb["cells"]:
                    if c["cell_type"] == "markdown" and \
                            c.get("metadata", {}).get("translation", {}).get("status") == "done":
                        c["source"] = cjk_punctuation(_src(c)).splitlines(keepends=True)
                _write_nb(zh, nb)
    elif cmd == "config":
        print(zh_config().relative_to(ROOT))
    elif cmd == "status":
        print("\n".join(status()))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
