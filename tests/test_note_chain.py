"""Tests of m2d.note_chain: the first-order chains of notes (pitch with octave, duration)."""

import numpy as np
import pytest

from m2d import note_chain
from m2d.pitch import DURATION_BINS

TOY = [([60, 62, 64, 62, 60, 67, 60], [1, 1, 0.5, 0.5, 2, 1, 4]),
       ([60, 64, 67, 72, 67, 64, 60], [0.5, 0.5, 1, 1, 1, 0.5, 2])]


def _random_melodies(rng, n=40, length=30, tied=False):
    """Random walks on 55..79; with ``tied`` each pitch's duration is a function of the pitch."""
    out = []
    for _ in range(n):
        p = np.clip(67 + np.cumsum(rng.integers(-2, 3, length)), 55, 79)
        d = (np.asarray(DURATION_BINS)[p % 4 + 1] if tied
             else np.asarray(DURATION_BINS)[rng.integers(1, 6, length)])
        out.append((p.astype(np.int64), d))
    return out


def test_fit_counts_by_hand():
    ch = note_chain.NoteChain.fit(TOY, smoothing=1e-9)
    assert (ch.low, ch.high) == (60, 72)
    P = ch.pitch_chain.P
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-12)
    # 60 is followed by 62, 67, 64 once each: 1/3 each
    for nxt in (62, 64, 67):
        assert P[0, nxt - 60] == pytest.approx(1 / 3, abs=1e-6)
    D = ch.duration_chain.P
    half, quarter = DURATION_BINS.index(0.5), DURATION_BINS.index(1.0)
    # after an eighth: 0.5 (twice), 2, 1 (twice)... counted from the two melodies
    nexts = [0.5, 2, 0.5, 1, 2]
    for v in set(nexts):
        assert D[half, DURATION_BINS.index(v)] == pytest.approx(nexts.count(v) / 5, abs=1e-6)
    assert D[quarter].sum() == pytest.approx(1)
    # first notes (60, quarter) and (60, eighth) tie: the lower note value wins the argmax
    assert ch.initial == (60, 0.5)


def test_log2_probs_add_up_and_match_matrices():
    ch = note_chain.NoteChain.fit(TOY, smoothing=0.3)
    lp = ch.log2_probs(TOY, first=1)
    np.testing.assert_allclose(lp["note"], lp["pitch"] + lp["duration"])
    p, d = TOY[0]
    assert lp["pitch"][0] == pytest.approx(np.log2(ch.pitch_chain.P[0, 2]))
    bits = ch.bits_per_note(TOY)
    assert bits["note"] == pytest.approx(bits["pitch"] + bits["duration"])
    assert lp["pitch"].size == sum(len(m[0]) - 1 for m in TOY)


def test_sampling_reproducible_in_range_and_stationary():
    rng = np.random.default_rng(0)
    ch = note_chain.NoteChain.fit(_random_melodies(rng), smoothing=0.1)
    a = ch.sample(50, start=(67, 1.0), rng=3)
    b = ch.sample(50, start=(67, 1.0), rng=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0][0] == 67 and a[1][0] == 1.0
    assert a[0].min() >= ch.low and a[0].max() <= ch.high
    assert set(a[1]) <= set(DURATION_BINS)
    # Theorem 21.2 (3) for each chain: long-run frequencies approach pi
    p, d = ch.sample(100_000, rng=1)
    pi_p, pi_d = ch.stationary
    freq_p = np.bincount(p - ch.low, minlength=len(pi_p)) / p.size
    np.testing.assert_allclose(freq_p, pi_p, atol=0.01)
    freq_d = np.bincount([DURATION_BINS.index(x) for x in d], minlength=8) / d.size
    np.testing.assert_allclose(freq_d, pi_d, atol=0.01)


def test_joint_chain_wins_only_when_rhythm_follows_pitch():
    rng = np.random.default_rng(1)
    tied = note_chain.compare_factorizations(_random_melodies(rng, tied=True),
                                             _random_melodies(rng, 10, tied=True), 0.1)
    assert tied["joint"]["note"] < tied["factored"]["note"] - 0.5
    free = note_chain.compare_factorizations(_random_melodies(rng), _random_melodies(rng, 10), 0.1)
    assert free["factored"]["note"] < free["joint"]["note"]
    n_p = np.sqrt(free["joint"]["entries"]) / 8  # joint states = pitches x 8 note values
    assert free["factored"]["entries"] == n_p**2 + 64


def test_errors_name_the_value():
    ch = note_chain.NoteChain.fit(TOY)
    with pytest.raises(ValueError, match="outside the chain's range 60..72"):
        ch.sample(5, start=(40, 1.0))
    with pytest.raises(ValueError, match="MIDI 80"):
        ch.log2_probs([([60, 80], [1, 1])])
    with pytest.raises(ValueError, match="smoothing"):
        note_chain.NoteChain.fit(TOY, smoothing=0)
    with pytest.raises(ValueError, match="empty"):
        note_chain.NoteChain.fit([])
    with pytest.raises(ValueError, match="3 pitches but 2 durations"):
        note_chain.NoteChain.fit([([60, 62, 64], [1, 1])])
    with pytest.raises(ValueError, match="low..high = 62..72"):
        note_chain.NoteChain.fit(TOY, low=62)
    with pytest.raises(ValueError, match="first"):
        ch.log2_probs(TOY, first=0)
    with pytest.raises(ValueError, match="length"):
        ch.sample(0)


def test_sample_like_matches_lengths_and_first_notes():
    ch = note_chain.NoteChain.fit(TOY)
    samples = ch.sample_like(TOY, rng=0)
    for (p, d), (sp, sd) in zip(TOY, samples, strict=True):
        assert len(sp) == len(p) and sp[0] == p[0] and sd[0] == d[0]
    again = ch.sample_like(TOY, rng=0)
    np.testing.assert_array_equal(samples[1][0], again[1][0])


def test_continue_motif_starts_from_the_last_note():
    rng = np.random.default_rng(2)
    ch = note_chain.NoteChain.fit(_random_melodies(rng), smoothing=0.1)
    p, d, lp = ch.continue_motif([60, 64, 67], [0.5, 0.5, 1.0], 8, rng=4)
    assert p.size == d.size == 8
    # the log-probability is the chain's, read from the motif's last note
    path_p = np.concatenate([[67], p]) - ch.low
    path_d = [DURATION_BINS.index(x) for x in np.concatenate([[1.0], d])]
    expected = sum(np.log2(ch.pitch_chain.P[a, b]) for a, b in zip(path_p, path_p[1:], strict=False))
    expected += sum(np.log2(ch.duration_chain.P[a, b]) for a, b in zip(path_d, path_d[1:], strict=False))
    assert lp == pytest.approx(expected)
    with pytest.raises(ValueError, match="n_notes"):
        ch.continue_motif([60], [1.0], 0)
    with pytest.raises(ValueError, match="outside the chain's range"):
        ch.continue_motif([30], [1.0], 4)
