"""An autoregressive Transformer over audio-token sequences (Definition 21.12): Part II's Music
Transformer with another vocabulary, trained by maximum likelihood, scored exactly by the chain rule,
and sampled left to right.

Part II's :class:`m2d.models.transformer.MusicTransformer` is built for the 12 pitch classes (its token
embedding and output layer have fixed sizes, and it can embed rhythm). :class:`CodeTransformer` reuses
it unchanged -- the same relative-attention decoder layers -- and only swaps those two layers for a
vocabulary of K codes plus a start token BOS = K:

    inputs (BOS, c_1, ..., c_{T-1}),  outputs p_theta(c_t = . | c_{<t}) for t = 1..T,
    log p_theta(c_1, ..., c_T) = sum_t log p_theta(c_t | c_{<t})     (chain rule, exact).

Notebook: notebooks/05_landscape.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from m2d import cache
from m2d.models.common import TrainConfig
from m2d.models.transformer import MusicTransformer, TransformerConfig
from m2d.rng import torch_generator

#: Bumped whenever encoding or training below changes what a cached model would contain.
CODE_VERSION = 1


class CodeTransformer(MusicTransformer):
    """Decoder-only Transformer over codes 0..K-1 (Part II's layers, another vocabulary, no rhythm).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        vocab_size (int): K, the codebook size (>= 2)
        cfg (TransformerConfig or None): sizes (default TransformerConfig(); ``rhythm`` is switched off)
    Raises:
        ValueError: vocab_size < 2
    """

    def __init__(self, vocab_size: int, cfg: TransformerConfig | None = None):
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
        super().__init__(replace(cfg or TransformerConfig(), rhythm=False))
        self.vocab_size = int(vocab_size)
        self.bos = int(vocab_size)
        self.tok = nn.Embedding(self.vocab_size + 1, self.cfg.d_model)
        self.head = nn.Linear(self.cfg.d_model, self.vocab_size)

    def forward(self, tokens: torch.Tensor, causal: bool = True, temperature: float = 1.0,
                return_attention: bool = False):
        """Logits (batch, T, K) of p(c_t | c_{<t}) for inputs (BOS, c_1..c_{T-1}).

        Raises:
            ValueError: tokens outside 0..K (K is BOS), longer than cfg.max_len, temperature <= 0
        """
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) > self.bos):
            raise ValueError(f"input tokens must lie in 0..{self.bos} (codes and BOS = {self.bos})")
        return super().forward(tokens, causal=causal, temperature=temperature,
                               return_attention=return_attention)


def _check_codes(codes, vocab_size: int) -> np.ndarray:
    c = np.asarray(codes)
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise ValueError(f"code sequences must be a non-empty (n, T) array, got shape {c.shape}")
    if not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"codes must be integers, got dtype {c.dtype}")
    if c.min() < 0 or c.max() >= vocab_size:
        raise ValueError(f"codes must lie in 0..{vocab_size - 1}, got {c.min()}..{c.max()}")
    return c.astype(np.int64)


def shift_right(codes: np.ndarray, bos: int) -> np.ndarray:
    """Model inputs (BOS, c_1, ..., c_{T-1}) of code sequences (n, T): output t then predicts c_t."""
    c = np.asarray(codes, dtype=np.int64)
    return np.concatenate([np.full((c.shape[0], 1), bos, dtype=np.int64), c[:, :-1]], axis=1)


# --------------------------------------------------------------------------------------------------
# scoring


@torch.no_grad()
def next_distributions(model: CodeTransformer, codes: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """p_theta(c_t = k | c_{<t}) for every position t and every code k: shape (n, T, K), rows sum to 1.

    Notebook: notebooks/05_landscape.ipynb
    """
    c = _check_codes(codes, model.vocab_size)
    model.eval()
    logits = model(torch.from_numpy(shift_right(c, model.bos)), temperature=temperature)
    return torch.softmax(logits.double(), -1).numpy()


@torch.no_grad()
def log2_probs(model: CodeTransformer, codes: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """log2 p_theta(c_t | c_{<t}) of every code of every sequence, shape (n, T); the row sums are
    log2 p_theta(c_1..c_T), the exact log-likelihood of each sequence (Definition 21.12).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (CodeTransformer): trained model
        codes (np.ndarray): (n, T) codes in 0..K-1, T <= cfg.max_len
        batch_size (int): sequences per forward pass
    Returns:
        lp (np.ndarray): float64, shape (n, T)
    Raises:
        ValueError: codes of the wrong shape or range
    """
    c = _check_codes(codes, model.vocab_size)
    was_training = model.training
    model.eval()
    out = []
    for s in range(0, len(c), batch_size):
        cb = torch.from_numpy(c[s:s + batch_size])
        logp = torch.log_softmax(model(torch.from_numpy(shift_right(cb.numpy(), model.bos))).double(), -1)
        out.append(logp.gather(-1, cb[..., None])[..., 0].numpy() / np.log(2.0))
    model.train(was_training)
    return np.concatenate(out)


def bits_per_token(model: CodeTransformer, codes: np.ndarray) -> float:
    """Cross-entropy H = -(1 / nT) sum log2 p_theta(c_t | c_{<t}) in bits per token (lower is better).

    Notebook: notebooks/05_landscape.ipynb
    """
    return float(-log2_probs(model, codes).mean())


# --------------------------------------------------------------------------------------------------
# sampling


@torch.no_grad()
def sample(model: CodeTransformer, n: int, length: int, rng: int | np.random.Generator,
           temperature: float = 1.0,
           prefix: np.ndarray | None = None, window: int | None = None) -> np.ndarray:
    """Sample c_t ~ p_theta(. | c_{<t}) left to right for n sequences at once (Definition 21.12).

    With a ``prefix`` (n, P) the first P codes are kept and the rest continue them (the natural control
    of an autoregressive model). Sequences longer than ``window`` (default cfg.max_len) condition on
    BOS and the last ``window`` - 1 codes only (a sliding context).

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (CodeTransformer): trained model
        n (int): number of sequences, >= 1
        length (int): codes per sequence, >= 1
        rng (int or np.random.Generator): seed of the draws (a torch generator)
        temperature (float): logits are divided by it (> 0)
        prefix (np.ndarray or None): (n, P) codes to continue, P <= length
        window (int or None): longest input the model sees
    Returns:
        codes (np.ndarray): int64, shape (n, length)
    Raises:
        ValueError: bad n, length, temperature, window or prefix
    """
    if n < 1 or length < 1:
        raise ValueError(f"n and length must be positive, got n={n}, length={length}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    window = model.cfg.max_len if window is None else int(window)
    if not 2 <= window <= model.cfg.max_len:
        raise ValueError(f"window must be in 2..{model.cfg.max_len}, got {window}")
    out = np.zeros((n, length), dtype=np.int64)
    start = 0
    if prefix is not None:
        p = _check_codes(prefix, model.vocab_size)
        if p.shape[0] != n or p.shape[1] > length:
            raise ValueError(f"prefix must have shape ({n}, P) with P <= {length}, got {p.shape}")
        out[:, : p.shape[1]] = p
        start = p.shape[1]
    gen = torch_generator(rng)
    model.eval()
    for t in range(start, length):
        # BOS then the last window - 1 codes (all of them while they fit): the output at the last
        # position predicts c_t. Training sequences start anywhere in a melody, so BOS only marks the
        # start of the context and a sliding window stays in the training distribution.
        ctx = out[:, max(0, t - window + 1):t]
        inp = np.concatenate([np.full((n, 1), model.bos, dtype=np.int64), ctx], axis=1)
        logits = model(torch.from_numpy(inp), temperature=temperature)[:, -1].double()
        probs = torch.softmax(logits, -1)
        out[:, t] = torch.multinomial(probs, 1, generator=gen)[:, 0].numpy()
    return out


def sample_sets(model: CodeTransformer, n: int, length: int, n_sets: int = 10) -> dict[str, np.ndarray]:
    """``n_sets`` sets of n sampled code sequences (seeds 0..n_sets-1, :func:`sample`), cached by the
    model's weights (:func:`m2d.cache.fingerprint`); the first set is timed (single core), so the
    generation-time tables quote the time measured when the entry was built.

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        result (dict): ``codes`` int array (n_sets, n, length), ``seconds`` for the first set
    Raises:
        ValueError: n_sets < 1 (and whatever :func:`sample` rejects)
    """
    if n_sets < 1:
        raise ValueError(f"n_sets must be >= 1, got {n_sets}")

    def build() -> dict[str, np.ndarray | float]:
        first, seconds = cache.timed(lambda: sample(model, n, length, rng=0))
        rest = [sample(model, n, length, rng=s) for s in range(1, n_sets)]
        return {"codes": np.stack([first, *rest]), "seconds": seconds}

    out = cache.cached_arrays("code-lm-sample-sets", [cache.fingerprint(model), n, length, n_sets],
                              build, version=CODE_VERSION)
    out["codes"] = out["codes"].astype(np.int64)
    return out


# --------------------------------------------------------------------------------------------------
# training


@dataclass(frozen=True)
class CodeTrainConfig(TrainConfig):
    """:class:`m2d.models.common.TrainConfig` for code sequences (3 epochs of 64 sequences per step
    by default); ``max_val`` validation sequences (the first ones) are scored after each epoch."""

    epochs: int = 3
    batch_size: int = 64
    max_val: int = 256


def train_code_lm(model: CodeTransformer, train: np.ndarray, val: np.ndarray,
                  cfg: CodeTrainConfig = CodeTrainConfig(), progress: bool = True) -> dict[str, Any]:
    """Train by maximum likelihood: minimise -(1 / nT) sum log p_theta(c_t | c_{<t}) over the training
    sequences (cross-entropy of every next code), keeping the best epoch on validation.

    Runs on one torch thread (the matrices are small; extra threads only add synchronisation on a
    shared machine); the previous setting is restored.

    Notebook: notebooks/05_landscape.ipynb
    Args:
        model (CodeTransformer): trained in place (ends in eval mode with the best weights)
        train, val (np.ndarray): code sequences (n, T)
        cfg (CodeTrainConfig): optimisation settings
        progress (bool): tqdm bar (one tick per step)
    Returns:
        extra (dict): ``train_bits`` (per epoch), ``val_bits`` (per epoch), ``best_epoch``,
        ``best_val_bits``, ``seconds``
    Raises:
        ValueError: empty data, codes out of range, non-positive epochs or batch size
    """
    from m2d.models.common import fit_sequence_model

    tr, va = _check_codes(train, model.vocab_size), _check_codes(val, model.vocab_size)[: cfg.max_val]
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {cfg.epochs}, {cfg.batch_size}")

    def epoch_batches(rng):
        order = rng.permutation(len(tr))
        for s in range(0, len(order), cfg.batch_size):
            yield tr[order[s:s + cfg.batch_size]]

    def batch_loss(cb):
        logits = model(torch.from_numpy(shift_right(cb, model.bos)))
        loss = nn.functional.cross_entropy(logits.reshape(-1, model.vocab_size),
                                           torch.from_numpy(cb).reshape(-1))
        return loss, len(cb)  # every sequence has the same length: weighting by sequences = by codes

    return fit_sequence_model(model, epoch_batches, batch_loss, lambda: bits_per_token(model, va),
                              epochs=cfg.epochs, steps_per_epoch=-(-len(tr) // cfg.batch_size), lr=cfg.lr,
                              weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_steps, rng=cfg.seed,
                              desc="code Transformer", progress=progress)


def load_or_train_code_lm(vocab_size: int, train: np.ndarray, val: np.ndarray,
                          cfg: TransformerConfig, train_cfg: CodeTrainConfig = CodeTrainConfig(),
                          name: str = "code-transformer", progress: bool = True
                          ) -> tuple[CodeTransformer, dict[str, Any]]:
    """A trained :class:`CodeTransformer` from the weight cache (:func:`m2d.models.common.load_or_train`),
    keyed by (code version, model and training configs, vocabulary, the code sequences), or trained now.

    Notebook: notebooks/05_landscape.ipynb
    Returns:
        model (CodeTransformer): in eval mode
        extra (dict): training history (:func:`train_code_lm`)
    """
    from m2d.models.common import load_or_train, seed_everything

    key = {"code_version": CODE_VERSION, "vocab": int(vocab_size), "model_config": asdict(cfg),
           "train_config": asdict(train_cfg), "train": cache.fingerprint(np.asarray(train, dtype=np.int64)),
           "val": cache.fingerprint(np.asarray(val, dtype=np.int64)[: train_cfg.max_val])}

    def make() -> CodeTransformer:
        seed_everything(train_cfg.seed)
        return CodeTransformer(vocab_size, cfg)

    return load_or_train(name, key, make, lambda m: train_code_lm(m, train, val, train_cfg, progress))


#: The chapter's code Transformer: Part II's layers at d_model 64, two of them (four layers trained for
#: two epochs took twice as long and ended worse on validation), three epochs -- about a minute on one
#: CPU core for Part III's training patches of 64 codes each.
BOOK_CONFIG = TransformerConfig(d_model=64, n_heads=4, n_layers=2, d_ff=128, dropout=0.1, max_len=64,
                                max_rel=64)
BOOK_TRAIN = CodeTrainConfig(epochs=3, batch_size=64, lr=3e-3)


def book_model(vocab_size: int, train: np.ndarray, val: np.ndarray, progress: bool = True
               ) -> tuple[CodeTransformer, dict[str, Any]]:
    """The chapter's trained code Transformer (:data:`BOOK_CONFIG`, :data:`BOOK_TRAIN`), cached.

    Notebook: notebooks/05_landscape.ipynb
    """
    return load_or_train_code_lm(vocab_size, train, val, BOOK_CONFIG, BOOK_TRAIN, progress=progress)
