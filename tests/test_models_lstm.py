"""The LSTM baseline (m2d.models.lstm): causal by construction, the Transformer's call, parameter
count -- on a tiny model."""

import numpy as np
import pytest
import torch

from m2d.models import common
from m2d.models import lstm as ls
from m2d.models import melody_lm as ml

TINY_L = ls.LSTMConfig(d_embed=8, hidden=16, dropout=0.0)


def tiny(seed: int = 0, **kw):
    torch.manual_seed(seed)
    return ls.MelodyLSTM(ls.LSTMConfig(**{**TINY_L.__dict__, **kw})).eval()


def test_causal_mask_leaks_nothing():
    model = tiny()
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
    torch.testing.assert_close(y1[:, :13], y2[:, :13], rtol=0, atol=1e-6)
    assert not torch.allclose(y1[:, 14:], y2[:, 14:])


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
    """4 gates of (input + hidden) -> hidden weights plus two biases each, the output layer and
    the three embeddings."""
    h, e = TINY_L.hidden, TINY_L.d_embed
    lstm_params = 4 * h * (e + h) + 8 * h
    assert common.n_parameters(tiny()) == lstm_params + 12 * h + 12 + (13 + ml.N_DURATION + ml.N_ONSET) * e
    assert common.n_parameters(tiny(rhythm=False)) == lstm_params + 12 * h + 12 + 13 * e


def test_pitch_only_config_differs_only_by_rhythm():
    assert ls.PITCH_ONLY_CONFIG.rhythm is False and ls.BOOK_CONFIG.rhythm is True
    assert {**ls.PITCH_ONLY_CONFIG.__dict__, "rhythm": True} == ls.BOOK_CONFIG.__dict__
