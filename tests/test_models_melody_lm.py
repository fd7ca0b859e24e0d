"""Part II plumbing (m2d.models.melody_lm): encoding, the same scored positions as Part I, the
duration head (probabilities, joint = pitch + duration bits), training, the weight cache, sampling
with the model's own rhythm, continuations of melodies and motifs, and the position-wise comparison
-- on tiny models (seconds)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import DurationLogits, assert_causal

from m2d import cache, ngram
from m2d.models import melody_lm as ml
from m2d.models.lstm import LSTMConfig, MelodyLSTM
from m2d.models.transformer import MusicTransformer, TransformerConfig

TINY_T = TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32, dropout=0.0, max_rel=8)
TINY_L = LSTMConfig(d_embed=8, hidden=16, dropout=0.0)
TINY_TRAIN = ml.TrainConfig(epochs=2, batch_size=8, warmup_steps=2)


def tiny(kind: str, seed: int = 0):
    torch.manual_seed(seed)
    return (MusicTransformer(TINY_T) if kind == "transformer" else MelodyLSTM(TINY_L)).eval()


# ---------------------------------------------------------------- encoding
def test_encode_shifts_and_rhythm():
    e = ml.encode(([0, 4, 7, 0], [1.0, 0.5, 0.5, 2.0]))
    assert e["tokens"].tolist() == [ml.BOS, 0, 4, 7]
    assert e["targets"].tolist() == [0, 4, 7, 0]
    # previous duration class (0 = none) and metrical position of the predicted note in sixteenths
    assert e["durs"].tolist() == [0, 1 + ml.DURATION_BINS.index(1.0), 1 + ml.DURATION_BINS.index(0.5),
                                  1 + ml.DURATION_BINS.index(0.5)]
    assert e["onsets"].tolist() == [0, 4, 6, 8]
    # duration targets: the class of each note's own duration (the input is the previous one's + 1)
    assert e["dur_targets"].tolist() == [ml.DURATION_BINS.index(d) for d in (1.0, 0.5, 0.5, 2.0)]
    np.testing.assert_array_equal(e["durs"][1:], 1 + e["dur_targets"][:-1])
    # any duration takes the nearest bin in log2: 5 quarter notes -> 4, 1.2 -> 1, 0.125 -> 0.25
    e = ml.encode(([0, 0, 0], [5.0, 1.2, 0.125]))
    assert [ml.DURATION_BINS[c] for c in e["dur_targets"]] == [4.0, 1.0, 0.25]


@pytest.mark.parametrize("melody,msg", [
    ([], "non-empty"),
    ([0, 12], "0..11"),
    (([0, 1], [1.0, 0.0]), "positive"),
    (([0, 1], [1.0, np.inf]), "finite"),
])
def test_encode_errors(melody, msg):
    with pytest.raises(ValueError, match=msg):
        ml.encode(melody)


def test_collate_pads_with_ignore():
    b = ml.collate([ml.encode([0, 1, 2]), ml.encode([3, 4])])
    assert b["tokens"].shape == (2, 3)
    assert b["targets"][1].tolist() == [3, 4, ml.IGNORE]
    assert b["dur_targets"][1, 2] == ml.IGNORE and b["dur_targets"][0, 2] == ml.DURATION_BINS.index(1.0)


# ---------------------------------------------------------------- the duration head
@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_duration_head_shapes_and_probabilities(kind):
    model = tiny(kind)
    b = ml.collate([ml.encode(([0, 4, 7, 0, 2], [1.0, 0.5, 0.5, 2.0, 1.0])), ml.encode([3, 4])])
    zp, zd = model.note_logits(b["tokens"], b["durs"], b["onsets"])
    assert zp.shape == (2, 5, 12) and zd.shape == (2, 5, ml.N_DURATION_CLASSES)
    # the pitch head is exactly forward()'s output (callers of forward are unaffected)
    torch.testing.assert_close(zp, model(b["tokens"], b["durs"], b["onsets"]))
    # p(x, c | past) = p(x | past) p(c | past) is a distribution over the 12 x 8 notes
    joint = torch.softmax(zp.double(), -1)[..., :, None] * torch.softmax(zd.double(), -1)[..., None, :]
    torch.testing.assert_close(joint.sum((-1, -2)), torch.ones(2, 5, dtype=torch.float64))
    assert model.predicts_durations


def test_pitch_only_models_have_no_duration_head():
    for model in (MusicTransformer(replace(TINY_T, rhythm=False)), MelodyLSTM(replace(TINY_L, rhythm=False))):
        assert not model.predicts_durations and not hasattr(model, "dur_head")
        z = torch.zeros(1, 3, dtype=torch.long)
        with pytest.raises(ValueError, match="pitch classes only"):
            model.note_logits(z, z, z)
        lp = ml.note_log2_probs(model, [np.arange(10) % 12], first=6)
        assert list(lp) == ["pitch"]
        np.testing.assert_allclose(lp["pitch"], ml.log2_probs(model, [np.arange(10) % 12], first=6))


@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_note_log2_probs_joint_is_pitch_plus_duration(kind):
    model = tiny(kind, seed=1)
    rng = np.random.default_rng(2)
    mels = [(rng.integers(0, 12, n), rng.choice([0.5, 1.0, 1.5, 2.0], n)) for n in (4, 9, 15)]
    lp = ml.note_log2_probs(model, mels, first=6)
    assert lp["pitch"].size == lp["duration"].size == lp["joint"].size == 3 + 9  # 0 + (9-6) + (15-6)
    np.testing.assert_allclose(lp["joint"], lp["pitch"] + lp["duration"], atol=1e-12)
    np.testing.assert_allclose(lp["pitch"], ml.log2_probs(model, mels, first=6), atol=1e-9)
    assert np.all(lp["duration"] < 0) and np.all(np.isfinite(lp["joint"]))
    # by hand for the last melody: the softmax of the duration head at its targets
    b = ml.collate([ml.encode(mels[2])])
    with torch.no_grad():
        zd = model.note_logits(b["tokens"], b["durs"], b["onsets"])[1][0].double()
    want = torch.log_softmax(zd, -1)[np.arange(6, 15), b["dur_targets"][0, 6:]].numpy() / np.log(2)
    np.testing.assert_allclose(lp["duration"][3:], want, atol=1e-9)
    with pytest.raises(ValueError, match="first"):
        ml.note_log2_probs(model, mels, first=-1)



@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_duration_head_is_causal(kind):
    """The duration logits at position t do not change when notes t, t+1, ... change."""
    assert_causal(DurationLogits(tiny(kind, seed=3)))


# ---------------------------------------------------------------- the same positions as Part I
def test_scored_positions_match_part_one(bach_split):
    test = bach_split["test"]
    lp = ml.log2_probs(tiny("lstm"), test, first=6)
    for k in (0, 1, 3, 6):
        mlp, _ = ngram.NGramModel(12, k, alpha=0.1).fit(bach_split["train"]).log2_probs(test, first=6)
        assert lp.size == mlp.size
    assert lp.size == sum(max(0, len(m) - 6) for m in test)
    # an untrained model is close to uniform: about log2(12) bits
    assert ml.bits_per_note(tiny("lstm"), test) == pytest.approx(np.log2(12), abs=0.3)
    with pytest.raises(ValueError, match="no positions"):
        ml.bits_per_note(tiny("lstm"), [np.arange(5)], first=6)


def test_log2_probs_equal_next_distributions():
    model = tiny("transformer")
    pcs = np.array([0, 2, 4, 5, 7, 9, 11, 0, 7, 4])
    P = ml.next_distributions(model, pcs)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-9)
    lp = ml.log2_probs(model, [pcs], first=3)
    np.testing.assert_allclose(lp, np.log2(P[np.arange(3, 10), pcs[3:]]), atol=1e-9)


# ---------------------------------------------------------------- training and the cache
def test_training_lowers_the_loss(bach_split):
    train, val = bach_split["train"][:24], bach_split["val"][:6]
    model = tiny("transformer")
    before = ml.bits_per_note(model, val)
    dur_before = -ml.note_log2_probs(model, val)["duration"].mean()
    extra = ml.train_model(model, train, val, ml.TrainConfig(epochs=3, batch_size=8, warmup_steps=2),
                           progress=False)
    assert len(extra["val_bits"]) == 3 and extra["seconds"] > 0
    # a model with a duration head is selected and scored on joint bits = pitch + duration
    lp = ml.note_log2_probs(model, val)
    assert extra["best_val_bits"] == pytest.approx(-lp["joint"].mean())
    np.testing.assert_allclose(np.add(extra["val_pitch_bits"], extra["val_duration_bits"]),
                               extra["val_bits"])
    assert -lp["pitch"].mean() < before and -lp["duration"].mean() < dur_before
    with pytest.raises(ValueError, match="non-empty"):
        ml.train_model(model, [], val, TINY_TRAIN, progress=False)
    # a pitch-only model is trained and selected on pitch bits, as before
    torch.manual_seed(0)
    p_only = MelodyLSTM(replace(TINY_L, rhythm=False))
    extra = ml.train_model(p_only, train, val, TINY_TRAIN, progress=False)
    assert extra["best_val_bits"] == pytest.approx(ml.bits_per_note(p_only, val))
    assert "val_duration_bits" not in extra


def test_training_is_reproducible(bach_split):
    train, val = bach_split["train"][:16], bach_split["val"][:4]
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = MelodyLSTM(TINY_L)
        runs.append(ml.train_model(m, train, val, TINY_TRAIN, progress=False)["val_bits"])
    assert runs[0] == runs[1]


def test_cache_round_trip_and_corruption(tmp_cache, bach_split, monkeypatch):
    split = {"train": bach_split["train"][:16], "val": bach_split["val"][:4]}
    calls = []
    real = ml.train_model

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(ml, "train_model", counting)
    args = ("tiny-lstm", lambda: MelodyLSTM(TINY_L), TINY_L, split, TINY_TRAIN)
    m1, e1 = ml.load_or_train_melody_model(*args, progress=False)
    m2, e2 = ml.load_or_train_melody_model(*args, progress=False)
    assert len(calls) == 1 and e1 == e2 and not m2.training
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    (path,) = tmp_cache.glob("tiny-lstm-*.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated file
    with pytest.warns(UserWarning, match="rebuilding"):
        m3, _ = ml.load_or_train_melody_model(*args, progress=False)
    assert len(calls) == 2
    for a, b in zip(m1.state_dict().values(), m3.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # same seed, same data: the same weights again
    # a different data selection is a different key
    ml.load_or_train_melody_model("tiny-lstm", lambda: MelodyLSTM(TINY_L), TINY_L,
                                  {"train": split["train"][:8], "val": split["val"]}, TINY_TRAIN,
                                  progress=False)
    assert len(calls) == 3 and len(list(tmp_cache.glob("tiny-lstm-*.pt"))) == 2
    # so is the same melodies with one duration changed (the key hashes the content)
    moved = split["train"][0]
    changed = type(moved)(**{**moved.__dict__, "durations": moved.durations * 2})
    ml.load_or_train_melody_model("tiny-lstm", lambda: MelodyLSTM(TINY_L), TINY_L,
                                  {"train": [changed, *split["train"][1:]], "val": split["val"]},
                                  TINY_TRAIN, progress=False)
    assert len(calls) == 4


def test_the_data_key_is_the_content_fingerprint(bach_split):
    ms = bach_split["train"][:3]
    a = cache.fingerprint(ml._melody_content(ms))
    assert a == cache.fingerprint(ml._melody_content(list(ms)))
    assert a != cache.fingerprint(ml._melody_content(ms[::-1]))
    assert a != cache.fingerprint(ml._melody_content([m.transposed(1) for m in ms]))


# ---------------------------------------------------------------- sampling and repetition
def test_sample_pitches():
    model = tiny("transformer")
    durs = np.full(12, 0.5)
    a = ml.sample_pitches(model, [0, 4, 7], durs, rng=3)
    b = ml.sample_pitches(model, [0, 4, 7], durs, rng=3)
    assert a.tolist() == b.tolist() and a.size == 12 and a[:3].tolist() == [0, 4, 7]
    assert a.min() >= 0 and a.max() < 12
    with pytest.raises(ValueError, match="durations"):
        ml.sample_pitches(model, [0] * 13, durs)
    with pytest.raises(ValueError, match="temperature"):
        ml.sample_pitches(model, [0], durs, temperature=0)


def test_sample_notes_draws_pitch_then_duration():
    model = tiny("lstm", seed=5)
    pre, pre_d = [0, 4, 7], [1.0, 0.5, 0.75]
    pcs, durs = ml.sample_notes(model, pre, pre_d, 12, rng=3)
    again = ml.sample_notes(model, pre, pre_d, 12, rng=np.random.default_rng(3))
    assert pcs.tolist() == again[0].tolist() and durs.tolist() == again[1].tolist()
    assert pcs.size == durs.size == 12 and pcs[:3].tolist() == pre and durs[:3].tolist() == pre_d
    assert pcs.min() >= 0 and pcs.max() < 12 and set(durs[3:].tolist()) <= set(ml.DURATION_BINS)
    # by hand: one draw from each head's softmax at position t, pitch first
    rng, hp, hd = np.random.default_rng(3), list(pre), list(pre_d)
    while len(hp) < 12:
        b = ml.collate([ml.encode((np.array(hp + [0]), np.array(hd + [1.0])))])
        with torch.no_grad():
            zp, zd = model.note_logits(b["tokens"], b["durs"], b["onsets"])
        p, q = (torch.softmax(z[0, len(hp)].double(), -1).numpy() for z in (zp, zd))
        hp.append(int(rng.choice(12, p=p / p.sum())))
        hd.append(ml.DURATION_BINS[int(rng.choice(ml.N_DURATION_CLASSES, p=q / q.sum()))])
    assert pcs.tolist() == hp and durs.tolist() == hd
    assert ml.sample_notes(model, [], [], 5, rng=0)[0].size == 5  # from the start token alone
    with pytest.raises(ValueError, match="pitch classes only"):
        ml.sample_notes(MelodyLSTM(replace(TINY_L, rhythm=False)), pre, pre_d, 5)
    with pytest.raises(ValueError, match="durations"):
        ml.sample_notes(model, pre, pre_d[:2], 5)
    with pytest.raises(ValueError, match="more than length"):
        ml.sample_notes(model, pre, pre_d, 2)
    with pytest.raises(ValueError, match="temperature"):
        ml.sample_notes(model, pre, pre_d, 5, temperature=0)
    with pytest.raises(ValueError, match="positive"):
        ml.sample_notes(model, pre, [1.0, 0.0, 1.0], 5)


def test_sampled_durations_follow_the_duration_head():
    """A model trained to always predict one note value samples it: the head is what is drawn."""
    m = tiny("lstm")
    mels = [(np.arange(20) % 12, np.full(20, 1.5))] * 16
    ml.train_model(m, mels, mels[:2], ml.TrainConfig(epochs=40, batch_size=16, lr=3e-2, warmup_steps=2),
                   progress=False)
    _, durs = ml.sample_notes(m, [0], [1.5], 30, rng=0)
    assert np.mean(durs == 1.5) > 0.9


def test_continue_melody(bach_split):
    m = bach_split["test"][0]
    chain = ngram.NGramModel(12, 3, alpha=0.1).fit(bach_split["train"])
    notes = ngram.FactoredNGram(3, 2, alpha=0.1).fit(bach_split["train"])
    model, p_only = tiny("transformer"), MusicTransformer(replace(TINY_T, rhythm=False)).eval()
    models = {"chain": chain, "notes": notes, "tf": model, "tf pitch": p_only}
    out = ml.continue_melody(m, models, n_prefix=6, rng=4)
    assert list(out) == ["real", *models]
    assert out["real"][0].tolist() == m.pitch_classes.tolist()
    assert out["real"][1].tolist() == m.durations.tolist()
    for name in models:
        pcs, durs = out[name]
        assert pcs.size == durs.size == len(m) and pcs[:6].tolist() == m.pitch_classes[:6].tolist()
        assert durs[:6].tolist() == m.durations[:6].tolist()
    # pitch-only models keep the real rhythm; models of rhythm draw their own from the bins
    for name in ("chain", "tf pitch"):
        assert out[name][1].tolist() == m.durations.tolist()
    for name in ("notes", "tf"):
        assert set(out[name][1][6:].tolist()) <= set(ml.DURATION_BINS)
    # each model draws with the same seed: exactly its own sampler's result
    assert out["chain"][0].tolist() == chain.sample(len(m), m.pitch_classes[:6], rng=4).tolist()
    assert out["tf pitch"][0].tolist() == ml.sample_pitches(p_only, m.pitch_classes[:6], m.durations,
                                                            rng=4).tolist()
    ref = ml.sample_notes(model, m.pitch_classes[:6], m.durations[:6], len(m), rng=4)
    assert out["tf"][0].tolist() == ref[0].tolist() and out["tf"][1].tolist() == ref[1].tolist()
    ref = notes.sample(len(m), m.pitch_classes[:6], m.durations[:6], rng=4)
    assert out["notes"][1].tolist() == ref[1].tolist()
    again = ml.continue_melody(m, {"chain": chain}, rng=np.random.default_rng(4))
    assert again["chain"][0].tolist() == ml.continue_melody(
        m, {"chain": chain}, rng=np.random.default_rng(4))["chain"][0].tolist()
    assert out["chain"][0][6:].tolist() != out["real"][0][6:].tolist()
    with pytest.raises(ValueError, match="prefix"):
        ml.continue_melody(m, {"chain": chain}, n_prefix=2)  # shorter than the order
    with pytest.raises(ValueError, match="n_prefix"):
        ml.continue_melody(m, {}, n_prefix=len(m) + 1)


def test_motif_return_rate():
    assert ml.motif_return_rate([0, 2, 4, 5, 0, 2, 4, 5], n=4, min_gap=4) == pytest.approx(1.0)
    assert ml.motif_return_rate(list(range(12)), n=3, min_gap=2) == 0.0
    # a held note repeats itself at distance 1 only: not a return with min_gap 2
    assert ml.motif_return_rate([0] * 3 + [1, 2, 3, 4, 5], n=2, min_gap=2) == 0.0
    assert ml.motif_return_rate([0, 1], n=4) == 0.0
    with pytest.raises(ValueError, match=">= 1"):
        ml.motif_return_rate([0, 1, 2], n=0)


def test_continue_motif(bach_split):
    model = tiny("transformer", seed=2)
    notes = ngram.FactoredNGram(3, 2, alpha=0.1).fit(bach_split["train"][:40])
    motif, mdur = [60, 64, 67], [0.5, 0.5, 1.0]
    for m in (model, notes):
        midi, durs, lp = ml.continue_motif(m, motif, mdur, n_notes=10, rng=7)
        again = ml.continue_motif(m, motif, mdur, n_notes=10, rng=7)
        assert midi.tolist() == again[0].tolist() and durs.tolist() == again[1].tolist() and lp == again[2]
        assert midi.dtype == np.int64 and midi.size == durs.size == 10
        assert set(durs.tolist()) <= set(ml.DURATION_BINS)
        # register: the first new note is the nearest of its class to the motif's last pitch, and every
        # later one the nearest to the note before (inside MIDI 55..81)
        assert abs(int(midi[0]) - 67) <= 6 and np.all(np.abs(np.diff(midi)) <= 6)
        # the score is the model's own log2 p of the continuation given the motif, a sum of 10 terms
        full = (np.r_[np.array(motif) % 12, midi % 12], np.r_[mdur, durs])
        lps = (ml.note_log2_probs(m, [full], first=3) if m is model else
               notes.log2_probs([full], first=3))["joint"]
        assert lps.size == 10 and lp == pytest.approx(lps.sum()) and lp < 0
    # a low motif keeps its register (the range widens to include it)
    low, _, _ = ml.continue_motif(model, [36, 40], [1.0, 1.0], n_notes=4, rng=0)
    assert abs(int(low[0]) - 40) <= 6
    # a chosen range, widened to the motif's (60..67), holds every new note; the same draws, only
    # the octaves move
    high, _, hlp = ml.continue_motif(model, motif, mdur, n_notes=10, rng=7, low=64, high=76)
    ref = ml.continue_motif(model, motif, mdur, n_notes=10, rng=7)
    assert high.min() >= 60 and high.max() <= 76 and hlp == pytest.approx(ref[2])
    assert (high % 12).tolist() == (ref[0] % 12).tolist()
    # a motif shorter than a chain's order is continued from the lower orders
    assert ml.continue_motif(notes, [60], [1.0], n_notes=4, rng=0)[0].size == 4


@pytest.mark.parametrize("pitches,durations,kw,msg", [
    ([], [], {}, "non-empty"),
    ([60, 128], [1.0, 1.0], {}, "0..127"),
    ([-1], [1.0], {}, "0..127"),
    ([60.5], [1.0], {}, "whole MIDI"),
    ([60, 62], [1.0], {}, "2 pitches but 1 durations"),
    ([60, 62], [1.0, 0.0], {}, "note 1 has 0"),
    ([60], [-1.0], {}, "durations must lie"),
    ([60], [np.nan], {}, "durations must lie"),
    ([60], [100.0], {}, "durations must lie"),
    ([60], [1.0], {"n_notes": 0}, "n_notes"),
    ([60], [1.0], {"low": 60, "high": 70}, "octave"),
])
def test_continue_motif_errors(pitches, durations, kw, msg):
    with pytest.raises(ValueError, match=msg):
        ml.continue_motif(tiny("lstm"), pitches, durations, **kw)


def test_continue_motif_asks_a_model_with_its_own_method():
    """A composer with its own continue_motif (Part I's chain of notes) is asked directly, after
    the motif is checked here."""
    calls = []

    class Own:
        def continue_motif(self, pitches, durations, n_notes, rng=None):
            calls.append((pitches.tolist(), durations.tolist(), n_notes, rng))
            return [62] * n_notes, [1.0] * n_notes, -3.5

    midi, durs, lp = ml.continue_motif(Own(), [60, 64], [0.5, 1.0], n_notes=3, rng=5)
    assert calls == [([60, 64], [0.5, 1.0], 3, 5)]
    assert midi.dtype == np.int64 and midi.tolist() == [62] * 3 and durs.tolist() == [1.0] * 3
    assert lp == -3.5
    with pytest.raises(ValueError, match="0..127"):
        ml.continue_motif(Own(), [60, 200], [1.0, 1.0])
    assert len(calls) == 1


def test_continue_motif_needs_a_model_of_rhythm(bach_split):
    for m in (MelodyLSTM(replace(TINY_L, rhythm=False)), ngram.NGramModel(12, 1).fit(bach_split["train"])):
        with pytest.raises(ValueError, match="does not predict durations"):
            ml.continue_motif(m, [60, 62], [1.0, 1.0])


# ---------------------------------------------------------------- comparing models position by position
def test_scored_positions_and_bootstrap(bach_split):
    test = bach_split["test"][:5]
    mi, t = ml.scored_positions(test, first=6)
    assert mi.size == ml.log2_probs(tiny("lstm"), test).size
    assert t.min() == 6 and np.all(t[mi == 0] == np.arange(6, len(test[0])))
    rng = np.random.default_rng(0)
    a = rng.normal(-2, 0.5, mi.size)
    d, lo, hi = ml.paired_bootstrap(a, a - 0.3, mi, rng=0)  # b is 0.3 bits worse: A better by 0.3
    assert d == pytest.approx(-0.3) and lo == pytest.approx(-0.3) and hi == pytest.approx(-0.3)
    d, lo, hi = ml.paired_bootstrap(a, rng.normal(-2, 0.5, mi.size), mi, rng=0)
    assert lo < d < hi
    with pytest.raises(ValueError, match="equal length"):
        ml.paired_bootstrap(a, a[:-1], mi)


def test_bits_by_position():
    t = np.array([6, 7, 11, 12, 13, 60])
    lp = -np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    b = ml.bits_by_position(lp, t, [6, 12, 24, 48, 1000])
    np.testing.assert_allclose(b["bits"][[0, 1, 3]], [2.0, 4.5, 7.0])
    assert np.isnan(b["bits"][2]) and b["count"].tolist() == [3, 2, 0, 1]
    assert b["label"] == ["t = 6–11", "t = 12–23", "t = 24–47", "t = 48–end"]
    # the count-weighted mean of the bins is the overall bits per note
    full = ml.bits_by_position(lp, t, [0, 24, 1000])
    assert np.nansum(full["bits"] * full["count"]) / full["count"].sum() == pytest.approx(-lp.mean())
    with pytest.raises(ValueError, match="length"):
        ml.bits_by_position(lp, t[:-1], [6, 12])
    with pytest.raises(ValueError, match="increasing"):
        ml.bits_by_position(lp, t, [12, 6])
