"""Notation: melodies and chorales as scores, engraved by Verovio, written as MIDI and MusicXML files
that re-open with the same notes."""

import numpy as np
import pytest

from m2d import notation

PITCHES = [60, 64, 67, 72, 71, 67, 65, 64, 79, 55]
DURATIONS = [0.5, 0.5, 1.0, 1.5, 0.5, 1.0, 0.5, 2.5, 0.25, 0.75]


def test_melody_score_keeps_pitches_and_durations():
    s = notation.melody_score(PITCHES, DURATIONS, title="t", key="C")
    assert notation.notes_of(s) == [list(zip(PITCHES, DURATIONS, strict=True))]
    assert len(s.parts[0].getElementsByClass("Measure")) >= 3       # bars made (ties at bar lines)


@pytest.mark.parametrize("fmt", ["midi", "musicxml"])
def test_files_reopen_with_the_same_notes(fmt, tmp_path):
    s = notation.melody_score(PITCHES, DURATIONS)
    data = notation.to_midi(s) if fmt == "midi" else notation.to_musicxml(s)
    assert notation.notes_of(data) == notation.notes_of(s)
    path = notation.save(s, tmp_path / ("m.mid" if fmt == "midi" else "m.musicxml"))
    assert path.stat().st_size > 100


def test_a_four_voice_chorale_round_trips_through_midi():
    c = notation.chorale("bwv269", (1, 4))
    parts = notation.notes_of(c)
    assert len(parts) == 4 and all(len(p) > 5 for p in parts)
    assert notation.notes_of(notation.to_midi(c)) == parts


def test_engraving_a_known_chorale_gives_scalable_svg():
    svg = notation.engrave(notation.chorale("bwv269", (1, 4)))
    assert svg.startswith("<svg") and "viewBox" in svg and 'class="definition-scale"' in svg
    assert "<?xml" not in svg and "<script" not in svg
    assert svg.count('class="note"') + svg.count('class="note ') >= 30     # the 4 voices' notes


@pytest.mark.parametrize("kw,msg", [
    ({"pitches": []}, "non-empty"),
    ({"pitches": [60, 128]}, "0..127"),
    ({"pitches": [60.5]}, "MIDI integers"),
    ({"durations": [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]}, "note 1"),
    ({"durations": [1.0, 2.0]}, "durations"),
    ({"durations": float("nan")}, "positive"),
    ({"key": "H#"}, "key"),
    ({"time_signature": "x/y"}, "time_signature"),
    ({"instrument": "Kazoo9"}, "instrument"),
])
def test_bad_melodies_are_named(kw, msg):
    args = {"pitches": PITCHES, "durations": DURATIONS, **kw}
    with pytest.raises(ValueError, match=msg):
        notation.melody_score(args.pop("pitches"), args.pop("durations"), **args)


def test_chorale_errors():
    with pytest.raises(ValueError, match="no chorale"):
        notation.chorale("bwv99999")
    with pytest.raises(ValueError, match="measures"):
        notation.chorale("bwv269", (5, 2))
    with pytest.raises(ValueError, match=".mid or .musicxml"):
        notation.save(notation.melody_score([60], 1.0), "x.wav")
    assert np.isfinite(len(notation.to_musicxml(notation.melody_score([60], 1.0))))


def test_repeats_are_written_out_the_way_midi_plays_them():
    c = notation.chorale("bwv269", (1, 8))                # bars 1-4 carry a repeat sign
    written = sum(len(p.flatten().notes) for p in c.parts)
    played = notation.notes_of(c)
    assert sum(len(p) for p in played) > written
    assert notation.notes_of(notation.to_midi(c)) == played == notation.notes_of(notation.to_musicxml(c))


def test_accidentals_follow_the_key_not_the_midi_numbers():
    import re

    s = notation.melody_score([62, 63, 67, 71, 72, 74, 70], 1.0, key="c")    # c minor: 3 flats
    shown = re.findall(r"<accidental[^>]*>([^<]*)</accidental>", notation.to_musicxml(s))
    assert shown == ["natural", "flat"]          # only B natural (leading tone), then B flat again


def test_sections_score_one_staff_labelled_bars_and_same_notes():
    sections = [("first", [60, 64, 67], [0.5, 0.5, 1.0]), ("second", [72, 71, 69], [1.5, 0.5, 3.0])]
    score = notation.sections_score(sections)
    assert notation.notes_of(score) == [[(60, 0.5), (64, 0.5), (67, 1.0), (72, 1.5), (71, 0.5),
                                         (69, 3.0)]]
    assert notation.notes_of(notation.to_midi(score)) == notation.notes_of(score)
    # each section starts a bar: 2 quarters of notes + rest = 1 bar, then 5 quarters = 2 bars
    measures = score.parts[0].getElementsByClass("Measure")
    assert len(measures) == 3
    marks = [m.content for m in score.recurse().getElementsByClass("RehearsalMark")]
    assert marks == ["first", "second"]
    svg = notation.engrave(score)
    assert ">first<" in svg and ">second<" in svg
    with pytest.raises(ValueError, match="section 'bad'"):
        notation.sections_score([("bad", [60, 200], [1, 1])])
    with pytest.raises(ValueError, match="empty"):
        notation.sections_score([])
    with pytest.raises(ValueError, match="label"):
        notation.sections_score([(" ", [60], [1])])
