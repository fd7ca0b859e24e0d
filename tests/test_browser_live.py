"""Part II's live attention explorer in the published book: chapter 2 (in both editions) opened from
``file://`` with the network blocked, the live switch pressed, a melody typed, and the page's
numbers -- computed by the exported Transformer in ONNX Runtime Web -- compared with the Python
library's on the same melody.

The runtime (``ort/ort-live.js``) must not be loaded before the press. Uses the session's Chromium
(``conftest.browser``) and the built book (``test_browser.book``: built when missing or stale).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_browser import Visit, book  # noqa: F401  (the built-book fixture)

from m2d import i18n
from m2d.widgets.attention import parse_melody

CHAPTER = "notebooks/02_attention.html"
#: The Chinese edition (zh/) shares the English build's vendored scripts at the HTML root.
EDITIONS = ["", "zh/"]
#: Chosen to exercise the parser: sharps and flats, names without octave (voiced near the previous
#: note), commas, a leap; 23 notes, so 24 positions (relative distances stay inside max_rel).
MELODY = "E4 G A, G E C D E F# G Bb4 A G F E D C B3 C4 E G C5 B4"
ATOL = 1e-4


def _updates(page) -> int:
    return int(page.evaluate("document.querySelector('.m2d-attn-live').dataset.liveUpdates || '0'"))


def _wait_update(page, after: int, timeout: float = 60_000) -> None:
    page.wait_for_function(
        f"() => {{ const r = document.querySelector('.m2d-attn-live');"
        f" return +(r.dataset.liveUpdates || 0) > {after} || r.dataset.live === 'failed'; }}",
        timeout=timeout)
    assert page.evaluate("document.querySelector('.m2d-attn-live').dataset.live") == "ready", \
        page.inner_text(".m2d-attn-live-status")


def _state(page) -> dict:
    return page.evaluate("() => { const id = document.querySelector('.m2d-attn-live').id;"
                         " const s = Object.assign({}, window.m2dLive.attention[id]);"
                         " delete s.ort; return s; }")


@pytest.fixture(scope="module")
def transformer(bach_split):
    from m2d.models import transformer

    model, _ = transformer.book_model(bach_split, progress=False)
    return model.eval()


@pytest.mark.parametrize("edition", EDITIONS)
def test_live_attention_matches_the_library(book, browser, transformer, edition):  # noqa: F811
    from m2d.models import export
    from m2d.models.melody_lm import next_distributions
    from m2d.models.transformer import attention_maps

    path = book / edition / CHAPTER
    if edition and not path.exists():
        pytest.skip(f"{edition} edition not built")
    assert "m2d-attn-live" in path.read_text(errors="replace"), "chapter 2 has no live explorer"
    v = Visit(browser, path)
    page = v.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    # before the press: no runtime, no model, no script naming them
    assert page.evaluate("() => window.m2dOrt === undefined && window.M2D_MODELS === undefined")
    srcs = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(Boolean)")
    assert not [s for s in srcs if "ort-live" in s or "/models/" in s], srcs
    assert page.locator(".m2d-attn-live-body").is_hidden()

    page.check(".m2d-attn-live-switch")
    _wait_update(page, 0)
    assert any(u.endswith("/ort/ort-live.js") for u in requested), requested
    assert any("/models/music-transformer-" in u for u in requested), requested
    assert all(u.startswith(("file://", "data:", "blob:")) for u in requested), requested

    # typing in the live part leaves the precomputed frames alone (it sits inside their player)
    player = page.locator(".m2d-frames:has(.m2d-attn-live)")
    assert player.count() == 1
    shown = (player.get_attribute("data-state"), player.locator("img").first.get_attribute("src"))
    n = _updates(page)
    page.fill(".m2d-attn-live-text", MELODY)
    _wait_update(page, n)
    assert (player.get_attribute("data-state"),
            player.locator("img").first.get_attribute("src")) == shown
    s = _state(page)
    midi = parse_melody(MELODY)
    assert s["midi"] == midi.tolist()
    pcs = np.mod(midi, 12)
    T = pcs.size + 1
    L, H = transformer.cfg.n_layers, transformer.cfg.n_heads
    assert s["dims"] == [1, L, H, T, T]
    page_att = np.asarray(s["attention"]).reshape(L, H, T, T)
    lib_att = np.stack(attention_maps(transformer, (pcs, np.ones(pcs.size)), append_end=True))
    np.testing.assert_allclose(page_att, lib_att, atol=ATOL, rtol=0)
    logits = export.torch_outputs(transformer, export.melody_inputs(pcs))["logits"][0]
    np.testing.assert_allclose(np.asarray(s["logits"]).reshape(T, 12), logits, atol=ATOL, rtol=0)
    nxt = next_distributions(transformer, (np.r_[pcs, 0], np.ones(pcs.size + 1)))
    np.testing.assert_allclose(s["probs"], nxt[-1], atol=ATOL)
    assert len(s["continuation"]) == 8 and all(55 <= m <= 81 for m in s["continuation"])
    maps = page.locator(".m2d-attn-live-maps canvas")
    assert maps.count() == L * H
    lang = "zh" if edition else "en"  # the Chinese page shows m2d.i18n's words
    assert ("第 0 层第 0 个头" if edition else "layer 0, head 0") in maps.first.get_attribute("aria-label")

    # a bad token: parse_melody's message beside the box, the text and the last maps kept
    n = _updates(page)
    page.fill(".m2d-attn-live-text", "C4 D4 H4")
    page.wait_for_timeout(300)
    with pytest.raises(ValueError) as exc:
        parse_melody("C4 D4 H4")
    assert page.inner_text(".m2d-attn-live-error").strip() == i18n.translate(f"\u26a0 {exc.value}", lang)
    assert page.input_value(".m2d-attn-live-text") == "C4 D4 H4"
    assert _updates(page) == n and _state(page)["midi"] == midi.tolist()
    page.fill(".m2d-attn-live-text", "C4")
    page.wait_for_timeout(200)
    two = "至少输入两个音符" if edition else "at least two notes"
    assert two in page.inner_text(".m2d-attn-live-error")

    # the same seed gives the same continuation; a new seed is drawn afresh
    page.fill(".m2d-attn-live-text", MELODY)
    _wait_update(page, n)
    assert page.inner_text(".m2d-attn-live-error").strip() == ""
    assert _state(page)["continuation"] == s["continuation"]
    # the melody and its continuation are heard: the note bank loads, Web Audio starts a buffer
    page.click(".m2d-attn-live-play")
    page.wait_for_function("() => window.m2dLive.lastSound", timeout=20_000)
    sound = page.evaluate("() => window.m2dLive.lastSound")
    assert sound["started"] and sound["peak"] > 0.1
    assert sound["seconds"] == pytest.approx((len(s["midi"]) + len(s["continuation"])) * 0.5, abs=1e-3)
    assert not v.errors, f"console errors: {v.errors[:5]}"
    assert not v.blocked, v.blocked
    v.page.close()
