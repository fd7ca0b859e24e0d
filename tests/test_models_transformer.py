"""The melody Transformer (m2d.models.transformer): causality (pitch and duration heads), stochastic
attention rows (Theorem 21.3), the dynamic rows at one pitch class, and the head statistics -- on
tiny models."""

import numpy as np
import pytest
import torch
from helpers import DurationLogits, assert_causal

from m2d.attention import entropy_bits
from m2d.models import melody_lm as ml
from m2d.models import transformer as tr
from m2d.models.transformer import (
    MusicTransformer,
    TransformerConfig,
    attention_maps,
    head_statistics,
)

TINY_T = TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32, dropout=0.0, max_rel=8)


def tiny(seed: int = 0, **kw):
    torch.manual_seed(seed)
    return MusicTransformer(TransformerConfig(**{**TINY_T.__dict__, **kw})).eval()


@pytest.mark.parametrize("kw", [{}, {"max_rel": 0}, {"abs_pos": True}])
def test_causal_mask_leaks_nothing(kw):
    assert_causal(tiny(**kw))



@pytest.mark.parametrize("kw", [{}, {"max_rel": 0}])
def test_duration_head_leaks_nothing(kw):
    assert_causal(DurationLogits(tiny(seed=1, **kw)))


def test_two_heads_on_the_last_hidden_state():
    model = tiny()
    b = ml.collate([ml.encode(([0, 4, 7, 0, 5], [1.0, 0.5, 0.5, 2.0, 1.0]))])
    h, weights = model.features(b["tokens"], b["durs"], b["onsets"])
    zp, zd = model.note_logits(b["tokens"], b["durs"], b["onsets"])
    assert h.shape == (1, 5, TINY_T.d_model) and len(weights) == TINY_T.n_layers
    torch.testing.assert_close(zp, model.head(h))
    torch.testing.assert_close(zd, model.dur_head(h))
    logits, w = model(b["tokens"], b["durs"], b["onsets"], return_attention=True)
    torch.testing.assert_close(logits, zp)  # forward still returns the pitch logits
    assert zd.shape == (1, 5, ml.N_DURATION_CLASSES) and len(w) == TINY_T.n_layers
    assert not hasattr(tiny(rhythm=False), "dur_head")  # pitch only: no duration head


def test_attention_rows_stochastic_and_causal():
    model = tiny()
    maps = attention_maps(model, np.arange(10) % 12)
    assert len(maps) == 2 and maps[0].shape == (2, 10, 10)
    for A in maps:
        np.testing.assert_allclose(A.sum(-1), 1.0, atol=1e-6)
        lower = np.tril(np.ones((10, 10), dtype=bool))
        assert np.all(A[:, ~lower] == 0) and np.all(A[:, lower] > 0)
    full = attention_maps(model, np.arange(10) % 12, causal=False, append_end=True)
    assert full[0].shape == (2, 11, 11) and np.all(full[0] > 0)


def test_temperature_flattens_rows():
    model = tiny()
    ent = [entropy_bits(attention_maps(model, np.arange(16) % 12, temperature=t)[0]).mean()
           for t in (0.25, 1.0, 4.0)]
    assert ent[0] < ent[1] < ent[2]
    with pytest.raises(ValueError, match="temperature"):
        attention_maps(model, [0, 1, 2], temperature=0)


def test_model_errors():
    with pytest.raises(ValueError, match="divisible"):
        MusicTransformer(TransformerConfig(d_model=10, n_heads=4))
    m = tiny(max_len=8)
    with pytest.raises(ValueError, match="max_len"):
        m(torch.zeros(1, 9, dtype=torch.long), torch.zeros(1, 9, dtype=torch.long),
          torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="rhythm"):
        m(torch.zeros(1, 3, dtype=torch.long))


def test_pitch_only_config_differs_only_by_rhythm():
    assert tr.PITCH_ONLY_CONFIG.rhythm is False and tr.BOOK_CONFIG.rhythm is True
    assert {**tr.PITCH_ONLY_CONFIG.__dict__, "rhythm": True} == tr.BOOK_CONFIG.__dict__


# ---------------------------------------------------------------- Theorem 21.3 on a model
def test_attention_row_check(bach_split):
    model = tiny()
    melodies = bach_split["test"][:3]
    c = tr.attention_row_check(model, melodies)
    assert c["n_matrices"] == 3 * 2 * 2  # melodies x layers x heads
    assert 0 < c["min_allowed"] < 1 and c["max_row_error"] < 1e-6
    with pytest.raises(ValueError, match="at least one"):
        tr.attention_row_check(model, [])


class _Broken(torch.nn.Module):
    """A stand-in whose attention rows sum to 2: the check must reject it."""

    cfg = TINY_T

    def forward(self, tokens, durs=None, onsets=None, causal=True, temperature=1.0,
                return_attention=False):
        T = tokens.shape[-1]
        return torch.zeros(1, T, 12), [2 * torch.eye(T)[None, None]]


def test_attention_row_check_rejects_a_non_stochastic_matrix():
    with pytest.raises(ValueError):
        tr.attention_row_check(_Broken(), [np.arange(6) % 12])


def test_rows_at_pitch_class(bach_split):
    model = tiny()
    m = bach_split["test"][0]
    pc = int(np.bincount(m.pitch_classes[6:40], minlength=12).argmax())
    r = tr.rows_at_pitch_class(model, m, pc, start=6, stop=40, max_rows=3)
    occ = r["positions"]
    assert 1 <= len(occ) <= 3 and all(m.pitch_classes[t] == pc and 6 <= t < 40 for t in occ)
    assert r["next"].shape == (len(occ), 12) and r["attention"].shape == (len(occ), len(m) + 1)
    np.testing.assert_allclose(r["next"].sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(r["attention"].sum(1), 1.0, atol=1e-6)
    # the next-note row at the occurrence t is the model's p(x_{t+1} | x_{<=t})
    nxt = ml.next_distributions(model, (np.r_[m.pitch_classes, 0], np.r_[m.durations, 1.0]))
    np.testing.assert_allclose(r["next"][0], nxt[occ[0] + 1])
    assert np.all(r["attention"][0, occ[0] + 2:] == 0)  # causal: nothing after the query
    assert tr.rows_at_pitch_class(model, m, pc, start=0, stop=0)["next"].shape == (0, 12)
    with pytest.raises(ValueError, match="pitch class"):
        tr.rows_at_pitch_class(model, m, 12)


# ---------------------------------------------------------------- what the heads look at
def test_head_statistics(bach_split):
    model = tiny()
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


def _alternating():
    return [type("M", (), {"pitch_classes": np.array([0, 2, 0, 2, 0, 2, 0, 2]),
                           "durations": np.ones(8)})()]


def test_head_statistics_on_known_patterns():
    mel = _alternating()
    st = head_statistics(_FixedAttention(1), mel, max_offset=3)
    np.testing.assert_allclose(st["offset_mass"][0, 0], [0, 6 / 7, 0])  # row 1 can only reach BOS
    # the note two back has the latest note's pitch class (offset 2): none of it for offset-1 attention
    assert st["same_pc"][0, 0] == 0
    # the key at offset 1 holds the note before the latest; it followed the same pitch class
    # as the latest note whenever t >= 3 (pattern 0 2 0 2 ...)
    assert st["after_same"][0, 0] == pytest.approx(5 / 7)
    st2 = head_statistics(_FixedAttention(2), mel, max_offset=3)
    assert st2["same_pc"][0, 0] == pytest.approx(5 / 7)


def test_head_preferences():
    st = head_statistics(_FixedAttention(1), _alternating(), max_offset=3)
    hp = tr.head_preferences(st)
    assert hp["heads"] == ["L0H0", "L0H1"]
    assert hp["profile"].shape == (2, 4)
    np.testing.assert_allclose(hp["profile"][0], [st["bos_mass"][0, 0], *st["offset_mass"][0, 0]])
    np.testing.assert_allclose(hp["after_same"], (st["after_same"] / st["after_same_chance"]).ravel())
    assert hp["after_same"][0] > 1 and hp["same_pc"][0] == 0  # looks for what followed, not the note
    # a hand-made table: head 3 of 4 is the Markov head, head 1 the look-up, head 2 the bar head
    L, H = 2, 2
    fake = {k: np.ones((L, H)) for k in ("bos_mass", "same_pc", "same_pc_chance", "after_same",
                                         "after_same_chance", "bar_back", "bar_back_chance")}
    fake["offset_mass"] = np.zeros((L, H, 3))
    fake["offset_mass"][1, 1, 1] = 0.9
    fake["after_same"][0, 1] = 3.0
    fake["bar_back"][1, 0] = 2.0
    hp = tr.head_preferences(fake)
    assert (hp["markov_head"], hp["lookup_head"], hp["bar_head"]) == (3, 1, 2)
