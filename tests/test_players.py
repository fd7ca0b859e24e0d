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


def test_score_player_shows_the_score_plays_it_and_offers_files_that_reopen():
    import base64
    import re

    from m2d import notation, soundfont

    s = notation.melody_score([60, 62, 64, 65, 67], [1, 0.5, 0.5, 1, 2])
    y = soundfont.render_score(s, tempo=100)
    h = players.score_player(s, y, "scale-demo", caption="a <scale>")._repr_html_()
    assert h.count("<svg") >= 1 and h.count("<audio") == 1 and "a &lt;scale&gt;" in h
    midi = re.search(r"download='scale-demo.mid' href='data:audio/midi;base64,([^']+)'", h)
    xml = re.search(r"download='scale-demo.musicxml' href='data:[^;]+;base64,([^']+)'", h)
    assert notation.notes_of(base64.b64decode(midi.group(1))) == notation.notes_of(s)
    assert notation.notes_of(base64.b64decode(xml.group(1)).decode()) == notation.notes_of(s)
    assert players.score_player(s, y, "../Markov k=3").name == "Markov-k-3"   # a safe file name
    with pytest.raises(ValueError, match="letters or digits"):
        players.score_player(s, y, "../")
    with pytest.raises(ValueError, match="silent"):
        players.score_player(s, np.zeros(4000, dtype=np.float32) + 1e-4, "x")


def test_download_links_carry_the_files_and_a_safe_name():
    import base64
    import re

    from m2d import notation

    s = notation.melody_score([60, 64, 67, 72], [0.5, 0.5, 1, 2])
    midi, xml = notation.to_midi(s), notation.to_musicxml(s)
    h = players.download_links("../my melody", midi, xml, style="color:red")
    links = re.findall(r"<a download='([^']+)' style='color:red' href='data:([^;]+);base64,([^']+)'", h)
    assert [(n, m) for n, m, _ in links] == [("my-melody.mid", players.MIDI_MIME),
                                             ("my-melody.musicxml", players.MUSICXML_MIME)]
    assert base64.b64decode(links[0][2]) == midi
    assert notation.notes_of(base64.b64decode(links[1][2]).decode()) == notation.notes_of(s)
    assert players.file_stem("bwv 269/soprano") == "bwv-269-soprano"
    with pytest.raises(ValueError, match="empty"):
        players.download_links("x", b"", xml)
    with pytest.raises(ValueError, match="letters or digits"):
        players.download_links("//", midi, xml)
