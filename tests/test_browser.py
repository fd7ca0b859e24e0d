"""The published book as readers meet it: every page in a real browser (Debian's Chromium driven by
Playwright), offline, plus the static widget counterparts driven like a reader would.

The book is built first if `_build/html` is missing or older than its sources (`make book`).
Screenshots of every page are kept in `_build/screenshots/` as test artifacts.
"""

from __future__ import annotations

import html
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

#: a Chinese character (the Chinese edition's text)
_CJK = re.compile(r"[\u4e00-\u9fff]")

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
SOURCES = ["book", "notebooks", "src", "_static", "_config.yml", "_toc.yml"]


def _newest_source() -> float:
    times = []
    for s in SOURCES:
        p = ROOT / s
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        times += [f.stat().st_mtime for f in files if "__pycache__" not in f.parts]
    return max(times)


@pytest.fixture(scope="session")
def book() -> Path:
    index = HTML / "index.html"
    if not index.exists() or index.stat().st_mtime < _newest_source():
        subprocess.run(["make", "book"], cwd=ROOT, check=True)
    return HTML


def pages(root: Path) -> list[Path]:
    """Every page of both editions: the English book and the Chinese one under zh/ (issue 17)."""
    out = []
    for edition in (root, root / "zh"):
        out += sorted((edition / "book").glob("*.html")) + sorted((edition / "notebooks").glob("*.html"))
        out += [edition / "genindex.html", edition / "search.html"]
    return out


class Visit:
    """Open one page with every non-local request blocked and recorded."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1300, "height": 1000})
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.failed: list[str] = []

        def route(r):
            url = r.request.url
            if url.startswith(("file://", "data:", "blob:")):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_timeout(300)

    def wait_for_math(self) -> None:
        self.page.wait_for_function(
            "() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=20_000)
        self.page.evaluate("() => window.MathJax && MathJax.startup.promise")


def expected_pages() -> list[str]:
    """The pages the sources produce, known before the build (on a fresh clone ``_build/html`` does
    not exist yet when pytest collects the tests, and every chapter must still be visited)."""
    english = ([f"book/{p.stem}.html" for p in sorted((ROOT / "book").glob("*.md"))]
               + [f"notebooks/{p.stem}.html" for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
               + ["genindex.html", "search.html"])
    return english + ["zh/" + p for p in english]  # every English page has its Chinese counterpart


def test_every_source_page_is_built(book):
    assert sorted(expected_pages()) == sorted(str(p.relative_to(book)) for p in pages(book))


@pytest.mark.parametrize("name", expected_pages())
def test_page_offline_math_images_audio(book, browser, name):
    path = book / name
    v = Visit(browser, path)
    v.wait_for_math()
    pg = v.page
    assert not v.blocked, f"requests leaving the page: {v.blocked[:5]}"
    assert not v.failed, f"failed requests: {v.failed[:5]}"
    # MathJax rendered: math elements exist only as typeset containers, no raw TeX in the text
    n_math = pg.evaluate("() => document.querySelectorAll('.math').length")
    if n_math:
        assert pg.evaluate("() => document.querySelectorAll('mjx-container').length") >= n_math
    text = pg.evaluate("() => document.querySelector('main, .bd-main, body').innerText")
    assert "$$" not in text and "\\begin{" not in text and "\\frac" not in text
    # every image loaded
    broken = pg.evaluate("""() => Array.from(document.images)
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.alt || i.src).slice(0, 80))""")
    assert not broken, f"images that did not load: {broken}"
    # no line of a code cell is cut off (the cells keep to 88 columns; m2d.css sizes the font)
    cut = pg.evaluate("""() => Array.from(document.querySelectorAll('div.cell_input pre'))
        .filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => e.innerText.split('\\n')[0].slice(0, 60))""")
    assert not cut, f"code cells cut off in a {pg.viewport_size['width']} px window: {cut[:3]}"
    # every audio player loads, with a positive duration
    durations = pg.evaluate("""() => Promise.all(Array.from(document.querySelectorAll('audio')).map(a =>
        new Promise(res => {
          if (a.readyState >= 1) return res(a.duration);
          a.addEventListener('loadedmetadata', () => res(a.duration));
          a.addEventListener('error', () => res(-1));
          setTimeout(() => res(a.readyState >= 1 ? a.duration : -2), 10000);
          a.load();
        })))""")
    assert all(d > 0 for d in durations), f"audio durations {durations}"
    # no dead controls: outside the frame players (driven in the next test) and the live widgets
    # (driven by tests/test_live_*.py) the article has only the theme's copy and toggle buttons;
    # no ipywidget view was frozen into the page
    dead = pg.evaluate("""() => Array.from(document.querySelectorAll(
        'article input, article select, article textarea, article button, article [role=slider]'))
        .filter(e => !e.closest('.m2d-frames, [data-m2d-live]') && !e.matches('.copybtn, .toggle-button'))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert not dead, f"controls that do nothing in the static page: {dead[:3]}"
    assert pg.evaluate("() => document.querySelectorAll('.jupyter-widgets, .widget-area').length") == 0
    assert not pg.evaluate("""() => Array.from(document.querySelectorAll('article .cell_output'))
        .filter(e => /\\d+%\\|[^|]*\\|\\s*\\d+\\/\\d+/.test(e.innerText)).length"""), "progress bar"
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / (name.replace("/", "_").removesuffix(".html") + ".png")), full_page=True)
    assert not v.errors, f"console errors: {v.errors[:5]}"
    pg.close()


def test_score_downloads_open_offline_and_reopen_with_the_same_notes(book, browser):
    """Every score player's MIDI and MusicXML links load in the page with the network blocked, and
    the files they give parse back to the notes of the score they sit under."""
    import base64

    from m2d import notation

    found = 0
    for path in pages(book):
        if "m2d-score" not in path.read_text(encoding="utf-8"):
            continue
        v = Visit(browser, path)
        links = v.page.eval_on_selector_all("figure.m2d-score a[download]", """els => els.map(e =>
            [e.getAttribute('download'), e.href])""")
        sizes = v.page.evaluate("""async hrefs => Promise.all(hrefs.map(async h =>
            (await (await fetch(h)).arrayBuffer()).byteLength))""", [h for _, h in links])
        assert all(n > 100 for n in sizes), f"{path.name}: download links that do not load: {sizes}"
        by_name: dict[str, dict[str, list]] = {}
        for name, href in links:
            data = base64.b64decode(href.split(",", 1)[1])
            stem, kind = name.rsplit(".", 1)
            by_name.setdefault(stem, {})[kind] = notation.notes_of(
                data if kind == "mid" else data.decode("utf-8"))
        for stem, files in by_name.items():
            assert set(files) == {"mid", "musicxml"}, f"{stem}: {sorted(files)}"
            assert files["mid"] == files["musicxml"] and files["mid"][0], stem
            found += 1
        v.page.close()
    assert found >= 2, "expected the chapters' score players (MIDI + MusicXML downloads)"


def test_static_widget_counterparts_respond(book, browser):
    """Every frame player changes its picture (and its sound, where it has one) when driven."""
    found = 0
    for path in pages(book):
        if "m2d-frames" not in path.read_text(errors="replace"):
            continue
        v = Visit(browser, path)
        roots = v.page.locator(".m2d-frames")
        for i in range(roots.count()):
            r = roots.nth(i)
            has_audio = r.locator("audio").count() > 0

            def state(r=r, has_audio=has_audio):
                return (r.locator("img").get_attribute("src"),
                        r.locator("audio").get_attribute("src") if has_audio else None)

            controls = r.locator("[data-param]")
            for c in range(controls.count()):  # every control does something, not only the last
                control = controls.nth(c)
                name = control.get_attribute("data-param")
                before = state()
                if control.evaluate("e => e.tagName") == "SELECT":
                    options = control.locator("option").all_text_contents()
                    current = control.evaluate("e => e.options[e.selectedIndex].text")
                    control.select_option(next(o for o in reversed(options) if o != current))
                else:
                    end = "min" if control.input_value() == control.get_attribute("max") else "max"
                    control.fill(control.get_attribute(end))
                    control.dispatch_event("input")
                after = state()
                where = f"{path.name} player {i}, control {name!r}"
                # a control may leave the sound alone (the schedule at t = 0), never everything
                assert after != before, f"{where}: neither picture nor sound changed"
                if before[1]:
                    assert after[1], f"{where}: the sound disappeared"
                    dur = r.locator("audio").evaluate("""a => new Promise(res => {
                        if (a.readyState >= 1) return res(a.duration);
                        a.addEventListener('loadedmetadata', () => res(a.duration));
                        setTimeout(() => res(-1), 10000); })""")
                    assert dur > 0
            if "zh" in path.relative_to(book).parts[:1]:  # the Chinese edition's words (m2d.i18n)
                words = [r.locator(".m2d-ftitle").inner_text(), r.locator(".m2d-caption").inner_text()]
                assert all(_CJK.search(w) for w in words), f"{path.name} player {i}: {words}"
            found += 1
        assert not v.errors, v.errors[:5]
        v.page.close()
    assert found >= 2, "expected the static counterparts of the signature widgets"


def test_chinese_tables_have_chinese_labels(book):
    """The zh build translates the library's printed tables: no header or row label it has a term
    for is left in English, and most headers are Chinese."""
    from m2d import i18n

    headers, english = 0, []
    for path in sorted((book / "zh" / "notebooks").glob("*.html")):
        text = path.read_text(errors="replace")
        for out in re.findall(r'<div class="cell_output docutils container">(.*?)</div>\s*</div>', text,
                              re.S):
            for table in re.findall(r"<table.*?</table>", out, re.S):
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table, re.S):
                    s = html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                    if i18n.TABLE_TERMS.get(s, s) != s:  # a label with Chinese words, left English
                        english.append(f"{path.name}: {s}")
                for cell in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S):
                    headers += bool(_CJK.search(cell))
    assert not english, english[:10]
    assert headers >= 40


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(errors="replace"))
    return p


def test_internal_links_resolve(book):
    """Every relative link points at a file of the build, and every #anchor exists there."""
    bad = []
    cache: dict[Path, _Links] = {}
    for path in pages(book):
        for href in _parse(path).hrefs:
            u = urlsplit(href)
            if u.scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(u.path)).resolve() if u.path else path
            if not target.exists():
                bad.append(f"{path.name}: {href}")
                continue
            if u.fragment and target.suffix == ".html":
                ids = cache.setdefault(target, _parse(target)).ids
                if u.fragment not in ids:
                    bad.append(f"{path.name}: {href} (no anchor)")
    assert not bad, bad[:10]


def test_no_cdn_references_in_scripts(book):
    """Scripts and stylesheets all come from the build itself, and no inline script names a remote
    script either (the disabled Thebe loader used to); no progress bar is frozen into a page."""
    for path in pages(book):
        html = path.read_text(errors="replace")
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        assert not remote, f"{path.name}: {remote}"
        inline = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
        named = [u for body in inline for u in re.findall(r"https?://[^\s\"']+\.m?js", body)]
        assert not named, f"{path.name}: inline scripts load {named}"
        assert "thebe" not in html.lower(), f"{path.name}: Thebe is off, but the page loads it"
        bars = re.findall(r"\d+%\|[^|<]*\|\s*\d+/\d+", html)  # tqdm's "40%|####  | 4/10"
        bars += re.findall(r'"_model_name":\s*"(?:Int|Float)ProgressModel"', html)  # its widget
        assert not bars, f"{path.name}: progress bars frozen into the page: {bars[:2]}"


PAGE_BUDGET_MB = 4.0  # "a few MB at most" per page: the HTML (with its embedded sounds and frame
# players) plus its own images; the shared JavaScript/CSS is cached by the browser across pages


def page_weight(path: Path) -> tuple[int, int]:
    """(bytes of the HTML, bytes of the images it references from the build)."""
    html = path.read_text(errors="replace")
    images = set(re.findall(r'<img[^>]+src="([^"]+)"', html))
    files = {(path.parent / unquote(urlsplit(s).path)).resolve() for s in images if not s.startswith("data:")}
    return path.stat().st_size, sum(f.stat().st_size for f in files if f.is_file())


def test_page_weight_within_budget(book):
    sizes = {p.relative_to(book).as_posix(): page_weight(p) for p in pages(book)}
    report = ", ".join(f"{name} {(h + i) / 1e6:.1f} MB" for name, (h, i) in sizes.items() if h + i > 1e5)
    print(f"page weights: {report}")
    heavy = {name: round((h + i) / 1e6, 2) for name, (h, i) in sizes.items() if h + i > PAGE_BUDGET_MB * 1e6}
    assert not heavy, f"pages over {PAGE_BUDGET_MB} MB: {heavy}"


# Accessibility: axe-core (npm, pinned in package.json as a devDependency; read from node_modules,
# never fetched) injected into every page. axe's default rule set (WCAG 2.0/2.1/2.2 A and AA plus
# best practices, experimental rules off); a page fails on any violation axe rates serious or critical.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAIL = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """Run axe-core in ``page``; return its violations as dicts (id, impact, help, up to five
    offending elements as (CSS target, HTML snippet))."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` (package.json pins it)")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => [n.target.join(' '), n.html.slice(0, 160)]),
            count: v.nodes.length}));
    }""")


@pytest.mark.parametrize("name", expected_pages())
def test_page_passes_axe(book, browser, name):
    v = Visit(browser, book / name)
    v.wait_for_math()
    found = axe_violations(v.page)
    v.page.close()
    bad = [f"{x['impact']} {x['id']} ({x['count']}x): {x['help']}; e.g. {x['nodes'][:2]}"
           for x in found if x["impact"] in AXE_FAIL]
    assert not bad, f"{name}: axe-core found {len(bad)} serious/critical rule(s):\n" + "\n".join(bad)


@pytest.mark.parametrize("page, query, at_least", [("search.html", "stationary", 2),
                                                   ("zh/search.html", "马尔可夫", 3),
                                                   ("zh/search.html", "注意力", 3)])
def test_search_finds_pages_in_both_editions(book, browser, page, query, at_least):
    """Sphinx's search, offline, in each edition (the Chinese index is segmented into words by
    jieba: without it a query matched only identical runs of characters)."""
    v = Visit(browser, book / page)
    v.page.goto((book / page).as_uri() + "?q=" + query)
    v.page.wait_for_function("() => /\\d/.test((document.querySelector('#search-results p') || {}).innerText"
                             " || '')", timeout=20_000)
    found = v.page.evaluate("() => document.querySelectorAll('#search-results li').length")
    assert found >= at_least, f"{page}?q={query}: {found} pages"
    v.page.close()


def test_chinese_proofs_open_in_chinese(book):
    """sphinx-proof writes an English "Proof." before every proof; the zh build writes 证明：."""
    proofs = english = 0
    for path in sorted((book / "zh" / "notebooks").glob("*.html")):
        text = path.read_text(errors="replace")
        proofs += text.count("证明：")
        english += len(re.findall(r">\s*Proof\.\s", text)) + text.count("Proof. ")
    assert english == 0 and proofs >= 10, (english, proofs)


def test_chinese_figures_are_drawn_in_chinese(book):
    """The zh pages show the figures' Chinese forms (plotting.figure_zh), in the places where the
    English pages show the English ones: a different picture, whose alt text (read from it) is
    mostly Chinese; the English pages' pictures have no Chinese."""
    from m2d import plotting

    if plotting.cjk_font() is None:
        pytest.skip("no Chinese font: the Chinese edition keeps the English figures")

    def figures(path):
        return re.findall(r'<img[^>]+alt="(Figure[^"]*)"[^>]*src="([^"]+)"|<img[^>]+src="([^"]+)"[^>]*'
                          r'alt="(Figure[^"]*)"', path.read_text(errors="replace"))

    swapped = chinese = 0
    for en_page in sorted((book / "notebooks").glob("*.html")):
        en, zh = figures(en_page), figures(book / "zh" / "notebooks" / en_page.name)
        assert len(en) == len(zh), en_page.name
        for e, z in zip(en, zh, strict=True):
            swapped += (e[1] or e[2]) != (z[1] or z[2])
            chinese += bool(_CJK.search(z[0] or z[3]))
            assert not _CJK.search(e[0] or e[3]), f"{en_page.name}: a Chinese picture in English"
    assert swapped >= 45 and chinese >= 25, (swapped, chinese)
