"""Part II plumbing shared by the Transformer and the LSTM: encoding melodies, training, scoring in
bits per note on exactly the positions Part I scores, sampling, and repetition statistics.

Tokens are the twelve pitch classes 0..11 of Part I plus a start token BOS = 12. A melody
x_0, ..., x_{n-1} becomes the input sequence (BOS, x_0, ..., x_{n-2}) with targets (x_0, ..., x_{n-1}):
the output at input position t is the model's p(x_t | x_{<t}). Besides the pitch class each input
position may carry two rhythm features taken from the *past* only: the duration of the previous note
d_{t-1} and the metrical position of the note to be predicted, (d_0 + ... + d_{t-1}) mod 4 quarter notes.
The scored targets are the same pitch classes at the same positions as
``ngram.NGramModel.bits_per_note(..., first=6)``.

A model with rhythm inputs (``cfg.rhythm``) also predicts the duration: a second output layer on
the same hidden state h_t gives p(c_t | past) over the duration classes c_t = c(d_t) (the nearest of
``pitch.DURATION_BINS`` in log2, as for the inputs), so the model of a note is

    p(x_t, c_t | x_{<t}, d_{<t}) = p(x_t | x_{<t}, d_{<t}) p(c_t | x_{<t}, d_{<t}),

pitch and duration independent *given the past* (not independent: both read the same h_t). It is
trained on the sum of the two cross-entropies, the joint negative log-likelihood. Pitch-only models
(``cfg.rhythm`` False) predict pitch classes only, as before.

Notebook: notebooks/02_attention.ipynb
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from torch import nn

from m2d import cache
from m2d.models import common
from m2d.ngram import NGramModel, NoteNGram, cross_entropy_bits
from m2d.pitch import DURATION_BINS, duration_class, pcs_to_midi
from m2d.rng import torch_seed

#: Bumped whenever encoding or training below changes what a cached model would contain.
#: 2: rhythm models also predict the duration class (a second head, trained on the joint loss).
CODE_VERSION = 2
N_PITCH = 12
BOS = 12
VOCAB_IN = 13
#: Duration inputs: class 0 means "no previous note" (BOS), class k >= 1 the bin
#: DURATION_BINS[k - 1] (quarter notes; ``pitch.DURATION_BINS``).
N_DURATION = len(DURATION_BINS) + 1
#: Duration targets: the class c(d_t) in 0..N_DURATION_CLASSES-1, i.e. DURATION_BINS[c].
N_DURATION_CLASSES = len(DURATION_BINS)
#: Metrical positions: sixteenth notes within a 4-quarter bar.
N_ONSET = 16
IGNORE = -100


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------
def pcs_and_durations(melody) -> tuple[np.ndarray, np.ndarray]:
    """(pitch classes, durations) of a Melody, of a pitch-class array (durations 1) or of a pair
    (a single duration in a pair is used for every note)."""
    from m2d.corpus import melody_notes

    if hasattr(melody, "pitch_classes") or (isinstance(melody, tuple) and len(melody) == 2):
        pcs, durs = melody_notes(melody, pitch_classes=True)
        pcs = pcs.astype(np.int64)
        return pcs, np.broadcast_to(durs, pcs.shape).copy()
    pcs = np.asarray(melody, dtype=np.int64)
    return pcs, np.ones(pcs.shape, dtype=float)


def encode(melody) -> dict[str, np.ndarray]:
    """Encode a melody as model inputs and targets: p(x_t, c_t | past) is read at input position t.

    inputs: tokens (BOS, x_0..x_{n-2}), duration class of d_{t-1} (0 at BOS), metrical position
    (d_0 + ... + d_{t-1}) mod 4 in sixteenths; targets: pitch classes x_0..x_{n-1} and duration
    classes c(d_0)..c(d_{n-1}) (``pitch.duration_class``).

    Notebook: notebooks/02_attention.ipynb
    Args:
        melody: a ``corpus.Melody``, a 1-D array of pitch classes (durations taken as 1), or a tuple
            (pitch classes, durations in quarter notes)
    Returns:
        enc (dict): int64 arrays ``tokens``, ``durs``, ``onsets``, ``targets``, ``dur_targets``,
        each of length n, and ``length`` n
    Raises:
        ValueError: empty melody, pitch classes outside 0..11, durations not positive and finite
    """
    pcs, durs = pcs_and_durations(melody)
    if pcs.ndim != 1 or pcs.size == 0:
        raise ValueError(f"a melody must be a non-empty 1-D sequence, got shape {pcs.shape}")
    if pcs.min() < 0 or pcs.max() >= N_PITCH:
        raise ValueError(f"pitch classes must lie in 0..11, got {pcs.min()}..{pcs.max()}")
    if durs.shape != pcs.shape or not np.all(np.isfinite(durs) & (durs > 0)):
        raise ValueError("durations must be positive and finite, one per note")
    n = pcs.size
    tokens = np.concatenate([[BOS], pcs[:-1]])
    dclass = duration_class(durs).reshape(-1)
    d_in = np.concatenate([[0], 1 + dclass[:-1]])
    onset = np.concatenate([[0.0], np.cumsum(durs[:-1])])
    pos = np.round(np.mod(onset, 4.0) * 4).astype(np.int64) % N_ONSET
    return {"tokens": tokens.astype(np.int64), "durs": d_in.astype(np.int64), "onsets": pos,
            "targets": pcs.copy(), "dur_targets": dclass.astype(np.int64), "length": np.int64(n)}


def collate(encoded: Sequence[dict[str, np.ndarray]]):
    """Pad a list of :func:`encode` results into torch tensors of shape (batch, max length).

    Padded inputs are 0, padded targets are ``IGNORE`` (-100, skipped by the loss).
    Returns:
        batch (dict[str, torch.Tensor]): ``tokens``, ``durs``, ``onsets``, ``targets``, ``dur_targets``
    """
    import torch

    T = max(int(e["length"]) for e in encoded)
    out = {}
    for name, fill in (("tokens", 0), ("durs", 0), ("onsets", 0), ("targets", IGNORE),
                       ("dur_targets", IGNORE)):
        a = np.full((len(encoded), T), fill, dtype=np.int64)
        for i, e in enumerate(encoded):
            a[i, : int(e["length"])] = e[name]
        out[name] = torch.from_numpy(a)
    return out


class MelodyModel(nn.Module):
    """Base of the Part II melody models: the input e(x_t) + e(d_t) + e(o_t), the sum of learned
    embeddings of the previous pitch class (or BOS), and with ``rhythm`` its duration bin and the
    onset's position in the bar (:func:`encode`); a network maps it to a hidden state h_t (causal:
    from inputs 0..t only), and linear output layers map h_t to the logits of p(x_t | past) and,
    with ``rhythm``, of p(c_t | past) over the duration classes.

    Subclasses call :meth:`init_embeddings` first in their ``__init__`` and :meth:`init_heads`
    last, and implement ``features(tokens, durs, onsets, causal, temperature) -> (h, attention)``;
    ``forward`` returns the pitch logits (and the attention with ``return_attention``) as always,
    :meth:`note_logits` both heads.

    Notebook: notebooks/02_attention.ipynb
    """

    def init_embeddings(self, d: int, rhythm: bool) -> None:
        """Create the embeddings ``tok`` (and ``dur``, ``onset`` with rhythm) of width ``d``."""
        self.tok = nn.Embedding(VOCAB_IN, d)
        if rhythm:
            self.dur = nn.Embedding(N_DURATION, d)
            self.onset = nn.Embedding(N_ONSET, d)

    def init_heads(self, width: int, rhythm: bool) -> None:
        """Create the output layers ``head`` (12 pitch classes) and, with rhythm, ``dur_head``
        (N_DURATION_CLASSES duration classes), both reading the hidden state of width ``width``."""
        self.head = nn.Linear(width, N_PITCH)
        if rhythm:
            self.dur_head = nn.Linear(width, N_DURATION_CLASSES)

    @property
    def predicts_durations(self) -> bool:
        """True for a model with a duration head (``cfg.rhythm``)."""
        return hasattr(self, "dur_head")

    def features(self, tokens, durs=None, onsets=None, causal: bool = True,
                 temperature: float = 1.0):  # pragma: no cover - implemented by subclasses
        """The hidden states h (batch, T, width) and the list of attention weights."""
        raise NotImplementedError

    def forward(self, tokens, durs=None, onsets=None, causal: bool = True, temperature: float = 1.0,
                return_attention: bool = False):
        """Pitch logits (batch, T, 12) of p(x_t | past); with ``return_attention`` also the list of
        per-layer attention weights (batch, heads, T, T) (empty for an LSTM). ``causal=False`` and
        ``temperature`` != 1 are for inspection only (the models are trained causal at temperature 1).

        Raises:
            ValueError: see the subclass's ``features``
        """
        h, weights = self.features(tokens, durs, onsets, causal=causal, temperature=temperature)
        logits = self.head(h)
        return (logits, weights) if return_attention else logits

    def note_logits(self, tokens, durs, onsets):
        """(pitch logits (batch, T, 12), duration logits (batch, T, N_DURATION_CLASSES)) from the
        same hidden states: p(x_t, c_t | past) = softmax(pitch)[x_t] softmax(duration)[c_t].

        Raises:
            ValueError: a pitch-only model (no duration head)
        """
        if not self.predicts_durations:
            raise ValueError("this model predicts pitch classes only (cfg.rhythm is False): it has "
                             "no duration head")
        h, _ = self.features(tokens, durs, onsets)
        return self.head(h), self.dur_head(h)

    def embed(self, tokens, durs=None, onsets=None):
        """The summed input embeddings, shape (batch, T, d).

        Raises:
            ValueError: a rhythm model called without durations and onsets
        """
        x = self.tok(tokens)
        if self.cfg.rhythm:
            if durs is None or onsets is None:
                raise ValueError("this model embeds rhythm: pass durs and onsets (see melody_lm.encode)")
            x = x + self.dur(durs) + self.onset(onsets)
        return x


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig(common.TrainConfig):
    """:class:`m2d.models.common.TrainConfig` for melodies (a batch is ``batch_size`` melodies),
    scored from position ``first`` on (the same as Part I's ``first=6``)."""

    first: int = 6


def _loss(model, batch):
    """Mean cross-entropy (nats) of the pitch targets, plus that of the duration targets for a
    model with a duration head: the joint -log p(x_t, c_t | past) per note."""
    import torch.nn.functional as F

    def ce(logits, targets):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                               ignore_index=IGNORE)

    if getattr(model, "predicts_durations", False):
        logits, dur_logits = model.note_logits(batch["tokens"], batch["durs"], batch["onsets"])
        return ce(logits, batch["targets"]) + ce(dur_logits, batch["dur_targets"])
    return ce(model(batch["tokens"], batch["durs"], batch["onsets"]), batch["targets"])


def train_model(model, train: Sequence, val: Sequence, cfg: TrainConfig = TrainConfig(),
                progress: bool = True) -> dict[str, Any]:
    """Train a melody model by maximum likelihood, keeping the weights of the epoch with the lowest
    validation bits per note (positions t >= cfg.first). The loss is the cross-entropy of every next
    pitch class, plus that of every next duration class for a model with a duration head (the
    joint -log2 p(x_t, c_t | past); then ``train_bits`` and ``val_bits`` are joint bits per note).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MelodyModel): maps (tokens, durs, onsets) to logits (batch, T, 12)
        train, val (sequences of Melody): training and validation melodies
        cfg (TrainConfig): optimisation settings
        progress (bool): show a tqdm progress bar (one tick per epoch)
    Returns:
        extra (dict): ``train_bits`` and ``val_bits`` per epoch, ``best_epoch``, ``best_val_bits``,
        ``seconds``; for a model with a duration head also ``val_pitch_bits`` and
        ``val_duration_bits`` per epoch (their sum is ``val_bits``)
    Raises:
        ValueError: empty training or validation set, non-positive epochs or batch size
    """
    from m2d.models.common import fit_sequence_model

    if not train or not val:
        raise ValueError("training and validation sets must be non-empty")
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {cfg.epochs}, {cfg.batch_size}")
    enc = [encode(m) for m in train]

    def epoch_batches(rng):
        order = rng.permutation(len(enc))
        # batch melodies of similar length together (less padding), in random order
        order = order[np.argsort([int(enc[i]["length"]) + rng.random() * 20 for i in order],
                                 kind="stable")]
        batches = [order[i: i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        for b in rng.permutation(len(batches)):
            yield collate([enc[i] for i in batches[b]])

    def batch_loss(batch):
        return _loss(model, batch), int((batch["targets"] != IGNORE).sum())

    parts: dict[str, list[float]] = {"val_pitch_bits": [], "val_duration_bits": []}

    def val_bits():
        if not getattr(model, "predicts_durations", False):
            return bits_per_note(model, val, first=cfg.first)
        lp = note_log2_probs(model, val, first=cfg.first)
        parts["val_pitch_bits"].append(float(-lp["pitch"].mean()))
        parts["val_duration_bits"].append(float(-lp["duration"].mean()))
        return float(-lp["joint"].mean())

    extra = fit_sequence_model(model, epoch_batches, batch_loss, val_bits,
                               epochs=cfg.epochs, steps_per_epoch=-(-len(enc) // cfg.batch_size),
                               lr=cfg.lr, weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_steps,
                               rng=cfg.seed, desc=type(model).__name__, progress=progress)
    return {**extra, **parts} if parts["val_pitch_bits"] else extra


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------
def log2_probs(model, melodies: Iterable, first: int = 6, batch_size: int = 32) -> np.ndarray:
    """log2 p(x_t | x_{<t}) for every position t >= first of every melody, in order (flattened).

    The same positions as ``ngram.NGramModel(...).log2_probs(melodies, first)`` for any order
    k <= first (melodies of at most ``first`` notes contribute nothing).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (torch.nn.Module): a melody model (Transformer or LSTM)
        melodies (iterable): Melody objects or pitch-class arrays
        first (int): first scored position, >= 0
        batch_size (int): melodies per forward pass
    Returns:
        lp (np.ndarray): log2 probabilities, float64
    Raises:
        ValueError: negative first
    """
    return _scored_log2(model, melodies, first, batch_size,
                        lambda b: [model(b["tokens"], b["durs"], b["onsets"])], ("targets",))[0]


def _scored_log2(model, melodies: Iterable, first: int, batch_size: int, logits_of,
                 targets: Sequence[str]) -> list[np.ndarray]:
    """The evaluation loop shared by :func:`log2_probs` and :func:`note_log2_probs`: encode, batch,
    run ``logits_of(batch)`` (one logits tensor per head) in eval mode without gradients, and
    gather log2 of each head's target (``targets``: the matching :func:`encode` keys) at every
    position t >= first; the model's training mode is restored afterwards.

    Returns:
        lp (list of np.ndarray): one flattened float64 array per head
    Raises:
        ValueError: negative first
    """
    import torch

    if first < 0:
        raise ValueError(f"first must be >= 0, got {first}")
    enc = [encode(m) for m in melodies]
    out: list[list[np.ndarray]] = [[] for _ in targets]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(enc), batch_size):
                chunk = enc[i: i + batch_size]
                logp = [torch.log_softmax(z.double(), -1) for z in logits_of(collate(chunk))]
                for j, e in enumerate(chunk):
                    n = int(e["length"])
                    if n <= first:
                        continue
                    for acc, lpz, key in zip(out, logp, targets, strict=True):
                        tgt = torch.from_numpy(e[key][first:n])
                        acc.append(lpz[j, first:n].gather(-1, tgt[:, None])[:, 0].numpy() / np.log(2))
    finally:
        model.train(was_training)
    return [np.concatenate(acc) if acc else np.zeros(0) for acc in out]


def note_log2_probs(model, melodies: Iterable, first: int = 6,
                    batch_size: int = 32) -> dict[str, np.ndarray]:
    """Per-note log2 probabilities of pitch, duration and the whole note, at every position
    t >= first of every melody (flattened, in the order of :func:`log2_probs` and
    :func:`scored_positions`):

        pitch: log2 p(x_t | past),  duration: log2 p(c_t | past),
        joint: log2 p(x_t, c_t | past) = pitch + duration (the two heads, one hidden state),

    where past = (x_{<t}, d_{<t}) and c_t = c(d_t) is the duration class. A pitch-only model gives
    ``pitch`` only.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MelodyModel): a melody model (Transformer or LSTM)
        melodies (iterable): Melody objects, pitch-class arrays or (pitch classes, durations) pairs
        first (int): first scored position, >= 0
        batch_size (int): melodies per forward pass
    Returns:
        lp (dict[str, np.ndarray]): ``pitch`` (and ``duration``, ``joint``), float64
    Raises:
        ValueError: negative first
    """
    if not getattr(model, "predicts_durations", False):
        return {"pitch": log2_probs(model, melodies, first, batch_size)}
    pitch, dur = _scored_log2(model, melodies, first, batch_size,
                              lambda b: model.note_logits(b["tokens"], b["durs"], b["onsets"]),
                              ("targets", "dur_targets"))
    return {"pitch": pitch, "duration": dur, "joint": pitch + dur}


def bits_per_note(model, melodies: Iterable, first: int = 6) -> float:
    """Cross-entropy H = -(1/N) sum_t log2 p(x_t | x_{<t}) over positions t >= first, in bits per note.

    Notebook: notebooks/02_attention.ipynb
    Raises:
        ValueError: no position to score
    """
    lp = log2_probs(model, melodies, first)
    return cross_entropy_bits(lp, f"all melodies have at most {first} notes")


def next_distributions(model, melody) -> np.ndarray:
    """Row t is the model's p(x_t = . | x_{<t}) over the 12 pitch classes (a dynamic transition row).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (torch.nn.Module): a melody model
        melody: Melody, pitch-class array, or (pitch classes, durations)
    Returns:
        P (np.ndarray): shape (n, 12), rows sum to 1
    """
    import torch

    batch = collate([encode(melody)])
    with torch.no_grad():
        logits = model.eval()(batch["tokens"], batch["durs"], batch["onsets"])
    return torch.softmax(logits[0].double(), -1).numpy()


# --------------------------------------------------------------------------------------------
# Sampling and repetition structure
# --------------------------------------------------------------------------------------------
def sample_pitches(model, prefix: Sequence[int], durations: Sequence[float],
                   rng: np.random.Generator | int | None = None, temperature: float = 1.0) -> np.ndarray:
    """Sample pitch classes x_t ~ p(. | x_{<t}) left to right, continuing ``prefix`` for as many notes
    as ``durations`` has (the rhythm is given, the model chooses the pitches).

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (torch.nn.Module): a melody model
        prefix (sequence of int): the first pitch classes (kept as they are), possibly empty
        durations (sequence of float): quarter notes of every note of the result
        rng (Generator or int): randomness
        temperature (float): logits are divided by it (> 0)
    Returns:
        pcs (np.ndarray): int64 pitch classes, length len(durations)
    Raises:
        ValueError: prefix longer than durations, bad temperature or pitch classes
    """
    import torch

    rng = np.random.default_rng(rng)
    pcs = [int(x) for x in prefix]
    durs = np.asarray(durations, dtype=float)
    if len(pcs) > durs.size:
        raise ValueError(f"prefix has {len(pcs)} notes but only {durs.size} durations")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if any(not 0 <= x < N_PITCH for x in pcs):
        raise ValueError("prefix pitch classes must lie in 0..11")
    model.eval()
    with torch.no_grad():
        while len(pcs) < durs.size:
            t = len(pcs)
            batch = collate([encode((np.asarray(pcs + [0], dtype=np.int64), durs[: t + 1]))])
            logits = model(batch["tokens"], batch["durs"], batch["onsets"])[0, t].double()
            p = torch.softmax(logits / temperature, -1).numpy()
            pcs.append(int(rng.choice(N_PITCH, p=p / p.sum())))
    return np.asarray(pcs, dtype=np.int64)


def sample_notes(model, prefix_pcs: Sequence[int], prefix_durations: Sequence[float], length: int,
                 rng: np.random.Generator | int | None = None,
                 temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Sample notes with the model's own rhythm, left to right, continuing a prefix to ``length``
    notes: at each step x_t ~ p(. | past) and then c_t ~ p(. | past) from the two heads of the same
    hidden state (:meth:`MelodyModel.note_logits`: independent given the past, so this draws from
    p(x_t, c_t | past)); the new note lasts d_t = DURATION_BINS[c_t] quarter notes.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (MelodyModel): a melody model with a duration head (``cfg.rhythm``)
        prefix_pcs (sequence of int): the first pitch classes (kept as they are), possibly empty
        prefix_durations (sequence of float): their durations in quarter notes (kept as they are)
        length (int): notes in the result, prefix included
        rng (Generator or int): randomness (two ``rng.choice`` per new note: pitch, then duration)
        temperature (float): both heads' logits are divided by it (> 0)
    Returns:
        pcs (np.ndarray): int64 pitch classes; durations (np.ndarray): quarter notes; both (length,)
    Raises:
        ValueError: a pitch-only model, prefixes of different lengths or longer than ``length``,
            bad pitch classes or durations, temperature <= 0
    """
    import torch

    if not getattr(model, "predicts_durations", False):
        raise ValueError("this model predicts pitch classes only (no duration head): use "
                         "sample_pitches with a given rhythm")
    pcs = [int(x) for x in prefix_pcs]
    durs = [float(d) for d in prefix_durations]
    if len(pcs) != len(durs):
        raise ValueError(f"prefix has {len(pcs)} pitch classes but {len(durs)} durations")
    if len(pcs) > length:
        raise ValueError(f"prefix has {len(pcs)} notes, more than length={length}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if any(not 0 <= x < N_PITCH for x in pcs):
        raise ValueError("prefix pitch classes must lie in 0..11")
    if any(not (np.isfinite(d) and d > 0) for d in durs):
        raise ValueError("prefix durations must be positive and finite")
    rng = np.random.default_rng(rng)
    model.eval()
    with torch.no_grad():
        while len(pcs) < length:
            t = len(pcs)
            batch = collate([encode((np.asarray(pcs + [0], dtype=np.int64), np.asarray(durs + [1.0])))])
            logits = model.note_logits(batch["tokens"], batch["durs"], batch["onsets"])
            p, q = (torch.softmax(z[0, t].double() / temperature, -1).numpy() for z in logits)
            pcs.append(int(rng.choice(N_PITCH, p=p / p.sum())))
            durs.append(DURATION_BINS[int(rng.choice(N_DURATION_CLASSES, p=q / q.sum()))])
    return np.asarray(pcs, dtype=np.int64), np.asarray(durs, dtype=float)


def motif_return_rate(pcs: Sequence[int], n: int = 4, min_gap: int = 4) -> float:
    """Fraction of the n-note motifs of a melody that already occurred earlier in it, at least
    ``min_gap`` notes before (so that a repeated note like C C C C C does not count as a return).

    rate = #{t >= min_gap : (x_t, ..., x_{t+n-1}) = (x_s, ..., x_{s+n-1}) for some s <= t - min_gap}
    / #{t >= min_gap}, over motif starts t = 0..len-n.

    Notebook: notebooks/02_attention.ipynb
    Args:
        pcs (sequence of int): pitch classes
        n (int): motif length >= 1
        min_gap (int): minimal distance t - s between the two occurrences, >= 1
    Returns:
        rate (float): in [0, 1]; 0 for melodies shorter than n + min_gap
    Raises:
        ValueError: n or min_gap below 1
    """
    if n < 1 or min_gap < 1:
        raise ValueError(f"n and min_gap must be >= 1, got n={n}, min_gap={min_gap}")
    s = tuple(int(x) for x in pcs)
    grams = [s[t: t + n] for t in range(len(s) - n + 1)]
    if len(grams) <= min_gap:
        return 0.0
    first_seen: dict[tuple, int] = {}
    hits = 0
    for t, g in enumerate(grams):
        if g in first_seen and first_seen[g] <= t - min_gap:
            hits += 1
        first_seen.setdefault(g, t)
    return hits / (len(grams) - min_gap)


def continue_melody(melody, models: dict[str, Any], n_prefix: int = 6,
                    rng: np.random.Generator | int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The real melody and each model's continuation of its first ``n_prefix`` notes, as many notes
    as the melody has. Models that predict durations continue with **their own rhythm**:

    - a neural model with a duration head: (x_t, c_t) ~ p(., . | past) (:func:`sample_notes`);
    - a chain on notes ``ngram.NoteNGram`` (``FactoredNGram``, ``JointNGram``): its own sampler;

    pitch-only models choose pitches in the real melody's rhythm:

    - a pitch-only neural model: x_t ~ p(. | x_{<t}) (:func:`sample_pitches`);
    - a k-th order pitch-class chain ``ngram.NGramModel``: :meth:`NGramModel.sample`, which reads
      the last k notes of the same prefix.

    Every model draws from a fresh generator with the same seed (an integer ``rng`` is that seed; a
    Generator gives one seed drawn from it), so the continuations differ only by the models.

    Notebook: notebooks/02_attention.ipynb
    Args:
        melody (corpus.Melody): the melody to continue (its pitch classes and durations)
        models (dict): name -> a melody model (Transformer, LSTM), a fitted NoteNGram or NGramModel
        n_prefix (int): notes kept from the real melody, between a pitch chain's order and its length
        rng (Generator or int): randomness
    Returns:
        notes (dict): ``"real"`` then one per model: (pitch classes (int64), durations in quarter
        notes), each of the melody's number of notes; the real durations are the melody's own
    Raises:
        ValueError: n_prefix outside 0..len(melody), or below a pitch chain's order
    """
    pcs, durs = pcs_and_durations(melody)
    if not 0 <= n_prefix <= pcs.size:
        raise ValueError(f"n_prefix must lie in 0..{pcs.size}, got {n_prefix}")
    seed = torch_seed(np.random.default_rng() if rng is None else rng)
    prefix, prefix_durs = pcs[:n_prefix], durs[:n_prefix]
    out = {"real": (pcs, durs)}
    for name, model in models.items():
        if isinstance(model, NoteNGram):
            out[name] = model.sample(pcs.size, prefix, prefix_durs, rng=seed)
        elif isinstance(model, NGramModel):
            out[name] = (model.sample(pcs.size, prefix, rng=seed), durs)
        elif getattr(model, "predicts_durations", False):
            out[name] = sample_notes(model, prefix, prefix_durs, pcs.size, rng=seed)
        else:
            out[name] = (sample_pitches(model, prefix, durs, rng=seed), durs)
    return out


#: Longest motif note :func:`continue_motif` accepts, in quarter notes (the corpus's longest: 16).
MAX_MOTIF_DURATION = 16.0


def continue_motif(model, pitches: Sequence[int], durations: Sequence[float], n_notes: int = 8,
                   rng: np.random.Generator | int | None = None, low: int = 55,
                   high: int = 81) -> tuple[np.ndarray, np.ndarray, float]:
    """Continue a motif (MIDI pitches, durations in quarter notes) by ``n_notes`` notes of a model
    that predicts pitch and rhythm, and score the continuation under that model:

        log2 p(continuation | motif) = sum_{t = m}^{m + n - 1} log2 p(x_t, c_t | notes before t),

    m the motif's length. The model sees pitch classes (it was trained on melodies transposed to
    tonic C, so a motif is heard as if in C) and duration classes; the continuation's pitch classes
    get a register from ``pitch.pcs_to_midi``, starting at the motif's last pitch (each note in the
    octave nearest the previous one, within low..high widened to include the motif's own range).

    A model with its own ``continue_motif(pitches, durations, n_notes, rng)`` method (such as Part I's
    ``note_chain.NoteChain``, which keeps octaves itself) is asked directly, after the same checks of
    the motif, so that one call serves every composer.

    Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
    Args:
        model: a neural melody model with a duration head (Transformer or LSTM with ``cfg.rhythm``),
            a fitted chain on notes ``ngram.NoteNGram`` (``FactoredNGram`` or ``JointNGram``), or any
            model with a ``continue_motif`` method of this signature (``low``, ``high`` unused)
        pitches (sequence of int): the motif's MIDI pitches, 0..127
        durations (sequence of float): its durations in quarter notes, 0 < d <= MAX_MOTIF_DURATION
        n_notes (int): notes to add, >= 1
        rng (Generator or int): randomness
        low, high (int): MIDI range of the continuation (at least an octave; widened to the motif)
    Returns:
        pitches (np.ndarray): the continuation's MIDI pitches (int64, n_notes; without the motif)
        durations (np.ndarray): its durations in quarter notes (values of DURATION_BINS)
        log2p (float): the continuation's total log2-probability under the model
    Raises:
        ValueError: an empty motif, pitches not integers in 0..127, durations not one per pitch or not
            in (0, MAX_MOTIF_DURATION], n_notes < 1, a model that predicts no durations, a range
            low..high narrower than an octave
    """
    p = np.asarray(pitches)
    d = np.asarray(durations, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"the motif must be a non-empty 1-D sequence of MIDI pitches, got shape {p.shape}")
    if not (np.issubdtype(p.dtype, np.integer) or (np.issubdtype(p.dtype, np.floating)
                                                   and np.all(p == np.round(p)))):
        raise ValueError(f"pitches must be whole MIDI numbers, got {p.tolist()}")
    if p.min() < 0 or p.max() > 127:
        raise ValueError(f"pitches must lie in the MIDI range 0..127, got {p.min()}..{p.max()}")
    if d.shape != p.shape:
        raise ValueError(f"{p.size} pitches but {d.size} durations")
    bad = np.flatnonzero(~np.isfinite(d) | (d <= 0) | (d > MAX_MOTIF_DURATION))
    if bad.size:
        raise ValueError(f"durations must lie in (0, {MAX_MOTIF_DURATION:g}] quarter notes; note "
                         f"{bad[0]} has {d[bad[0]]}")
    if isinstance(n_notes, bool) or not isinstance(n_notes, (int, np.integer)) or n_notes < 1:
        raise ValueError(f"n_notes must be an integer >= 1, got {n_notes!r}")
    if high - low < 11:
        raise ValueError(f"range low..high = {low}..{high} is narrower than an octave")
    p = p.astype(np.int64)
    if hasattr(model, "continue_motif"):
        out_p, out_d, lp = model.continue_motif(p, d, int(n_notes), rng=rng)
        return np.asarray(out_p, dtype=np.int64), np.asarray(out_d, dtype=float), float(lp)
    pcs, m, length = p % 12, p.size, p.size + int(n_notes)
    seed = torch_seed(np.random.default_rng() if rng is None else rng)
    if isinstance(model, NoteNGram):
        all_pcs, all_durs = model.sample(length, pcs, d, rng=seed)
        lp = model.log2_probs([(all_pcs, all_durs)], first=m)["joint"]
    elif getattr(model, "predicts_durations", False):
        all_pcs, all_durs = sample_notes(model, pcs, d, length, rng=seed)
        lp = note_log2_probs(model, [(all_pcs, all_durs)], first=m)["joint"]
    else:
        raise ValueError(f"{type(model).__name__} does not predict durations: use a melody model "
                         "with a duration head or an ngram.NoteNGram")
    midi = pcs_to_midi(all_pcs[m:], start=int(p[-1]), low=min(int(low), int(p.min())),
                       high=max(int(high), int(p.max())))
    return midi, all_durs[m:], float(lp.sum())


# --------------------------------------------------------------------------------------------
# The cached, trained models of the chapter
# --------------------------------------------------------------------------------------------
def _melody_content(melodies: Sequence) -> list:
    """What a trained model depends on, per melody: id, pitches and durations (cache-key data)."""
    return [(m.id, np.asarray(m.pitches, dtype=np.int64), np.asarray(m.durations, dtype=np.float64))
            for m in melodies]


def load_or_train_melody_model(name: str, make_model: Callable[[], Any], model_config: Any,
                               split: dict[str, list], cfg: TrainConfig = TrainConfig(),
                               source: str = "bach", progress: bool = True):
    """Train a melody model on ``split["train"]`` (selecting the epoch on ``split["val"]``), or load
    it from the weight cache keyed by (model config, training config, data, code version).

    Notebook: notebooks/02_attention.ipynb
    Args:
        name (str): cache-file prefix, e.g. ``"music-transformer"``
        make_model (callable): builds the untrained model (called after seeding)
        model_config (dataclass): the model's configuration (goes into the key)
        split (dict): ``{"train": [...], "val": [...], ...}`` lists of Melody
        cfg (TrainConfig): optimisation settings
        source (str): corpus name (goes into the key)
        progress (bool): tqdm bar while training
    Returns:
        model (torch.nn.Module): trained, in eval mode
        extra (dict): training history (see :func:`train_model`)
    """
    from m2d.models.common import load_or_train, seed_everything

    key = {
        "code_version": CODE_VERSION,
        "model": name,
        "model_config": asdict(model_config),
        "train_config": asdict(cfg),
        "data": {"source": source, "train": cache.fingerprint(_melody_content(split["train"])),
                 "val": cache.fingerprint(_melody_content(split["val"]))},
    }
    json.dumps(key)  # the key must be JSON

    def make():
        seed_everything(cfg.seed)
        return make_model()

    return load_or_train(name, key, make, lambda m: train_model(m, split["train"], split["val"], cfg,
                                                                   progress=progress))


# --------------------------------------------------------------------------------------------
# Comparing models position by position
# --------------------------------------------------------------------------------------------
def scored_positions(melodies: Iterable, first: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(melody index, position t) of every scored target, aligned with :func:`log2_probs` and with
    ``ngram.NGramModel.log2_probs(melodies, first)`` (for orders k <= first).

    Notebook: notebooks/02_attention.ipynb
    Returns:
        melody (np.ndarray), t (np.ndarray): int64 arrays of equal length
    """
    mi, ts = [], []
    for i, m in enumerate(melodies):
        n = len(pcs_and_durations(m)[0])
        if n > first:
            mi.append(np.full(n - first, i))
            ts.append(np.arange(first, n))
    if not mi:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(mi).astype(np.int64), np.concatenate(ts).astype(np.int64)


def paired_bootstrap(lp_a, lp_b, groups, n_boot: int = 2000,
                     rng: np.random.Generator | int | None = None) -> tuple[float, float, float]:
    """Difference in bits per note of model A minus model B, with a 95% bootstrap interval that
    resamples whole melodies (positions within a melody are not independent).

    diff = mean(-lp_a) - mean(-lp_b) over the same positions; negative means A is better.

    Notebook: notebooks/02_attention.ipynb
    Args:
        lp_a, lp_b (np.ndarray): log2 probabilities of the same targets (same order)
        groups (np.ndarray): melody index of each target (:func:`scored_positions`)
        n_boot (int): bootstrap resamples
        rng (Generator or int): randomness
    Returns:
        diff (float), low (float), high (float)
    Raises:
        ValueError: arrays of different lengths or empty
    """
    a, b, g = (np.asarray(x) for x in (lp_a, lp_b, groups))
    if not (a.shape == b.shape == g.shape) or a.size == 0:
        raise ValueError("lp_a, lp_b and groups must be non-empty and of equal length")
    rng = np.random.default_rng(rng)
    ids, inv = np.unique(g, return_inverse=True)
    sum_d = np.bincount(inv, weights=b - a)  # per-melody sums of (-lp_a) - (-lp_b)
    cnt = np.bincount(inv).astype(float)
    pick = rng.integers(0, ids.size, (n_boot, ids.size))
    boots = sum_d[pick].sum(1) / cnt[pick].sum(1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(sum_d.sum() / cnt.sum()), float(lo), float(hi)


def bits_by_position(log2_probs, positions, edges) -> dict[str, Any]:
    """Cross-entropy H_b = -(1/N_b) sum_{t in bin b} log2 p(x_t | x_{<t}) per bin of positions
    edges[b] <= t < edges[b + 1] (how a model's bits per note change along the melody).

    Notebook: notebooks/02_attention.ipynb
    Args:
        log2_probs (np.ndarray): log2 probabilities of the scored targets (:func:`log2_probs`)
        positions (np.ndarray): their positions t (:func:`scored_positions`), same length
        edges (sequence of int): increasing bin edges; positions outside them are not counted
    Returns:
        bins (dict): ``bits`` (per bin; NaN for an empty bin), ``count`` (targets per bin) and
        ``label`` ("t = 6–11", the last one "t = 48–end")
    Raises:
        ValueError: arrays of different lengths, fewer than two edges, edges not increasing
    """
    lp, t = np.asarray(log2_probs, dtype=float), np.asarray(positions)
    e = np.asarray(edges)
    if lp.shape != t.shape:
        raise ValueError(f"log2_probs and positions differ in length: {lp.shape} vs {t.shape}")
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges must be at least two increasing values, got {edges!r}")
    which = np.digitize(t, e) - 1
    n_bins = e.size - 1
    bits = np.array([-lp[which == b].mean() if np.any(which == b) else np.nan for b in range(n_bins)])
    count = np.array([int(np.sum(which == b)) for b in range(n_bins)])
    label = [f"t = {e[b]}–{e[b + 1] - 1 if b < n_bins - 1 else 'end'}" for b in range(n_bins)]
    return {"bits": bits, "count": count, "label": label}
