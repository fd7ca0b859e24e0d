"""The LSTM baseline (m2d.models.lstm): causal by construction (both heads), the Transformer's call,
parameter count -- on a tiny model."""

import pytest
import torch
from helpers import DurationLogits, assert_causal

from m2d.models import common
from m2d.models import lstm as ls
from m2d.models import melody_lm as ml

TINY_L = ls.LSTMConfig(d_embed=8, hidden=16, dropout=0.0)


def tiny(seed: int = 0, **kw):
    torch.manual_seed(seed)
    return ls.MelodyLSTM(ls.LSTMConfig(**{**TINY_L.__dict__, **kw})).eval()


def test_causal_mask_leaks_nothing():
    assert_causal(tiny())



def test_duration_head_leaks_nothing():
    assert_causal(DurationLogits(tiny(seed=1)))


def test_duration_head_reads_the_same_state():
    """Both heads are linear maps of the one state h_t: the same call gives both."""
    model = tiny()
    b = ml.collate([ml.encode(([0, 4, 7, 0], [1.0, 0.5, 0.5, 2.0]))])
    h, weights = model.features(b["tokens"], b["durs"], b["onsets"])
    zp, zd = model.note_logits(b["tokens"], b["durs"], b["onsets"])
    assert h.shape == (1, 4, TINY_L.hidden) and weights == []
    torch.testing.assert_close(zp, model.head(h))
    torch.testing.assert_close(zd, model.dur_head(h))
    assert zd.shape == (1, 4, ml.N_DURATION_CLASSES)


def test_same_call_as_the_transformer_without_attention():
    model = tiny()
    b = ml.collate([ml.encode([0, 4, 7, 0])])
    logits, weights = model(b["tokens"], b["durs"], b["onsets"], return_attention=True)
    assert logits.shape == (1, 4, 12) and weights == []
    pitch_only = tiny(rhythm=False)
    assert pitch_only(b["tokens"]).shape == (1, 4, 12)  # no rhythm inputs needed


def test_errors():
    z = torch.zeros(1, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="left to right"):
        tiny()(z, z, z, causal=False)
    with pytest.raises(ValueError, match="rhythm"):
        tiny()(z)


def test_parameter_count_is_the_lstm_formula():
    """4 gates of (input + hidden) -> hidden weights plus two biases each, the output layer(s) and
    the embeddings: with rhythm three embeddings and the duration head, pitch only neither."""
    h, e, c = TINY_L.hidden, TINY_L.d_embed, ml.N_DURATION_CLASSES
    lstm_params = 4 * h * (e + h) + 8 * h
    assert common.n_parameters(tiny()) == (lstm_params + 12 * h + 12 + (h * c + c)
                                           + (13 + ml.N_DURATION + ml.N_ONSET) * e)
    assert common.n_parameters(tiny(rhythm=False)) == lstm_params + 12 * h + 12 + 13 * e


def test_pitch_only_config_differs_only_by_rhythm():
    assert ls.PITCH_ONLY_CONFIG.rhythm is False and ls.BOOK_CONFIG.rhythm is True
    assert {**ls.PITCH_ONLY_CONFIG.__dict__, "rhythm": True} == ls.BOOK_CONFIG.__dict__
