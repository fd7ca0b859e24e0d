"""Limit 1, "Markov chains are not dead": a neural k-gram. The state is still the k previous notes (a
k-th order Markov chain), but the transition probabilities come from learned note embeddings instead of
a table of counts (Bengio et al.'s neural probabilistic language model, in miniature):

    h = tanh(W [e(x_{t-k}); ...; e(x_{t-1})] + b),    P(x_t = . | x_{t-k..t-1}) = softmax(V h + a),

with one embedding e(s) in R^d per pitch class s, shared by all k context slots. The table of a count-
based chain has 12^k (12 - 1) free entries (Proposition 21.1) and is empty for most contexts; this
model has 12 d + k d H + H + 12 (H + 1) parameters, and contexts never seen in training still get a
sensible distribution, because similar notes have similar embeddings.

It is trained and scored on exactly Part I's data and positions: fitted on the training melodies
(every position t >= k, as :class:`m2d.ngram.NGramModel` counts them), and scored in bits per note
on the positions t >= ``first`` that ``NGramModel(12, k).bits_per_note(seqs, first)`` scores.

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from m2d import cache
from m2d.ngram import as_state_sequences, cross_entropy_bits

#: Bumped whenever the model or training below changes what a cached model would contain.
CODE_VERSION = 1
N_STATES = 12


class NeuralNGram(nn.Module):
    """P(x_t | x_{t-k}, ..., x_{t-1}) from learned note embeddings and one hidden layer.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        order (int): k >= 0, the number of previous notes (k = 0: note frequencies only)
        n_states (int): alphabet size (12 pitch classes)
        d_embed (int): embedding size d
        hidden (int): hidden units H
        dropout (float): dropout on the hidden layer during training
    Raises:
        ValueError: negative order, non-positive sizes
    """

    def __init__(self, order: int, n_states: int = N_STATES, d_embed: int = 8, hidden: int = 64,
                 dropout: float = 0.1):
        super().__init__()
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        if n_states < 2 or d_embed < 1 or hidden < 1:
            raise ValueError(f"need n_states >= 2, d_embed >= 1, hidden >= 1; got {n_states}, {d_embed}, "
                             f"{hidden}")
        self.order, self.n_states = int(order), int(n_states)
        self.embed = nn.Embedding(n_states, d_embed)
        if order:
            self.hidden = nn.Linear(order * d_embed, hidden)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(hidden, n_states)
        else:
            self.bias = nn.Parameter(torch.zeros(n_states))

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_states) for contexts (N, k): column j holds x_{t-k+j} (oldest first)."""
        if context.ndim != 2 or context.shape[1] != self.order:
            raise ValueError(f"contexts must have shape (N, {self.order}), got {tuple(context.shape)}")
        if self.order == 0:
            return self.bias.expand(context.shape[0], -1)
        e = self.embed(context).flatten(1)
        return self.out(self.drop(torch.tanh(self.hidden(e))))


def contexts_and_targets(sequences: Iterable, order: int, first: int | None = None,
                         n_states: int = N_STATES) -> tuple[np.ndarray, np.ndarray]:
    """All (context, next note) pairs: for every sequence and every t >= max(first, order), the
    context (x_{t-k}, ..., x_{t-1}) and the target x_t -- in the order ``NGramModel.log2_probs`` visits.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        sequences (iterable): Melody objects or arrays of states
        order (int): k >= 0
        first (int or None): first position (None: k, i.e. every position with a full context)
        n_states (int): alphabet size
    Returns:
        X (np.ndarray): int64 (N, k), oldest note first
        y (np.ndarray): int64 (N,)
    Raises:
        ValueError: negative order, states out of range
    """
    if order < 0:
        raise ValueError(f"order must be >= 0, got {order}")
    start = order if first is None else max(int(first), order)
    xs, ys = [], []
    for s in as_state_sequences(sequences, n_states):
        if len(s) <= start:
            continue
        t = np.arange(start, len(s))
        xs.append(np.stack([s[t - order + j] for j in range(order)], axis=1) if order else
                  np.zeros((t.size, 0), dtype=np.int64))
        ys.append(s[t])
    if not ys:
        return np.zeros((0, order), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(xs).astype(np.int64), np.concatenate(ys).astype(np.int64)


@torch.no_grad()
def next_distributions(model: NeuralNGram, contexts: np.ndarray) -> np.ndarray:
    """P(x_t = . | context) for contexts (N, k): shape (N, n_states), rows sum to 1."""
    model.eval()
    return torch.softmax(model(torch.as_tensor(np.asarray(contexts, dtype=np.int64))).double(), -1).numpy()


@torch.no_grad()
def log2_probs(model: NeuralNGram, sequences: Iterable, first: int = 6) -> np.ndarray:
    """log2 P(x_t | x_{t-k..t-1}) at every position t >= max(first, k): the same targets, in the same
    order, as ``ngram.NGramModel(12, k).log2_probs(sequences, first)[0]``.

    Notebook: notebooks/05_landscape.ipynb
    """
    X, y = contexts_and_targets(sequences, model.order, first, model.n_states)
    if len(y) == 0:
        return np.zeros(0)
    model.eval()
    logp = torch.log_softmax(model(torch.from_numpy(X)).double(), -1)
    return logp.gather(-1, torch.from_numpy(y)[:, None])[:, 0].numpy() / np.log(2.0)


def bits_per_note(model: NeuralNGram, sequences: Iterable, first: int = 6) -> float:
    """Cross-entropy -mean log2 P(x_t | context) over positions t >= first, in bits per note (Part I's
    metric).

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: no position to score
    """
    lp = log2_probs(model, sequences, first)
    return cross_entropy_bits(lp, f"all sequences have at most {first} notes")


@dataclass(frozen=True)
class NGramTrainConfig:
    """Model size and optimisation of the neural k-gram.

    Attributes:
        d_embed (int): embedding size
        hidden (int): hidden units
        dropout (float): dropout on the hidden layer
        epochs (int): passes over all training pairs
        batch_size (int): pairs per step
        lr (float): Adam learning rate (constant)
        weight_decay (float): AdamW weight decay
        seed (int): seed of initialisation, dropout and batch order
        first (int): first scored position of the validation melodies (Part I: 6)
    """

    d_embed: int = 8
    hidden: int = 64
    dropout: float = 0.1
    epochs: int = 30
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.01
    seed: int = 0
    first: int = 6


def train_neural_ngram(model: NeuralNGram, train: Sequence, val: Sequence,
                       cfg: NGramTrainConfig = NGramTrainConfig(), progress: bool = True) -> dict[str, Any]:
    """Maximum likelihood on every (context, next note) pair of the training melodies, keeping the
    epoch with the lowest validation bits per note (positions t >= cfg.first).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (NeuralNGram): trained in place, ends in eval mode with the best weights
        train, val (sequences): Melody objects or state arrays
        cfg (NGramTrainConfig): settings
        progress (bool): tqdm bar (one tick per epoch)
    Returns:
        extra (dict): ``train_bits``, ``val_bits`` (per epoch), ``best_epoch``, ``best_val_bits``,
        ``seconds``
    Raises:
        ValueError: no training pairs or no validation positions, bad epochs/batch size
    """
    from m2d.models.common import fit_sequence_model

    X, y = contexts_and_targets(train, model.order, None, model.n_states)
    if len(y) == 0:
        raise ValueError(f"no training pairs: every training melody has at most {model.order} notes")
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {cfg.epochs}, {cfg.batch_size}")
    Xv, yv = contexts_and_targets(val, model.order, cfg.first, model.n_states)
    if len(yv) == 0:
        raise ValueError("no validation positions to score")
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Xvt, yvt = torch.from_numpy(Xv), torch.from_numpy(yv)
    gen = torch.Generator().manual_seed(cfg.seed)  # the batch order (torch's generator, as before)

    def epoch_batches(_rng):
        perm = torch.randperm(len(yt), generator=gen)
        for s in range(0, len(perm), cfg.batch_size):
            yield perm[s:s + cfg.batch_size]

    def batch_loss(b):
        return nn.functional.cross_entropy(model(Xt[b]), yt[b]), len(b)

    @torch.no_grad()
    def val_bits() -> float:
        return float(nn.functional.cross_entropy(model(Xvt).double(), yvt) / np.log(2.0))

    return fit_sequence_model(model, epoch_batches, batch_loss, val_bits, epochs=cfg.epochs,
                              steps_per_epoch=-(-len(yt) // cfg.batch_size), lr=cfg.lr,
                              weight_decay=cfg.weight_decay, warmup_steps=None, clip_norm=None, rng=cfg.seed,
                              desc=f"neural {model.order}-gram", progress=progress)


def load_or_train_neural_ngram(order: int, train: Sequence, val: Sequence,
                               cfg: NGramTrainConfig = NGramTrainConfig(), progress: bool = True
                               ) -> tuple[NeuralNGram, dict[str, Any]]:
    """A trained :class:`NeuralNGram` of the given order from the weight cache, or trained now
    (:func:`m2d.models.common.load_or_train`, keyed by code version, order, settings and the data).

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        model (NeuralNGram): in eval mode
        extra (dict): training history (:func:`train_neural_ngram`)
    """
    from m2d.models.common import load_or_train, seed_everything

    key = {"code_version": CODE_VERSION, "order": int(order), "config": asdict(cfg),
           "train": cache.fingerprint(as_state_sequences(train, N_STATES)),
           "val": cache.fingerprint(as_state_sequences(val, N_STATES))}

    def make() -> NeuralNGram:
        seed_everything(cfg.seed)
        return NeuralNGram(order, N_STATES, cfg.d_embed, cfg.hidden, cfg.dropout)

    return load_or_train(f"neural-{order}gram", key, make,
                         lambda m: train_neural_ngram(m, train, val, cfg, progress=progress))


@torch.no_grad()
def sample(model: NeuralNGram, prefix: Sequence[int], length: int,
           rng: np.random.Generator | int | None = None, temperature: float = 1.0) -> np.ndarray:
    """Continue ``prefix`` to ``length`` notes: x_t ~ P(. | x_{t-k..t-1}), as a k-th order chain does.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (NeuralNGram): trained model of order k
        prefix (sequence of int): at least k pitch classes (kept as they are)
        length (int): notes in the result, >= len(prefix)
        rng (Generator or int): randomness
        temperature (float): logits are divided by it (> 0)
    Returns:
        pcs (np.ndarray): int64, shape (length,)
    Raises:
        ValueError: prefix shorter than k or longer than length, states out of range, bad temperature
    """
    out = [int(x) for x in prefix]
    k = model.order
    if len(out) < k or len(out) > length:
        raise ValueError(f"prefix needs between {k} and {length} notes, got {len(out)}")
    if any(not 0 <= x < model.n_states for x in out):
        raise ValueError(f"prefix states must lie in 0..{model.n_states - 1}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(rng)
    model.eval()
    while len(out) < length:
        ctx = torch.tensor([out[len(out) - k:]] if k else [[]], dtype=torch.long).reshape(1, k)
        p = torch.softmax(model(ctx)[0].double() / temperature, -1).numpy()
        out.append(int(rng.choice(model.n_states, p=p / p.sum())))
    return np.asarray(out, dtype=np.int64)


def seen_contexts(chain, sequences: Iterable, first: int = 6) -> np.ndarray:
    """For every position scored by ``chain.log2_probs(sequences, first)`` (in the same order): True when
    its k-note context occurred in the chain's training data, False when the count-based chain has to
    fall back to its smoothing prior (the uniform row).

    The context (x_{t-k}, ..., x_{t-1}) has the chain's code sum_{m=1..k} x_{t-m} n^(m-1).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        chain (ngram.NGramModel): a fitted count-based chain of order k
        sequences (iterable): Melody objects or state arrays
        first (int): first scored position
    Returns:
        seen (np.ndarray): bool, one per scored position
    """
    k, n = chain.order, chain.n_states
    X, _ = contexts_and_targets(sequences, k, first, n)
    code = np.zeros(len(X), dtype=np.int64)
    for m in range(1, k + 1):
        code += X[:, k - m] * n ** (m - 1)
    return np.isin(code, np.fromiter(chain.counts.keys(), dtype=np.int64, count=len(chain.counts)))


def compare_orders(split: dict, orders: Sequence[int] = range(7), alpha: float = 0.1,
                   first: int = 6, cfg: NGramTrainConfig = NGramTrainConfig()
                   ) -> dict[str, np.ndarray]:
    """Count-based k-th order chains (Part I, :class:`m2d.ngram.NGramModel`, add-``alpha``) against
    neural k-grams (:func:`load_or_train_neural_ngram`) of the same orders, scored on the same
    positions t >= ``first`` of the validation and test melodies (Limit 1): bits per note, the
    count table's size n^(k+1) and the contexts it saw, the network's parameter count.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        split (dict): ``{"train", "val", "test"}`` lists of Melody
        orders (sequence of int): the orders k to compare
        alpha (float): the count chains' pseudo-count
        first (int): first scored position (>= every order)
        cfg (NGramTrainConfig): the neural k-grams' settings (the book's by default)
    Returns:
        table (dict): arrays ``order``, ``count_val``, ``count_test``, ``neural_val``,
            ``neural_test``, ``entries``, ``contexts_seen``, ``parameters``
    Raises:
        ValueError: an order above ``first`` (its first positions would not be scored)
    """
    from m2d.models.common import n_parameters
    from m2d.ngram import NGramModel, kth_order_entry_count

    rows = []
    for k in orders:
        if k > first:
            raise ValueError(f"order {k} exceeds first = {first}")
        net, _ = load_or_train_neural_ngram(int(k), split["train"], split["val"], cfg,
                                            progress=False)
        chain = NGramModel(N_STATES, int(k), alpha=alpha).fit(split["train"])
        rows.append([k, *(chain.bits_per_note(split[s], first=first) for s in ("val", "test")),
                     *(bits_per_note(net, split[s], first=first) for s in ("val", "test")),
                     kth_order_entry_count(N_STATES, int(k)), chain.n_contexts_seen,
                     n_parameters(net)])
    cols = list(zip(*rows, strict=True))
    names = ("order", "count_val", "count_test", "neural_val", "neural_test", "entries",
             "contexts_seen", "parameters")
    ints = {"order", "entries", "contexts_seen", "parameters"}
    return {n: np.array(c, dtype=np.int64 if n in ints else float)
            for n, c in zip(names, cols, strict=True)}


def bits_by_context(models: dict[str, np.ndarray], seen: np.ndarray) -> dict[str, tuple[float, float]]:
    """Mean bits per note -log2 p of each model on the positions whose context was seen in training
    and on those never seen (:func:`seen_contexts`): where the neural k-gram's advantage comes from.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        models (dict[str, np.ndarray]): name -> log2 probabilities of the scored positions
        seen (np.ndarray): bool per scored position
    Returns:
        bits (dict[str, (float, float)]): name -> (seen, never seen); NaN for an empty group
    Raises:
        ValueError: a model scored another number of positions than ``seen``
    """
    seen = np.asarray(seen, dtype=bool)
    out = {}
    for name, lp in models.items():
        lp = np.asarray(lp, dtype=float)
        if lp.shape != seen.shape:
            raise ValueError(f"model {name!r} has {lp.size} positions, seen has {seen.size}")
        out[name] = tuple(float(-lp[g].mean()) if g.any() else float("nan") for g in (seen, ~seen))
    return out
