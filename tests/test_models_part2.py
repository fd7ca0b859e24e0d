"""Part II models: encoding, causality, the same scored positions as Part I, training, the weight
cache, sampling and the head statistics -- all on tiny configurations (seconds)."""

import numpy as np
import pytest
import torch

from m2d import markov
from m2d.models import melody_lm as ml
from m2d.models.lstm import LSTMConfig, MelodyLSTM
from m2d.models.transformer import (
    MusicTransformer,
    TransformerConfig,
    attention_maps,
    head_statistics,
    n_parameters,
)

TINY_T = TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32, dropout=0.0, max_rel=8)
TINY_L = LSTMConfig(d_embed=8, hidden=16, dropout=0.0)
TINY_TRAIN = ml.TrainConfig(epochs=2, batch_size=8, warmup_steps=2)


def tiny(kind: str, seed: int = 0, **kw):
    torch.manual_seed(seed)
    if kind == "transformer":
        return MusicTransformer(TransformerConfig(**{**TINY_T.__dict__, **kw})).eval()
    return MelodyLSTM(LSTMConfig(**{**TINY_L.__dict__, **kw})).eval()


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


# ---------------------------------------------------------------- causality and attention
@pytest.mark.parametrize("kind,kw", [("transformer", {}), ("transformer", {"max_rel": 0}),
                                     ("transformer", {"abs_pos": True}), ("lstm", {})])
def test_causal_mask_leaks_nothing(kind, kw):
    model = tiny(kind, **kw)
    rng = np.random.default_rng(0)
    pcs, durs = rng.integers(0, 12, 20), rng.choice([0.5, 1.0, 2.0], 20)
    b1 = ml.collate([ml.encode((pcs, durs))])
    pcs2, durs2 = pcs.copy(), durs.copy()
    pcs2[12:] = (pcs2[12:] + 5) % 12  # change the future from note 12 on
    durs2[12:] = 4.0
    b2 = ml.collate([ml.encode((pcs2, durs2))])
    with torch.no_grad():
        y1 = model(b1["tokens"], b1["durs"], b1["onsets"])
        y2 = model(b2["tokens"], b2["durs"], b2["onsets"])
    # input position t holds note t-1: positions 0..12 see only notes 0..11, which did not change
    torch.testing.assert_close(y1[:, :13], y2[:, :13], rtol=0, atol=1e-6)
    assert not torch.allclose(y1[:, 14:], y2[:, 14:])


def test_attention_rows_stochastic_and_causal():
    model = tiny("transformer")
    maps = attention_maps(model, np.arange(10) % 12)
    assert len(maps) == 2 and maps[0].shape == (2, 10, 10)
    for A in maps:
        np.testing.assert_allclose(A.sum(-1), 1.0, atol=1e-6)
        lower = np.tril(np.ones((10, 10), dtype=bool))
        assert np.all(A[:, ~lower] == 0) and np.all(A[:, lower] > 0)
    full = attention_maps(model, np.arange(10) % 12, causal=False, append_end=True)
    assert full[0].shape == (2, 11, 11) and np.all(full[0] > 0)


def test_temperature_flattens_rows():
    model = tiny("transformer")
    from m2d.attention import entropy_bits

    ent = [entropy_bits(attention_maps(model, np.arange(16) % 12, temperature=t)[0]).mean()
           for t in (0.25, 1.0, 4.0)]
    assert ent[0] < ent[1] < ent[2]
    with pytest.raises(ValueError, match="temperature"):
        attention_maps(model, [0, 1, 2], temperature=0)


def test_model_errors():
    with pytest.raises(ValueError, match="divisible"):
        MusicTransformer(TransformerConfig(d_model=10, n_heads=4))
    m = tiny("transformer", max_len=8)
    with pytest.raises(ValueError, match="max_len"):
        m(torch.zeros(1, 9, dtype=torch.long), torch.zeros(1, 9, dtype=torch.long),
          torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="rhythm"):
        m(torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="left to right"):
        tiny("lstm")(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 3, dtype=torch.long),
                     torch.zeros(1, 3, dtype=torch.long), causal=False)


# ---------------------------------------------------------------- the same positions as Part I
def test_scored_positions_match_part_one(bach_split):
    test = bach_split["test"]
    lp = ml.log2_probs(tiny("lstm"), test, first=6)
    for k in (0, 1, 3, 6):
        mlp, _ = markov.NGramModel(12, k, alpha=0.1).fit(bach_split["train"]).log2_probs(test, first=6)
        assert lp.size == mlp.size
    assert lp.size == sum(max(0, len(m) - 6) for m in test)
    # an untrained model is close to uniform: about log2(12) bits
    assert ml.bits_per_note(tiny("lstm"), test) == pytest.approx(np.log2(12), abs=0.3)
    with pytest.raises(ValueError, match="no positions"):
        ml.bits_per_note(tiny("lstm"), [np.arange(5)], first=6)


def test_log2_probs_equal_next_note_distributions():
    model = tiny("transformer")
    pcs = np.array([0, 2, 4, 5, 7, 9, 11, 0, 7, 4])
    P = ml.next_note_distributions(model, pcs)
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


def test_motif_return_rate():
    assert ml.motif_return_rate([0, 2, 4, 5, 0, 2, 4, 5], n=4, min_gap=4) == pytest.approx(1.0)
    assert ml.motif_return_rate(list(range(12)), n=3, min_gap=2) == 0.0
    # a held note repeats itself at distance 1 only: not a return with min_gap 2
    assert ml.motif_return_rate([0] * 3 + [1, 2, 3, 4, 5], n=2, min_gap=2) == 0.0
    assert ml.motif_return_rate([0, 1], n=4) == 0.0
    with pytest.raises(ValueError, match=">= 1"):
        ml.motif_return_rate([0, 1, 2], n=0)


def test_head_statistics(bach_split):
    model = tiny("transformer")
    st = head_statistics(model, bach_split["test"][:3], max_offset=6)
    assert st["offset_mass"].shape == (2, 2, 6)
    total = st["offset_mass"].sum(-1) + st["bos_mass"]
    assert np.all(total <= 1 + 1e-9)
    assert np.all((st["same_pc"] >= 0) & (st["same_pc"] <= 1))
    assert np.all(st["bar_back_chance"] >= 0) and np.all(st["entropy"] > 0)
    assert np.all((st["after_same"] >= 0) & (st["after_same"] <= 1)) and np.all(st["after_same_chance"] > 0)
    with pytest.raises(ValueError, match="at least one"):
        head_statistics(model, [])


class _FixedAttention(torch.nn.Module):
    """A stand-in whose every head attends only to offset r (for checking head_statistics)."""

    def __init__(self, r):
        super().__init__()
        self.r = r
        self.cfg = TINY_T

    def forward(self, tokens, durs=None, onsets=None, causal=True, temperature=1.0, return_attention=False):
        T = tokens.shape[-1]
        A = torch.zeros(1, 2, T, T)
        for i in range(T):
            A[0, :, i, max(i - self.r, 0)] = 1.0
        return torch.zeros(1, T, 12), [A]


def test_head_statistics_on_known_patterns():
    mel = [type("M", (), {"pitch_classes": np.array([0, 2, 0, 2, 0, 2, 0, 2]),
                          "durations": np.ones(8)})()]
    st = head_statistics(_FixedAttention(1), mel, max_offset=3)
    np.testing.assert_allclose(st["offset_mass"][0, 0], [0, 6 / 7, 0])  # row 1 can only reach BOS
    # the note two back has the latest note's pitch class (offset 2): none of it for offset-1 attention
    assert st["same_pc"][0, 0] == 0
    # the key at offset 1 holds the note before the latest; it followed the same pitch class
    # as the latest note whenever t >= 3 (pattern 0 2 0 2 ...)
    assert st["after_same"][0, 0] == pytest.approx(5 / 7)
    st2 = head_statistics(_FixedAttention(2), mel, max_offset=3)
    assert st2["same_pc"][0, 0] == pytest.approx(5 / 7)


def test_parameter_counts():
    assert n_parameters(tiny("transformer")) > 0
    lstm = tiny("lstm")
    h, e = TINY_L.hidden, TINY_L.d_embed
    lstm_params = 4 * h * (e + h) + 8 * h
    assert n_parameters(lstm) == lstm_params + 12 * h + 12 + (13 + ml.N_DURATION + ml.N_ONSET) * e


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


def test_sample_markov(bach_split):
    ng = markov.NGramModel(12, 3, alpha=0.1).fit(bach_split["train"])
    s = ml.sample_markov(ng, [0, 2, 4, 5, 7, 9], 20, rng=1)
    assert s.size == 20 and s[:6].tolist() == [0, 2, 4, 5, 7, 9]
    assert s.tolist() == ml.sample_markov(ng, [0, 2, 4, 5, 7, 9], 20, rng=1).tolist()
    with pytest.raises(ValueError, match="prefix"):
        ml.sample_markov(ng, [0, 2], 20)
