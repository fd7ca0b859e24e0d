"""Part II plumbing (m2d.models.melody_lm): encoding, the same scored positions as Part I, training,
the weight cache, sampling, continuations and the position-wise comparison -- on tiny models
(seconds)."""

import numpy as np
import pytest
import torch

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


@pytest.mark.parametrize("melody,msg", [
    ([], "non-empty"),
    ([0, 12], "0..11"),
    (([0, 1], [1.0, 0.0]), "positive"),
])
def test_encode_errors(melody, msg):
    with pytest.raises(ValueError, match=msg):
        ml.encode(melody)


def test_collate_pads_with_ignore():
    b = ml.collate([ml.encode([0, 1, 2]), ml.encode([3, 4])])
    assert b["tokens"].shape == (2, 3)
    assert b["targets"][1].tolist() == [3, 4, ml.IGNORE]


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
    extra = ml.train_model(model, train, val, ml.TrainConfig(epochs=3, batch_size=8, warmup_steps=2),
                           progress=False)
    assert len(extra["val_bits"]) == 3 and extra["seconds"] > 0
    assert extra["best_val_bits"] == pytest.approx(ml.bits_per_note(model, val))
    assert extra["best_val_bits"] < before
    with pytest.raises(ValueError, match="non-empty"):
        ml.train_model(model, [], val, TINY_TRAIN, progress=False)


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


def test_continue_melody(bach_split):
    m = bach_split["test"][0]
    chain = ngram.NGramModel(12, 3, alpha=0.1).fit(bach_split["train"])
    model = tiny("transformer")
    out = ml.continue_melody(m, {"chain": chain, "tf": model}, n_prefix=6, rng=4)
    assert list(out) == ["real", "chain", "tf"]
    assert out["real"].tolist() == m.pitch_classes.tolist()
    for name in ("chain", "tf"):
        assert out[name].size == len(m) and out[name][:6].tolist() == m.pitch_classes[:6].tolist()
    # each model draws with the same seed: exactly its own sampler's result
    assert out["chain"].tolist() == chain.sample(len(m), m.pitch_classes[:6], rng=4).tolist()
    assert out["tf"].tolist() == ml.sample_pitches(model, m.pitch_classes[:6], m.durations,
                                                   rng=4).tolist()
    again = ml.continue_melody(m, {"chain": chain}, rng=np.random.default_rng(4))
    assert again["chain"].tolist() == ml.continue_melody(
        m, {"chain": chain}, rng=np.random.default_rng(4))["chain"].tolist()
    assert out["chain"][6:].tolist() != out["real"][6:].tolist()
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
