"""The LSTM baseline (Hochreiter & Schmidhuber 1997) for melodies, with the Transformer's API.

A recurrent model summarises the whole past x_{<t} in a fixed-size state h_t (no attention matrix):
its context is unbounded in principle but squeezed through h_t.

Notebook: notebooks/02_attention.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from m2d.models.melody_lm import MelodyModel, TrainConfig


@dataclass(frozen=True)
class LSTMConfig:
    """Size of the melody LSTM.

    Attributes:
        d_embed (int): embedding width
        hidden (int): LSTM state size
        n_layers (int): stacked LSTM layers
        dropout (float): dropout on embeddings, between layers and before the output
        rhythm (bool): also embed the previous duration and the metrical position (past information),
            and predict the duration class (a second output layer on the same state h_t)
    """

    d_embed: int = 64
    hidden: int = 128
    n_layers: int = 1
    dropout: float = 0.3
    rhythm: bool = True


class MelodyLSTM(MelodyModel):
    """LSTM over pitch classes: logits of p(x_t | x_{<t}) at every position, and with ``cfg.rhythm``
    those of p(c_t | past) over the duration classes from the same state h_t (same calls as
    :class:`m2d.models.transformer.MusicTransformer`, without attention weights).

    Notebook: notebooks/02_attention.ipynb
    """

    def __init__(self, cfg: LSTMConfig = LSTMConfig()):
        super().__init__()
        self.cfg = cfg
        self.init_embeddings(cfg.d_embed, cfg.rhythm)
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = nn.LSTM(cfg.d_embed, cfg.hidden, cfg.n_layers, batch_first=True,
                            dropout=cfg.dropout if cfg.n_layers > 1 else 0.0)
        self.init_heads(cfg.hidden, cfg.rhythm)

    def features(self, tokens: torch.Tensor, durs: torch.Tensor | None = None,
                 onsets: torch.Tensor | None = None, causal: bool = True, temperature: float = 1.0):
        """The states h_t (batch, T, hidden) (after dropout), read by the output layers, and an empty
        attention list; ``forward`` (inherited) returns the pitch logits as before. ``temperature``
        is accepted for the Transformer's call and ignored (there is no attention to sharpen).

        Raises:
            ValueError: ``causal=False`` (a left-to-right LSTM is causal by construction), missing rhythm
        """
        if not causal:
            raise ValueError("an LSTM reads left to right; it has no non-causal mode")
        x = self.embed(tokens, durs, onsets)
        h, _ = self.lstm(self.drop(x))
        return self.drop(h), []


#: The chapter's LSTM, chosen on the validation split like the Transformer.
BOOK_CONFIG = LSTMConfig(d_embed=64, hidden=256, n_layers=1, dropout=0.3)
#: The same LSTM without the rhythm inputs: pitch classes only, the Markov chain's information.
PITCH_ONLY_CONFIG = replace(BOOK_CONFIG, rhythm=False)
BOOK_TRAIN = TrainConfig(epochs=40, batch_size=16, lr=3e-3)


def book_model(split: dict, progress: bool = True, cfg: LSTMConfig = BOOK_CONFIG, train_cfg=None):
    """The chapter's trained LSTM (cached; trained on ``split["train"]`` when missing).

    Notebook: notebooks/02_attention.ipynb
    Returns:
        model (MelodyLSTM), extra (dict): see :func:`m2d.models.melody_lm.train_model`
    """
    from m2d.models.melody_lm import load_or_train_melody_model

    return load_or_train_melody_model("melody-lstm", lambda: MelodyLSTM(cfg), cfg, split,
                                      train_cfg or BOOK_TRAIN, progress=progress)
