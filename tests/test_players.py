import io

import numpy as np
import pytest
import soundfile as sf

from m2d import audio, players


def test_play_embeds_a_decodable_mp3():
    a = players.play_melody([60, 64, 67], 0.5, tempo=120)  # 0.75 s
    z, sr = sf.read(io.BytesIO(a.data))
    assert sr == audio.CLIP_SR and abs(z.size / sr - 0.75) < 0.08
    assert np.sqrt(np.mean(z**2)) > 0.05
    assert 'src="data:audio/mpeg;base64,' in a._repr_html_()
    with pytest.raises(ValueError, match="exceeds"):
        players.play(np.array([0.0, 2.0]))


def test_listen_checks_and_players_table():
    y = 0.5 * np.sin(2 * np.pi * 440 * np.arange(4000) / audio.SR).astype(np.float32)
    assert "audio/mpeg" in players.listen(y)._repr_html_()
    with pytest.raises(ValueError, match="silent"):
        players.listen(np.zeros(1000, dtype=np.float32) + 1e-4)
    with pytest.raises(ValueError, match="empty"):
        players.listen(np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match="clip"):
        players.listen(np.ones(1000, dtype=np.float32))
    h = players.players_html({"row <1>": [("a", y), ("b", y)]})
    assert h.count("<audio") == 2 and "row &lt;1&gt;" in h and 'style="width:150px"' in h
