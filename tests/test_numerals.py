"""Numbers in the prose come from the executed output (issue 14): a numeral with three or more
significant digits in a Markdown cell or a prose page must be glued (``{glue:text}`name```,
:func:`m2d.tables.glue`) unless it is a constant of the page, listed below with its reason.
Years, the page's block numbers (Definition 21.12) and code spans are not results and are skipped."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
# the Chinese edition (issue 17) types no number either
SOURCES += sorted((ROOT / "zh" / "notebooks").glob("*.ipynb")) + sorted((ROOT / "zh" / "book").glob("*.md"))

#: Constants of the page and of the book's set-up (not measurements): number -> why it may be typed.
ALLOWED = {
    "10.5": "music21's version (licences page)", "5.15": "Font Awesome's version (licences page)",
    "4.14": "axe-core's version (licences page)", "1.30": "onnxruntime-web's version (licences page)",
    "22050": "sample rate of the book's audio (Hz)", "1024": "STFT size", "256": "STFT hop, "
    "LSTM state size, codebook size K, test patches scored", "513": "STFT bins, 1 + 1024/2",
    "255": "levels of an 8-bit pixel", "4096": "64 x 64 values of a patch; longest sequence "
    "simulated", "512": "largest d_k simulated", "4000": "rows simulated per d_k",
    "4001": "grid points of the numerical posterior", "0.995": "EMA decay (configuration)",
    "0.999": "cosine schedule's beta cap", "0.99995": "sqrt(1 - 10^-4), Example 21.2's first step",
    "999": "steps 2..1000 of the ELBO sum", "125": "5^3 continuations of Example 21.1",
    "128": "patches in the ELBO estimate (configuration)", "2.03": "12^16 * 11 / 10^18, "
    "Proposition 21.1", "2.028": "e^(1/sqrt 2), worked attention example", "5.056": "1 + 2 e^(1/sqrt 2)",
    "0.198": "1 / 5.056", "0.401": "2.028 / 5.056", "1.414": "sqrt 2", "0.707": "1 / sqrt 2",
    "371": "Bach chorales in music21's corpus (its documentation)",
}
NUMERAL = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?![\w])")
SKIP = [
    re.compile(r"\{(?:glue|cite|prf|ref|numref|doc|download)[a-z:]*\}`[^`]*`"),  # roles
    re.compile(r"^```\{[^}]*\}.*$", re.M),  # directive lines (block titles carry the page's numbers)
    re.compile(r"^:[a-z-]+:.*$", re.M),  # directive options
    re.compile(r"`[^`]*`"),  # code spans
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"(?:Definitions?|Theorems?|Propositions?|Lemmas?|Examples?|Def\.|Thm\.?|EP|定义|定理|命题|引理|例"
               r"|推论|练习)\s*"
               r"\d+(?:\.\d+)*(?:[–-]\d+(?:\.\d+)*)?"),  # numbered items named in text
    re.compile(r"\d+\s*\d{3}(?:\s\d{3})+|\d+(?:\\,\d{3})+"),  # exact big integers written in groups
    re.compile(r"\b(?:1[5-9]|20)\d\d\b"),  # years
]


def significant_digits(token: str) -> int:
    t = token.replace(",", "")
    if "." in t:
        whole, frac = t.split(".")
        return len((whole.lstrip("0") + frac) if whole.strip("0") else frac.lstrip("0"))
    return len(t.strip("0")) or 1


def typed_numerals(text: str) -> list[str]:
    for pattern in SKIP:
        text = pattern.sub(" ", text)
    return [m for m in NUMERAL.findall(text)
            if significant_digits(m) >= 3 and m.replace(",", "") not in ALLOWED]


def prose(path: Path) -> list[tuple[str, str]]:
    if path.suffix == ".md":
        return [("page", path.read_text())]
    nb = json.loads(path.read_text())
    return [(f"cell {i}", "".join(c["source"])) for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "markdown"]


def test_the_scanner_flags_results_and_spares_constants():
    assert typed_numerals("the model reaches 2.472 bits per note") == ["2.472"]
    assert typed_numerals("about 0.18 to 0.29") == []  # two significant digits
    assert typed_numerals("{glue:text}`bits:.3f` bits; Definition 21.12; in 1957; `x = 123`") == []
    assert typed_numerals("an STFT of 1024 samples and 797 test patches") == ["797"]
    assert significant_digits("0.00123") == 3 and significant_digits("1,200") == 2


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_prose_numbers_are_glued(path):
    found = [(where, n) for where, text in prose(path) for n in typed_numerals(text)]
    assert not found, (f"{path.name}: numbers typed into the prose {found[:8]}; glue them "
                       "(m2d.tables.glue + {glue:text}) or, if a constant, add them to ALLOWED")
