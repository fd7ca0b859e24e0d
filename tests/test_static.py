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
