"""A small decoder-only Transformer for melodies (Definitions 21.5-21.7) with optional relative
attention in the spirit of the Music Transformer (Huang et al. 2019).

Each layer computes, per head h, the logits S = (Q K^T + S^rel) / sqrt(d_k) with
S^rel[i, j] = q_i . e_{clip(i - j)} (a learned embedding per relative distance, as in Music
Transformer's relative attention), masks j > i (causal), and applies the row-wise softmax: the
weights A = softmax(S) are a content-dependent row-stochastic matrix (Theorem 21.3), returned for
inspection.

Notebook: notebooks/02_attention.ipynb
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from m2d.models.melody_lm import MelodyModel, TrainConfig


@dataclass(frozen=True)
class TransformerConfig:
    """Size of the melody Transformer.

    Attributes:
        d_model (int): embedding width (divisible by n_heads)
        n_heads (int): attention heads per layer
        n_layers (int): decoder layers
        d_ff (int): hidden width of the feed-forward block
        dropout (float): dropout on attention weights and residual branches
        max_len (int): longest input (absolute positions are not used; this bounds the inputs)
        max_rel (int): relative distances are clipped to +-(max_rel - 1); 0 disables relative attention
        rhythm (bool): also embed the previous duration and the metrical position (past information),
            and predict the duration class (a second output layer on the same hidden state)
        abs_pos (bool): add learned absolute position embeddings (always on when max_rel = 0)
    """

    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int = 128
    dropout: float = 0.2
    max_len: int = 512
    max_rel: int = 64
    rhythm: bool = True
    abs_pos: bool = False


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention (Definition 21.7) with optional relative logits S^rel (Huang 2019).

    Notebook: notebooks/02_attention.ipynb
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, max_rel: int = 0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads, self.d_k, self.max_rel = n_heads, d_model // n_heads, max_rel
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)
        if max_rel > 0:
            self.rel = nn.Parameter(torch.randn(n_heads, 2 * max_rel - 1, self.d_k) * self.d_k ** -0.5)

    def forward(self, x: torch.Tensor, causal: bool = True, temperature: float = 1.0,
                pad: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_heads, self.d_k).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2)  # (B, H, T, T)
        if self.max_rel > 0:
            i = torch.arange(T)
            idx = (i[:, None] - i[None, :]).clamp(-(self.max_rel - 1), self.max_rel - 1) + self.max_rel - 1
            rel = torch.einsum("bhtd,hrd->bhtr", q, self.rel)  # q_i . e_r for every distance r
            scores = scores + rel.gather(-1, idx.expand(B, self.n_heads, T, T))
        scores = scores / (math.sqrt(self.d_k) * temperature)
        if causal:
            scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        y = (self.drop(weights) @ v).transpose(1, 2).reshape(B, T, D)
        return self.out(y), weights


class DecoderLayer(nn.Module):
    """Pre-norm decoder block: x + Attn(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = RelativeSelfAttention(cfg.d_model, cfg.n_heads, cfg.dropout, cfg.max_rel)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, causal=True, temperature=1.0):
        a, w = self.attn(self.ln1(x), causal=causal, temperature=temperature)
        x = x + self.drop(a)
        return x + self.drop(self.ff(self.ln2(x))), w


class MusicTransformer(MelodyModel):
    """Decoder-only Transformer over pitch classes: logits of p(x_t | x_{<t}) at every position, and
    with ``cfg.rhythm`` those of p(c_t | past) over the duration classes from the same last hidden
    state (:meth:`MelodyModel.note_logits`; p(x_t, c_t | past) is their product).

    Without relative attention (``max_rel=0``) learned absolute position embeddings are used (they can
    also be added to relative attention with ``abs_pos=True``).

    Notebook: notebooks/02_attention.ipynb
    Args:
        cfg (TransformerConfig): sizes
    """

    def __init__(self, cfg: TransformerConfig = TransformerConfig()):
        super().__init__()
        self.cfg = cfg
        self.init_embeddings(cfg.d_model, cfg.rhythm)
        if cfg.max_rel == 0 or cfg.abs_pos:
            self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.init_heads(cfg.d_model, cfg.rhythm)

    def features(self, tokens: torch.Tensor, durs: torch.Tensor | None = None,
                 onsets: torch.Tensor | None = None, causal: bool = True, temperature: float = 1.0):
        """The last layer's normalised hidden states (batch, T, d_model), read by the output layers,
        and the list of per-layer attention weights (batch, heads, T, T). ``forward`` (inherited)
        returns the pitch logits, as before. ``causal=False`` and ``temperature`` != 1 are for
        inspection only (the model is trained causal at temperature 1).

        Raises:
            ValueError: input longer than cfg.max_len, or temperature <= 0
        """
        T = tokens.shape[-1]
        if T > self.cfg.max_len:
            raise ValueError(f"sequence of {T} tokens is longer than max_len={self.cfg.max_len}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        x = self.embed(tokens, durs, onsets)
        if self.cfg.max_rel == 0 or self.cfg.abs_pos:
            x = x + self.pos(torch.arange(T))
        x = self.drop(x)
        weights = []
        for layer in self.layers:
            x, w = layer(x, causal=causal, temperature=temperature)
            weights.append(w)
        return self.ln(x), weights


def attention_maps(model: MusicTransformer, melody, causal: bool = True, temperature: float = 1.0,
                   append_end: bool = False) -> list:
    """Attention weights of every layer for one melody, as numpy arrays (heads, T, T).

    Position 0 is the start token BOS; position t >= 1 holds note x_{t-1} and its output predicts
    x_t. Each row is a probability vector over the positions it may see (Theorem 21.3).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MusicTransformer): trained model
        melody: Melody, pitch-class array, or (pitch classes, durations)
        causal (bool): mask the future (as in training); False lets rows see every position
        temperature (float): the logits are divided by it (1 = as trained)
        append_end (bool): also feed the last note, so that every note is a key (T = n + 1)
    Returns:
        maps (list of np.ndarray): one (heads, T, T) array per layer, T = number of notes (+ 1)
    """
    from m2d.models.melody_lm import collate, encode, pcs_and_durations

    if append_end:  # the appended note is never an input (inputs are shifted by one): any value
        pcs, durs = pcs_and_durations(melody)
        melody = (np.concatenate([pcs, [0]]), np.concatenate([durs, [1.0]]))
    batch = collate([encode(melody)])
    with torch.no_grad():
        _, weights = model.eval()(batch["tokens"], batch["durs"], batch["onsets"], causal=causal,
                                  temperature=temperature, return_attention=True)
    return [w[0].double().numpy() for w in weights]


def attention_row_check(model: MusicTransformer, melodies, atol: float = 1e-6) -> dict[str, float]:
    """Theorem 21.3 on a trained model: every attention matrix A (each layer, head and melody) passes
    ``stochastic.check_stochastic`` (Definition 21.2: entries >= 0, rows summing to 1), and
    its allowed entries (j <= i under the causal mask) are strictly positive.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MusicTransformer): trained model
        melodies (sequence of Melody): e.g. the test split
        atol (float): tolerance of the row sums
    Returns:
        check (dict): ``n_matrices`` (int), ``min_allowed`` (smallest A_ij with j <= i) and
        ``max_row_error`` (largest |sum_j A_ij - 1|)
    Raises:
        ValueError: no melodies, or a matrix that is not stochastic (``check_stochastic``'s message)
    """
    from m2d.attention import stochasticity
    from m2d.stochastic import check_stochastic

    if len(melodies) == 0:
        raise ValueError("need at least one melody")
    worst_min, worst_err, n_matrices = np.inf, 0.0, 0
    for m in melodies:
        for layer_maps in attention_maps(model, m):
            for A in layer_maps:  # one (T x T) matrix per head
                check_stochastic(A, atol=atol)
                lower = np.tril(np.ones(A.shape, dtype=bool))
                worst_min = min(worst_min, A[lower].min())
                worst_err = max(worst_err, stochasticity(A)[1])
                n_matrices += 1
    return {"n_matrices": n_matrices, "min_allowed": float(worst_min), "max_row_error": float(worst_err)}


def rows_at_pitch_class(model: MusicTransformer, melody, pc: int, start: int = 6, stop: int = 40,
                        max_rows: int = 6) -> dict[str, np.ndarray]:
    """The Transformer's dynamic transition rows where a melody holds one pitch class: for each
    position t with x_t = pc (start <= t < stop, the first ``max_rows``) the next-note distribution
    p(x_{t+1} = . | x_{<=t}) and the attention row of that query (last layer, mean over heads) --
    where a first-order Markov chain has one fixed row P[pc, .] for all of them.

    Input position t + 1 holds x_t, so both rows are read at t + 1 (the melody is fed with one extra
    note so that the last note's prediction exists too).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MusicTransformer): trained model
        melody (Melody): the melody
        pc (int): pitch class 0..11
        start, stop (int): positions searched
        max_rows (int): at most this many positions
    Returns:
        rows (dict): ``positions`` (list of int), ``next`` (r, 12) next-note distributions,
        ``attention`` (r, n + 1) attention rows over positions (0 = start token, j >= 1 = note j - 1)
    Raises:
        ValueError: pc outside 0..11
    """
    from m2d.models.melody_lm import next_distributions, pcs_and_durations

    if not 0 <= pc < 12:
        raise ValueError(f"pc must be a pitch class 0..11, got {pc}")
    pcs, durs = pcs_and_durations(melody)
    occ = [t for t in range(start, min(stop, pcs.size)) if pcs[t] == pc][:max_rows]
    nxt = next_distributions(model, (np.r_[pcs, 0], np.r_[durs, 1.0]))
    last = attention_maps(model, melody, append_end=True)[-1].mean(axis=0)
    idx = [t + 1 for t in occ]
    return {"positions": occ, "next": nxt[idx], "attention": last[idx]}


def head_statistics(model: MusicTransformer, melodies, max_offset: int = 8) -> dict:
    """What each head attends to, averaged over the query positions of ``melodies`` (rows t >= 1).

    For the query at position t (holding note x_{t-1}, predicting x_t) and key j <= t:
    offset t - j = 0 is the latest note itself (what an order-1 Markov chain conditions on), 1 the
    note before it, and so on. Reported per (layer, head):

    - ``offset_mass[l, h, r]``: mean weight on the note at offset r (r < max_offset; the start token
      is never counted here, only in ``bos_mass``);
    - ``bos_mass``: mean weight on the start token;
    - ``same_pc`` / ``same_pc_chance``: mean weight on earlier notes of the same pitch class (scale
      degree, since melodies are in C) as the latest note, and what uniform attention would give;
    - ``after_same`` / ``after_same_chance``: mean weight on notes that *followed* an earlier
      occurrence of the latest note's pitch class (offsets >= 1), i.e. on "what came next last time"
      -- the look-up that lets a model continue a phrase it has heard before -- and the uniform value;
    - ``bar_back`` / ``bar_back_chance``: mean weight on notes sounding exactly one 4-beat bar before
      the latest note, and the uniform-attention value;
    - ``entropy``: mean entropy of the rows in bits.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MusicTransformer): trained model
        melodies (sequence of Melody): e.g. the test split
        max_offset (int): offsets 0..max_offset-1 are reported
    Returns:
        stats (dict[str, np.ndarray]): arrays of shape (layers, heads) (``offset_mass``: (L, H, R))
    Raises:
        ValueError: no melodies
    """
    from m2d.attention import entropy_bits

    if len(melodies) == 0:
        raise ValueError("need at least one melody")
    acc: dict[str, np.ndarray] = {}
    rows = 0
    for m in melodies:
        maps = np.stack(attention_maps(model, m))  # (L, H, T, T)
        T = maps.shape[-1]
        pcs = np.asarray(m.pitch_classes)
        onset = np.concatenate([[0.0], np.cumsum(m.durations)[:-1]])
        key_pc = np.concatenate([[-1], pcs[: T - 1]])  # pitch class held at key position j
        key_on = np.concatenate([[-np.inf], onset[: T - 1]])
        t = np.arange(1, T)
        past = np.tril(np.ones((T, T), dtype=bool))[t]  # keys j <= t
        same = (key_pc[None, :] == key_pc[t][:, None]) & past
        same[np.arange(t.size), t] = False  # not the latest note itself
        bar = np.isclose(key_on[t][:, None] - key_on[None, :], 4.0) & past
        prev_pc = np.concatenate([[-1, -1], pcs[: T - 2]])  # pitch class of the note before key j
        after = (prev_pc[None, :] == key_pc[t][:, None]) & past
        after[np.arange(t.size), t] = False  # offset 0 is the latest note itself
        W = maps[:, :, t, :]  # (L, H, rows, T)
        offs = np.stack([W[..., np.arange(t.size), np.clip(t - r, 0, None)] * (t - r >= 1)
                         for r in range(max_offset)], axis=-1)  # (L, H, rows, R)
        stats = {
            "offset_mass": offs.sum(axis=2),
            "bos_mass": W[..., 0].sum(axis=2),
            "same_pc": (W * same).sum(axis=(2, 3)),
            "same_pc_chance": np.full(W.shape[:2], (same.sum(1) / past.sum(1)).sum()),
            "after_same": (W * after).sum(axis=(2, 3)),
            "after_same_chance": np.full(W.shape[:2], (after.sum(1) / past.sum(1)).sum()),
            "bar_back": (W * bar).sum(axis=(2, 3)),
            "bar_back_chance": np.full(W.shape[:2], (bar.sum(1) / past.sum(1)).sum()),
            "entropy": entropy_bits(W).sum(axis=2),
        }
        for k, v in stats.items():
            acc[k] = acc.get(k, 0) + v
        rows += t.size
    return {k: v / rows for k, v in acc.items()}


def head_preferences(stats: dict[str, np.ndarray]) -> dict:
    """Summary of :func:`head_statistics` per head (flattened layer-major, named "L{l}H{h}"): the
    attention profile over offsets, the preference ratios r = attention / uniform attention for the
    three targets (r > 1: the head looks for it), and the head that most clearly does each job.

    Notebook: notebooks/02_attention.ipynb
    Args:
        stats (dict): the result of :func:`head_statistics`
    Returns:
        summary (dict): ``heads`` (names), ``profile`` (heads, 1 + R: start token, then offsets
        0..R-1), ratios ``same_pc``, ``after_same``, ``bar_back`` (heads,), and the indices
        ``markov_head`` (most weight on the note before the latest), ``lookup_head`` (largest
        ``after_same`` ratio), ``bar_head`` (largest ``bar_back`` ratio)
    """
    L, H = stats["bos_mass"].shape
    ratios = {k: (stats[k] / stats[f"{k}_chance"]).ravel() for k in ("same_pc", "after_same",
                                                                      "bar_back")}
    profile = np.concatenate([stats["bos_mass"].reshape(-1, 1),
                              stats["offset_mass"].reshape(L * H, -1)], axis=1)
    return {"heads": [f"L{layer}H{head}" for layer in range(L) for head in range(H)],
            "profile": profile, **ratios,
            "markov_head": int(np.argmax(stats["offset_mass"][..., 1].ravel())),
            "lookup_head": int(np.argmax(ratios["after_same"])),
            "bar_head": int(np.argmax(ratios["bar_back"]))}


#: The chapter's Transformer: chosen on the validation split among a few sizes that train in about a
#: minute on one CPU core (relative attention helped most: without it validation bits rose by ~0.1).
BOOK_CONFIG = TransformerConfig(d_model=64, n_heads=4, n_layers=4, d_ff=128, dropout=0.3, max_rel=64)
#: The same Transformer without the rhythm inputs: pitch classes only, the Markov chain's information.
PITCH_ONLY_CONFIG = replace(BOOK_CONFIG, rhythm=False)
BOOK_TRAIN = TrainConfig(epochs=60, batch_size=16, lr=3e-3)


def book_model(split: dict, progress: bool = True, cfg: TransformerConfig = BOOK_CONFIG, train_cfg=None):
    """The chapter's trained Transformer (cached; trained on ``split["train"]`` when missing).

    Notebook: notebooks/02_attention.ipynb
    Args:
        split (dict): ``corpus.load_split("bach")``
        progress (bool): tqdm bar while training
        cfg (TransformerConfig): model size
        train_cfg (TrainConfig): optimisation; default :data:`BOOK_TRAIN`
    Returns:
        model (MusicTransformer), extra (dict): see :func:`m2d.models.melody_lm.train_model`
    """
    from m2d.models.melody_lm import load_or_train_melody_model

    return load_or_train_melody_model("music-transformer", lambda: MusicTransformer(cfg), cfg, split,
                                      train_cfg or BOOK_TRAIN, progress=progress)
