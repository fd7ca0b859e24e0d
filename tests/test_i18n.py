"""The widgets' words in Chinese (m2d.i18n, issue 17): every rule is used by a text the book's
widgets show, a translated text keeps no English words but names and math, and the page's
JavaScript (live.translate) gives exactly what Python gives."""

import re

import pytest

from m2d import i18n, static
from m2d.widgets import _common

#: texts the book's widgets show (frame titles and captions, live widgets' labels and messages)
EXAMPLES = [
    "Transition-matrix editor (static version: presets x seeds)",
    "P^n explorer (static version: chains x n)",
    "One motif, three composers (static version: motifs x seeds)",
    "Attention of C, E and G (static version: move temperature; in Jupyter, Binder or Colab every "
    "number can be changed)",
    "The toy chain on {C, E, G}: P^n and pi (static version: move n; in Jupyter, Binder or Colab "
    "every number can be changed)",
    "One pixel under the forward process (static version: move t; in Jupyter, Binder or Colab "
    "every number can be changed)",
    "Attention explorer (static version: query 24 of melody 3: bwv148.6 (44 notes); every layer x head)",
    "Noise-schedule explorer (static version: schedule x t, T = 1000)",
    "44 notes; query row 24 is a probability vector: min entry 0.000526, sum 1.000000",
    "Bach-fitted, seed 3: C C D E E D D D C A F# G …",
    "Essen-fitted, seed 1: C D G E G F E G F F D E …",
    "Illiac-style, seed 2: C D E A C G A D C D G F …",
    "toy C-E-G, seed 1: C G G C G E G G G G C G …",
    "uniform, seed 2: C D# D# A C# G G# D C D# G F# …",
    "stepwise, seed 1: C C# D C# D D D D# D# D# D D# …",
    "rising triad (C4/8 E4/8 G4/4), seed 0: each section is the motif and one composer's 8 notes "
    "— Markov, then Transformer, then LSTM",
    "falling line (C5/4 B4/4 A4/4 G4/2), seed 1: each section is the motif and one composer's 8 "
    "notes — Markov, then Transformer, then LSTM",
    "dotted rhythm (E4/4. F4/8 G4/4 C5/4), seed 2: each section is the motif and one composer's 8 "
    "notes — Markov, then Transformer, then LSTM",
    "chorale opening (G4/4 G4/4 A4/4 B4/4), seed 0: each section is the motif and one composer's 8 "
    "notes — Markov, then Transformer, then LSTM",
    "n = 3: max |P^n - Monte Carlo| = 0.021 (standard error about 0.011)",
    "n = 3: ✓ stochastic; max |P^n - pi| over all entries = 2.78e-03",
    "t = 100: ✓ alpha_bar_t = 0.89702; mean sqrt(ab) x0 = 0.7168, std sqrt(1 - ab) = 0.3209; "
    "sample mean 0.7183, std 0.3196",
    "temperature = 0.5: ✓ every row sums to 1: [1.0, 1.0, 1.0]",
    "✓ ᾱ_t = 0.0786: x_t keeps 28.0% of the spectrogram's amplitude; noise std 0.960.",
    "seed", "preset", "temperature", "schedule", "head", "layer", "chain", "motif", "n", "t",
    "linear", "cosine",
    "Try it live: compute in your browser", "Hide the live version",
    "Try it live: generate in your browser (loads a 5 MB runtime and the 1.6 MB U-Net once)",
    "Transition-matrix editor, live in this page", "Noise-schedule explorer, live in this page",
    "Generate: DDIM with the trained U-Net, live in this page",
    "Attention explorer, live: the trained Transformer running in this page",
    " live: type a melody and run the trained Transformer in this page (loads a 5 MB runtime once)",
    "note names such as C4 D4 E4 G4 (quarter notes; a name without octave takes the octave nearest "
    "the previous note). Maps: query (rows, start token first) against key (columns), brighter = "
    "more weight, scaled per map.",
    "▶ play the melody and its continuation", "loading the runtime and the model…",
    "loading the runtime and the U-Net…", "model ready in 1.2 s", "layer 1, head 2",
    "attention map of layer 1, head 2: 9 positions (start token and 8 notes); the last note attends "
    "most to E4 at position 3 (41%)",
    "Next note: C 41%, G 20%, E 9% (percent of probability, pitch classes)",
    "the Transformer's next-note distribution after the melody: most likely C, G, E",
    "next-note distribution", "A continuation sampled by the model (seed 3): C4 D4 E4",
    "the live model could not start (could not load x.js); the precomputed frames above still work",
    "⚠ the model failed: out of memory", "⚠ sound: no audio device",
    "'H4' is not a note name (expected e.g. C, F#, Bb or C4)", "'C12' is outside the MIDI range 0..127",
    "type at least two notes, e.g. C4 D4 E4 G4", "100 notes: at most 96 please",
    "DDIM steps", "▶ generate and play", "sampling progress", "the generated spectrogram",
    "sampled in 0.6 s; turning it into sound…",
    "✓ 10 DDIM steps (η = 1) in 0.6 s, sound (16 Griffin-Lim iterations) in 0.2 s (model loaded "
    "in 1.1 s). Press again with another seed for a new one.",
    "✓ 20 DDIM steps (η = 1) in 1.1 s, sound (16 Griffin-Lim iterations) in 0.2 s. Press again "
    "with another seed for a new one.",
    "a new 64 mel bands × 1.49 s spectrogram drawn by the trained U-Net in this page (low bands at "
    "the bottom)",
    "β_T = 1.5 is outside (0, 1): a step must keep some signal and add noise.",
    "β₁ = 0.03 exceeds β_T = 0.02: the noise schedule must increase (Definition 21.8).",
    "T = 0: need at least one step.", "t = 1200 is outside 0..T = 0..1000: lower t or raise T.",
    "T = 2.5 is not a whole number.", "noise seed", "▶ play x_t", "signal and noise power against t",
    "signal and noise power", "the noised spectrogram x_t",
    "right: x_t, 64 mel bands (low at the bottom) × 1.5 s, colour from −1 (dark) to 1 (light)",
    "normalise rows", "▶ play melody", "transition matrix P: rows are the current note, columns the next",
    "piano roll of the sampled melody", "piano roll: C D E", "stationary distribution π",
    "stationary distribution: C 0.12, D 0.20", "stationary distribution",
    "✓ stochastic; entropy rate 2.31 bits/note", "32 notes sampled (eighth notes)",
    "⚠ entry (C -> D) = 'x' is not a number", "⚠ negative weight W[0, 1] = -0.5",
    "⚠ row 3 is all zeros; it cannot be normalised",
    "⚠ the chain is reducible with 2 closed classes {0, 1}, {2}: each has its own stationary "
    "distribution, so pi is not unique",
    "⚠ the stationary system is singular", "⚠ seed must be a whole number in 0..2147483647, got 'x'",
    "⚠ seed must be a whole number ≥ 0, got '-1'", "could not load models/unet.js",
    "this page is not part of the HTML book", "notes", "start", "tempo", "melody",
    "Bach-fitted", "Essen-fitted", "Illiac-style", "toy C-E-G", "uniform", "stepwise",
    "rising triad", "falling line", "dotted rhythm", "chorale opening",
]
#: words a Chinese text keeps: names, units and the symbols of the math
KEPT = {"Jupyter", "Binder", "Colab", "Markov", "Transformer", "LSTM", "Illiac", "bwv", "sqrt", "max",
        "alpha", "bar", "Monte", "Carlo", "DDIM", "Net", "Griffin", "Lim", "MIDI", "models", "unet",
        "out", "memory", "audio", "device", "HTML"}


def test_english_is_unchanged_and_languages_are_checked(monkeypatch):
    assert all(i18n.translate(s, "en") == s for s in EXAMPLES)
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.translate("seed", "fr")
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.set_lang("de")
    monkeypatch.setenv("M2D_LANG", "zh")
    assert i18n.get_lang() == "zh" and i18n.tr("seed") == "种子"
    i18n.set_lang("en")
    try:
        assert i18n.tr("seed") == "seed"
    finally:
        i18n.set_lang(None)
    monkeypatch.setenv("M2D_LANG", "xx")
    with pytest.raises(ValueError, match="'xx'"):
        i18n.get_lang()


@pytest.mark.parametrize("text", EXAMPLES)
def test_a_translation_keeps_no_english_words(text):
    zh = i18n.translate(text)
    left = [w for w in re.findall(r"[A-Za-z]{3,}", zh) if w not in KEPT]
    assert not left, f"{text!r} -> {zh!r} keeps {left}"
    assert i18n.translate(zh) == zh  # translating twice changes nothing (the page re-translates)


def test_every_rule_is_used_by_some_widget_text():
    full = [i18n.translate(s) for s in EXAMPLES]
    rules = list(i18n.RULES)
    try:
        for k in range(len(rules)):
            i18n.RULES[:] = rules[:k] + rules[k + 1:]
            i18n._compiled.cache_clear()
            assert [i18n.translate(s) for s in EXAMPLES] != full, f"rule {rules[k][0]!r} is never used"
    finally:
        i18n.RULES[:] = rules
        i18n._compiled.cache_clear()


def test_status_messages_follow_the_kernel_language():
    i18n.set_lang("zh")
    try:
        assert "随机矩阵；熵率 2.31 比特/音符" in _common.ok_html("stochastic; entropy rate 2.31 bits/note")
        assert "第 3 行全为零" in _common.error_html("row 3 is all zeros; it cannot be normalised")
    finally:
        i18n.set_lang(None)
    assert "row 3 is all zeros" in _common.error_html("row 3 is all zeros; it cannot be normalised")


def test_a_frame_player_carries_its_chinese_words():
    import json

    import numpy as np

    img = _tiny_png()
    frames = {(p, s): static.Frame(img, None, caption=f"{p}, seed {s}: C D E …")
              for p in ("Bach-fitted", "uniform") for s in (0, 1)}
    html = static.frame_player_html({"preset": ["Bach-fitted", "uniform"], "seed": [0, 1]}, frames,
                                    title="Transition-matrix editor (static version: presets x seeds)",
                                    sliders=("seed",))
    data = json.loads(re.search(r"<script type='application/json'>(.*?)</script>", html, re.S)
                      .group(1).replace("<\\/", "</"))
    zh = data["zh"]
    assert zh["title"] == "转移矩阵编辑器（静态版本：预设 × 种子）"
    assert zh["params"] == {"preset": "预设", "seed": "种子"}
    assert zh["values"]["preset"] == ["巴赫拟合", "均匀"]
    assert zh["captions"]["uniform|1"] == "均匀，种子 1：C D E …"
    assert set(zh["captions"]) == set(data["frames"])
    assert np.all([f"value='{v}'" in html for v in ("Bach-fitted", "uniform")])


def _tiny_png() -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_the_page_translates_as_the_library_does(browser, tmp_path):
    """The live editor in a Chinese page, from file://: live.translate equals m2d.i18n.translate on
    every example, and the widget's labels and messages (an error too, the edit kept) are Chinese."""
    from helpers import OfflinePage

    from m2d.widgets import markov as markov_widgets

    p = OfflinePage(browser, tmp_path, markov_widgets.editor_live().data, lang="zh-CN")
    pg = p.page
    got = pg.evaluate("(xs) => xs.map((s) => window.m2dLive.translate(s, 'zh'))", EXAMPLES)
    assert got == [i18n.translate(s) for s in EXAMPLES]
    assert pg.inner_text(".m2d-live-title") == "转移矩阵编辑器：在本页实时计算"
    pg.click(".m2d-live-on")
    assert pg.inner_text(".m2d-live-on") == "收起实时版本"
    labels = pg.eval_on_selector_all(".m2d-live-controls label",
                                     "ls => ls.map(l => l.firstChild.textContent)")
    assert [s.strip() for s in labels][:5] == ["预设", "种子", "音符数", "起始音", "速度"]
    cell = ".m2d-live-grid input[data-i='0'][data-j='1']"
    pg.fill(cell, "5")
    pg.dispatch_event(cell, "change")
    assert "随机矩阵；熵率" in pg.inner_text(".m2d-live-msg")
    pg.fill(cell, "-2")
    pg.dispatch_event(cell, "change")
    assert "负权重 W[0, 1] = -2" in pg.inner_text(".m2d-live-msg")
    assert pg.input_value(cell) == "-2"  # the reader's edit is kept
    p.close()


def test_kernel_widgets_take_the_kernel_language():
    import ipywidgets as W

    tree = W.VBox([W.IntSlider(description="seed"), W.HBox([W.Dropdown(options=["Bach-fitted"],
                                                                      description="preset")])])
    assert i18n.localize_widget(tree) is tree and tree.children[0].description == "seed"  # English
    i18n.set_lang("zh")
    try:
        i18n.localize_widget(tree)
    finally:
        i18n.set_lang(None)
    assert tree.children[0].description == "种子"
    assert tree.children[1].children[0].description == "预设"
    assert tree.children[1].children[0].value == "Bach-fitted"  # values are what the code reads
