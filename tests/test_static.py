import io
import json
import re

import numpy as np
import pytest
import soundfile as sf

from m2d import audio, static


def _png(i: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (20 * i, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _frame(i: int) -> static.Frame:
    y = audio.synthesize([60 + i], 1.0, tempo=60)
    return static.Frame(image=_png(i), audio=audio.encode_mp3(y, audio.SR), caption=f"f{i}")


def test_encode_mp3_is_decodable_and_of_right_length():
    y = audio.synthesize([60, 64, 67], 1.0, tempo=60)  # 3 s
    mp3 = audio.encode_mp3(y, audio.SR)
    z, sr = sf.read(io.BytesIO(mp3))
    assert sr == audio.CLIP_SR and abs(z.size / sr - 3.0) < 0.1
    assert np.sqrt(np.mean(z**2)) > 0.05
    assert len(mp3) < 40_000  # compressed: a few kB per second
    with pytest.raises(ValueError, match="exceeds"):
        audio.encode_mp3(np.array([0.0, 2.0]), audio.SR)


def test_player_embeds_every_frame_and_its_controls():
    params = {"a": ["x", "y"], "b": [1, 2, 3]}
    frames = static.render_frames(params, lambda a, b: _frame(3 * (a == "y") + b))
    assert len(frames) == 6
    page = static.frame_player_html(params, frames, title="T", sliders=("b",))
    blob = json.loads(re.search(r"<script type='application/json'>(.*?)</script>", page, re.S)
                      .group(1).replace("<\\/", "</"))
    assert set(blob["frames"]) == {f"{a}|{b}" for a in "xy" for b in (1, 2, 3)}
    srcs = {f["audio"] for f in blob["frames"].values()}
    assert len(srcs) == 6 and all(s.startswith("data:audio/mpeg;base64,") for s in srcs)
    assert len({f["image"] for f in blob["frames"].values()}) == 6
    assert "type='range'" in page and "<select data-param='a'>" in page
    assert "http" not in page.replace("data:", "")  # nothing to fetch


def test_player_rejects_missing_frames():
    with pytest.raises(ValueError, match="no frame"):
        static.frame_player_html({"a": [1, 2]}, {(1,): _frame(1)})


# ---------------------------------------------------------------- frames with scores


def _score(pitches, name: str) -> static.Score:
    from m2d import notation

    s = notation.melody_score(pitches, 0.5, key="C")
    return static.Score(notation.engrave(s), notation.to_midi(s), notation.to_musicxml(s), name)


def _unpack(page: str) -> tuple[dict, dict]:
    import base64
    import gzip

    blob = json.loads(re.search(r"<script type='application/json'>(.*?)</script>", page, re.S)
                      .group(1).replace("<\\/", "</"))
    return blob, json.loads(gzip.decompress(base64.b64decode(blob["packed"])))


def test_compact_svg_keeps_the_drawing_and_shares_glyphs_and_style():
    from m2d import notation

    svg = notation.engrave(notation.melody_score([60, 62, 64, 65, 67, 66], 0.5, key="C"))
    body, glyphs, style = static.compact_svg(svg, prefix="p")
    assert "<defs>" not in body and "<style" not in body and " id=" not in body
    used = set(re.findall(r'href="#([^"]+)"', body))
    assert used and used <= set(glyphs)  # every glyph drawn is defined once, under the new id
    assert all(g.startswith(f'<g id="{k}"><path ') for k, g in glyphs.items())
    assert body.count('class="note"') == svg.count('class="note"') == 6
    assert "{scope} g.placeholder" in style and "visibility:hidden" in style
    assert len(body) < 0.75 * len(svg)
    other = "<svg viewBox='0 0 1 1'><rect width='1' height='1'/></svg>"  # not Verovio's layout
    assert static.compact_svg(other) == (other, {}, "")


def test_player_stores_each_score_once_and_offers_its_files():
    import base64

    from m2d import notation

    a, b = _score([60, 62, 64, 65], "melody-a"), _score([67, 65, 64, 62, 60], "melody-b")
    params = {"melody": ["a", "b"], "n": [1, 2]}
    frames = {(m, n): static.Frame(_png(n), None, f"{m}{n}", score=a if m == "a" else b)
              for m in "ab" for n in (1, 2)}
    page = static.frame_player_html(params, frames, sliders=("n",))
    blob, packed = _unpack(page)
    assert len(packed["svgs"]) == 2 and len(packed["files"]) == 2  # four frames, two melodies
    for (m, n), f in frames.items():
        entry = blob["frames"][f"{m}|{n}"]
        svg = packed["svgs"][entry["score"]]
        assert svg.count('class="note"') == (4 if m == "a" else 5)
        stem, midi, xml = packed["files"][entry["files"]]
        assert stem == f.score.name and base64.b64decode(midi) == f.score.midi
        assert notation.notes_of(xml) == notation.notes_of(f.score.musicxml)
    # the page shows the first frame's score and files without any script
    first = packed["svgs"][blob["frames"]["a|1"]["score"]]
    assert first in page and "download='melody-a.mid'" in page
    defs = set(re.findall(r'<g id="([^"]+)"><path ', page))
    assert set(re.findall(r'href="#([^"]+)"', "".join(packed["svgs"]))) <= defs
    assert "http" not in page.replace("data:", "").replace("http://www.w3.org", "")
    silent = {k: static.Frame(f.image, None, f.caption) for k, f in frames.items()}
    assert "m2d-score" not in static.frame_player_html(params, silent)  # no scores: nothing added


def test_player_scores_switch_in_a_browser(tmp_path, request):
    """The inline script unpacks the chosen frame's score and files (Chromium, offline)."""
    import base64
    import os

    from conftest import CHROMIUM

    from m2d import notation

    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is missing (make test installs it)")
    browser = request.getfixturevalue("browser")  # the session's one Playwright instance
    melodies = {"a": [60, 62, 64, 65], "b": [67, 65, 64, 62, 60, 59, 60]}
    params = {"melody": ["a", "b"]}
    frames = {(m,): static.Frame(_png(i), None, m, score=_score(p, f"melody-{m}"))
              for i, (m, p) in enumerate(melodies.items())}
    path = tmp_path / "player.html"
    path.write_text(f"<html><body>{static.frame_player_html(params, frames)}</body></html>")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    notes = "() => document.querySelectorAll('.m2d-fscore g.note').length"
    assert page.evaluate(notes) == 4
    page.select_option("select[data-param='melody']", "b")
    page.wait_for_function(f"() => ({notes})() === 7", timeout=5000)
    links = page.eval_on_selector_all("figure.m2d-score a[download]",
                                      "els => els.map(e => [e.download, e.href])")
    page.select_option("select[data-param='melody']", "a")  # and back to the first frame
    page.wait_for_function(f"() => ({notes})() === 4", timeout=5000)
    back = page.eval_on_selector_all("figure.m2d-score a[download]", "els => els.map(e => e.download)")
    page.close()
    assert back == ["melody-a.mid", "melody-a.musicxml"]
    assert not errors, errors
    assert [n for n, _ in links] == ["melody-b.mid", "melody-b.musicxml"]
    files = [base64.b64decode(h.split(",", 1)[1]) for _, h in links]
    want = [[(m, 0.5) for m in melodies["b"]]]
    assert notation.notes_of(files[0]) == want and notation.notes_of(files[1].decode()) == want
