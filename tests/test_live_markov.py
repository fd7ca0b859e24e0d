"""Part I's live transition-matrix editor (m2d.live, src/m2d/js/markov_editor.js) held equal to the
library: the JavaScript port runs in Debian's Chromium (a page written into tmp_path, opened from
file:// with every other request blocked) on matrices the test chooses, and its stationary
distribution, its error messages, its voicing and its sampling law are compared with m2d's. The
last test drives the editor in the built chapter itself.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from test_browser import book  # noqa: F401  (the built book, a fixture)

from m2d import audio, live, markov, pitch, soundfont
from m2d.widgets import markov as markov_widgets


def test_note_bank_is_the_soundfont_piano_note_by_note():
    bank = live.note_bank(low=60, high=62, seconds=0.25)
    assert bank.shape == (3, round(0.25 * audio.SR))
    for k, m in enumerate(range(60, 63)):
        one = soundfont.render([soundfont.NoteEvent(0.0, 0.25, m)], tail=0.0)
        np.testing.assert_allclose(bank[k], one, atol=1e-7)
        assert np.abs(bank[k]).max() == pytest.approx(0.8, abs=1e-6)
        # the note's pitch: the strongest partial in the spectrum is a harmonic of its frequency
        spec = np.abs(np.fft.rfft(bank[k] * np.hanning(bank.shape[1])))
        f0 = 440 * 2 ** ((m - 69) / 12)
        peak = np.argmax(spec) * audio.SR / bank.shape[1]
        assert min(abs(peak / f0 - h) for h in (1, 2, 3, 4)) < 0.06
    text = live.note_bank_js(bank, low=60)
    data = json.loads(text.split("noteBankData = ", 1)[1].rstrip(";\n"))
    pcm = np.frombuffer(base64.b64decode(data["pcm"]), dtype="<i2").reshape(3, -1)
    assert (data["low"], data["high"], data["length"]) == (60, 62, bank.shape[1])
    np.testing.assert_allclose(pcm / 32767, bank, atol=1 / 32767)


@pytest.mark.parametrize("bad, match", [(dict(low=-1), "low"), (dict(low=70, high=60), "high"),
                                        (dict(seconds=0.0), "seconds"), (dict(high=128), "high")])
def test_note_bank_refuses_bad_ranges(bad, match):
    with pytest.raises(ValueError, match=match):
        live.note_bank(**bad)


def test_widget_html_refuses_unknown_scripts_and_non_json_config():
    with pytest.raises(ValueError, match="name must be one of"):
        live.widget_html("markov.editor", {}, ["no_such_module"], title="x")
    with pytest.raises(ValueError, match="config must be finite JSON"):
        live.widget_html("markov.editor", {"x": float("nan")}, ["live_common"], title="x")
    html = live.widget_html("markov.editor", {"s": "</script><b>"}, ["live_common"], title="t")
    assert html.count("</script>") == 1  # the configuration cannot end the script early


@pytest.mark.parametrize("bad, match", [(dict(preset="nope"), "preset"), (dict(start="H"), "start"),
                                        (dict(length=4), "length"), (dict(tempo=500), "tempo"),
                                        (dict(seed=-1), "seed")])
def test_editor_live_refuses_bad_settings(bad, match):
    with pytest.raises(ValueError, match=match):
        markov_widgets.editor_live(**bad)


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    """The live editor alone in a page, from file://, with the book's note bank beside it."""
    from helpers import OfflinePage

    p = OfflinePage(browser, tmp_path_factory.mktemp("live"), markov_widgets.editor_live().data)
    yield p.page
    p.close()


def _js(page, expr: str, *args):
    return page.evaluate(f"(a) => {expr}", list(args))


def _random_matrices(rng, n=12, k=6):
    mats = [rng.dirichlet(np.full(n, a), size=n) for a in (0.05, 0.3, 1.0, 5.0)[:k]]
    sparse = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    sparse[np.arange(n), (np.arange(n) + 1) % n] += 0.5  # a cycle keeps it irreducible
    return mats + [markov.normalize_rows(sparse)]


def test_stationary_distribution_equals_the_library(page):
    rng = np.random.default_rng(21)
    matrices = [markov.normalize_rows(P) for P in markov_widgets.presets().values()]
    for P in matrices + _random_matrices(rng):
        pi_js = np.array(_js(page, "window.m2dLive.markov.stationary(a[0])", P.tolist()))
        np.testing.assert_allclose(pi_js, markov.MarkovChain(P).stationary, rtol=0, atol=1e-9)
        h_js = _js(page, "window.m2dLive.markov.entropyRate(a[0], a[1])", P.tolist(), pi_js.tolist())
        assert h_js == pytest.approx(markov.MarkovChain(P).entropy_rate, abs=1e-9)


def test_reducible_chains_and_bad_weights_get_the_library_messages(page):
    P = np.zeros((12, 12))
    P[:6, :6] = 1 / 6
    P[6:, 6:] = 1 / 6
    with pytest.raises(ValueError) as exc:
        markov.stationary_distribution(P)
    msg = _js(page, "(() => { try { window.m2dLive.markov.stationary(a[0]); } catch (e) "
                    "{ return e.message; } })()", P.tolist())
    assert msg == str(exc.value)
    for W in ([[1, -0.5], [1, 1]], [[0, 0], [1, 1]]):
        with pytest.raises(ValueError) as exc:
            markov.normalize_rows(W)
        msg = _js(page, "(() => { try { window.m2dLive.markov.normalizeRows(a[0]); } catch (e) "
                        "{ return e.message; } })()", W)
        assert msg == str(exc.value)


def test_voicing_equals_pcs_to_midi(page):
    rng = np.random.default_rng(3)
    for start in (48, 60, 75):
        pcs = rng.integers(0, 12, 200)
        js = _js(page, "window.m2dLive.markov.pcsToMidi(a[0], a[1])", pcs.tolist(), start)
        assert js == pitch.pcs_to_midi(pcs, start=start).tolist()


def test_sampling_has_the_chains_transition_law(page):
    """Transition frequencies of 200 000 sampled notes match P within 5 standard errors, and the
    visit frequencies match pi (the JS PRNG is its own: the law is compared, not the notes)."""
    P = markov.normalize_rows(markov_widgets.presets()["Bach-fitted"])
    n = 200_000
    states = np.array(_js(page, "window.m2dLive.markov.sample(a[0], a[1], 0, 12345)", P.tolist(), n))
    assert states[0] == 0 and states.min() >= 0 and states.max() <= 11
    counts = np.zeros((12, 12))
    np.add.at(counts, (states[:-1], states[1:]), 1)
    visits = counts.sum(axis=1, keepdims=True)
    se = np.sqrt(P * (1 - P) / np.maximum(visits, 1))
    assert np.all(np.abs(counts / np.maximum(visits, 1) - P) <= 5 * se + 1e-3)
    pi = markov.MarkovChain(P).stationary
    assert np.abs(np.bincount(states, minlength=12) / n - pi).max() < 0.01
    again = _js(page, "window.m2dLive.markov.sample(a[0], 50, 0, 12345)", P.tolist())
    assert again == states[:50].tolist()  # a seed is a melody


def test_the_editor_edits_keeps_bad_input_and_plays(page):
    page.click(".m2d-live-on")
    state = "() => { const s = document.querySelector('.m2d-live').m2dState; return s; }"
    cell = "input[data-i='0'][data-j='1']"
    page.fill(cell, "5")  # C -> C#: weight 5, the row renormalised
    page.dispatch_event(cell, "change")
    s = page.evaluate(state)
    W = np.array([[float(t) for t in row] for row in page.evaluate(
        "() => document.querySelector('.m2d-live').m2dControls.cells.map(r => r.map(c => c.value))")])
    P = markov.normalize_rows(W)
    assert s["error"] is None and np.allclose(np.array(s["P"]).sum(axis=1), 1, atol=1e-12)
    np.testing.assert_allclose(s["pi"], markov.MarkovChain(P).stationary, atol=1e-9)
    page.fill(cell, "-2")
    page.dispatch_event(cell, "change")
    assert "negative weight W[0, 1] = -2" in page.inner_text(".m2d-live-msg")
    assert page.input_value(cell) == "-2"  # the reader's edit is kept
    page.fill(cell, "0.5")
    page.dispatch_event(cell, "change")
    page.click("button[name=play]")
    page.wait_for_function("() => window.m2dLive.lastSound")
    sound = page.evaluate("() => window.m2dLive.lastSound")
    assert sound["started"] and sound["peak"] > 0.1 and sound["seconds"] == pytest.approx(32 * 0.5 * 60 / 132,
                                                                                          abs=1e-3)


def test_rendered_melody_is_the_bank_cut_at_the_tempo(page):
    bank = live.note_bank()
    midi, tempo = [60, 64, 67, 81, 55], 120
    r = page.evaluate("async (a) => { const r = await window.m2dLive.renderMelody(a[0], a[1], a[2]);"
                      " return Array.from(r.signal); }", [midi, [0.5] * 5, tempo])
    # note boundaries as m2d.audio.synthesize places them: round(cumulative seconds * sr)
    bounds = np.round(np.arange(len(midi) + 1) * 0.5 * 60 / tempo * audio.SR).astype(int)
    release = int(0.03 * audio.SR)
    parts = []
    for k, m in enumerate(midi):
        n = bounds[k + 1] - bounds[k]
        fade = np.minimum(1.0, (n - np.arange(n)) / release)
        parts.append(np.round(bank[m - live.BANK_LOW, :n] * 32767) / 32767 * fade)
    expect = np.concatenate(parts)
    assert len(r) == expect.size
    np.testing.assert_allclose(r, expect, atol=1e-6)


def test_the_built_chapter_runs_the_editor_offline(browser, book):  # noqa: F811
    """Chapter 1 of the built book, from file:// with the network blocked: the live editor loads
    nothing until pressed, then computes the library's pi and plays the note bank it loads once."""
    from test_browser import Visit

    v = Visit(browser, book / "notebooks" / "01_markov.html")
    pg = v.page
    loaded = "() => Array.from(document.scripts).filter(s => (s.src || '').includes('m2d-live')).length"
    assert pg.evaluate(loaded) == 0
    pg.click("section.m2d-live .m2d-live-on")
    s = pg.evaluate("() => document.querySelector('section.m2d-live').m2dState")
    P = markov.normalize_rows(markov_widgets.presets()["Bach-fitted"])
    np.testing.assert_allclose(s["pi"], markov.MarkovChain(P).stationary, atol=1e-9)
    pg.click("section.m2d-live button[name=play]")
    pg.wait_for_function("() => window.m2dLive.lastSound")
    assert pg.evaluate("() => window.m2dLive.lastSound.peak") > 0.1
    assert pg.evaluate(loaded) == 1
    assert not v.errors and not v.blocked and not v.failed, (v.errors, v.blocked, v.failed)
    pg.close()
