"""Markov chains estimated from corpora (n-grams): k-th order transition counts, held-out bits per
note, the order sweep that shows Proposition 21.1 at work, and how much a high-order chain copies
its training melodies.

A k-th order chain conditions on the k previous states; its context c is encoded as
sum_{m=1..k} s_{t-m} n^(m-1) (so for k = 1 the context is simply the previous state).
The chains' theory (stationary distribution, mixing, sampling a first-order chain) is in
:mod:`m2d.markov`. Part II's baselines for notes with rhythm (a chain on duration classes, pitch
and duration chains side by side, one chain on (pitch class, duration class) pairs) are at the end.

Notebook: notebooks/01_markov.ipynb, notebooks/02_attention.ipynb
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from m2d import checks
from m2d.markov import stationary_distribution
from m2d.pitch import DURATION_BINS, duration_class
from m2d.rng import as_generator


def empirical_frequencies(states, n_states: int = 12) -> np.ndarray:
    """Fraction of time spent in each state (Theorem 21.2, part 3: converges to pi)."""
    return np.bincount(np.asarray(states), minlength=n_states) / len(states)


def kth_order_parameter_count(n_states: int, k: int) -> int:
    """Free parameters of a k-th order chain on n states (Proposition 21.1).

    The transition matrix has n^k rows (one per context of k notes) of n entries; each row sums to 1,
    so n - 1 entries per row are free:

        #free = n^k (n - 1).

    For n = 12, k = 16: 12^16 * 11 = 2,033,726,847,845,400,576 (about 2.03e18). Exact integer
    arithmetic (these counts do not fit in a float exactly).

    Notebook: notebooks/01_markov.ipynb
    Args:
        n_states (int): alphabet size n >= 1
        k (int): order k >= 0
    Returns:
        count (int): n^k (n - 1)
    Raises:
        ValueError: n_states < 1 or k < 0
    """
    if n_states < 1 or k < 0:
        raise ValueError(f"need n_states >= 1 and k >= 0, got n_states={n_states}, k={k}")
    return int(n_states) ** int(k) * (int(n_states) - 1)


def kth_order_entry_count(n_states: int, k: int) -> int:
    """Entries of the transition matrix of a k-th order chain on n states: n^k contexts times n next
    states, n^(k+1) in all (Proposition 21.1); of these, :func:`kth_order_parameter_count` are free.

    Notebook: notebooks/01_markov.ipynb
    Args:
        n_states (int): alphabet size n >= 1
        k (int): order k >= 0
    Returns:
        count (int): n^(k+1), exact
    Raises:
        ValueError: n_states < 1 or k < 0
    """
    if n_states < 1 or k < 0:
        raise ValueError(f"need n_states >= 1 and k >= 0, got n_states={n_states}, k={k}")
    return int(n_states) ** (int(k) + 1)


def _contexts(seq: np.ndarray, k: int, n: int, first: int) -> np.ndarray:
    """Integer code sum_{m=1..k} s_{t-m} n^(m-1) of the k previous states, for t = first..len-1."""
    code = np.zeros(len(seq) - first, dtype=np.int64)
    for m in range(1, k + 1):
        code += seq[first - m: len(seq) - m] * n ** (m - 1)
    return code


def as_state_sequences(sequences, n_states: int) -> list[np.ndarray]:
    """Sequences of states as int64 arrays: arrays/lists as they are, Melody objects by their pitch
    classes.

    Raises:
        ValueError: a sequence that is not 1-D, or a state outside 0..n_states-1
        TypeError: a state that is not a whole number (2.7 is refused, not truncated to 2)
    """
    return [checks.state_sequence(f"sequence {i}", getattr(s, "pitch_classes", s), n_states)
            for i, s in enumerate(sequences)]


def cross_entropy_bits(log2_probs: np.ndarray, why_empty: str = "no scored positions") -> float:
    """Held-out cross-entropy H = -(1/N) sum_t log2 p(x_t | x_<t), in bits per note: the one metric
    every model of the book is compared by (Proposition 21.1's chains, Part II's networks, the neural
    k-grams), computed from the log2 probabilities of the scored positions.

    Notebook: notebooks/01_markov.ipynb
    Args:
        log2_probs (np.ndarray): log2 p(x_t | past) of every scored position
        why_empty (str): what the error says when there is no position
    Returns:
        H (float): bits per note
    Raises:
        ValueError: no position to score
    """
    lp = np.asarray(log2_probs, dtype=float)
    if lp.size == 0:
        raise ValueError(f"no positions to evaluate ({why_empty})")
    return float(-lp.mean())


@dataclass
class NGramModel:
    """Count-based k-th order Markov chain with additive smoothing, stored sparsely.

    P(x | c) = (N(c, x) + alpha) / (N(c) + alpha n) for a context c of the k previous states; an
    unseen context gets the uniform distribution (the smoothing prior). Sparse storage makes orders
    well beyond what a dense n^(k+1) matrix allows usable (Proposition 21.1 is about the dense one).

    Notebook: notebooks/01_markov.ipynb
    """

    n_states: int = 12
    order: int = 1
    alpha: float = 0.1
    counts: dict[int, np.ndarray] = field(default_factory=dict)

    def fit(self, sequences: Iterable) -> NGramModel:
        """Count transitions of order ``self.order`` in ``sequences`` (arrays of states or Melody)."""
        if self.order < 0:
            raise ValueError(f"order must be >= 0, got {self.order}")
        self.alpha = checks.real("smoothing alpha", self.alpha, low=0)
        n, k = self.n_states, self.order
        keys, nexts = [], []
        for s in as_state_sequences(sequences, n):
            if len(s) > k:
                keys.append(_contexts(s, k, n, k))
                nexts.append(s[k:])
        counts: dict[int, np.ndarray] = {}
        if keys:
            flat = np.concatenate(keys) * n + np.concatenate(nexts)
            uniq, cnt = np.unique(flat, return_counts=True)
            for code, c in zip(uniq.tolist(), cnt.tolist(), strict=True):
                ctx, x = divmod(code, n)
                counts.setdefault(ctx, np.zeros(n))[x] += c
        self.counts = counts
        return self

    def probs(self, context_code: int) -> np.ndarray:
        """Next-state distribution for an encoded context."""
        c = self.counts.get(int(context_code))
        n = self.n_states
        if c is None or (c.sum() == 0):
            return np.full(n, 1.0 / n)
        if self.alpha == 0:
            return c / c.sum()
        return (c + self.alpha) / (c.sum() + self.alpha * n)

    def log2_probs(self, sequences: Iterable, first: int | None = None) -> tuple[np.ndarray, int]:
        """log2 P(x_t | x_{t-k..t-1}) for every position t >= first of every sequence, and the
        number of those positions whose context never occurred in training."""
        k, n = self.order, self.n_states
        first = k if first is None else max(first, k)
        out, unseen = [], 0
        for s in as_state_sequences(sequences, n):
            if len(s) <= first:
                continue
            ctx = _contexts(s, k, n, first)
            for c, x in zip(ctx.tolist(), s[first:].tolist(), strict=True):
                if c not in self.counts:
                    unseen += 1
                p = self.probs(c)[x]
                out.append(np.log2(p) if p > 0 else -np.inf)
        return np.asarray(out), unseen

    def bits_per_note(self, sequences: Iterable, first: int | None = None) -> float:
        """Cross-entropy -mean log2 P(x_t | context) in bits per note (lower is better)."""
        lp, _ = self.log2_probs(sequences, first)
        return cross_entropy_bits(lp, "sequences shorter than the order")

    def unseen_context_fraction(self, sequences: Iterable, first: int | None = None) -> float:
        """Fraction of evaluated positions whose k-note context never occurs in training."""
        lp, unseen = self.log2_probs(sequences, first)
        return unseen / max(lp.size, 1)

    def sample(self, length: int, prefix: Sequence[int],
               rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Continue ``prefix`` to ``length`` states: each x_t ~ P(. | x_{t-k..t-1}), the k-th
        order chain's conditional (the whole prefix is kept; the chain reads its last k states).

        Notebook: notebooks/01_markov.ipynb, notebooks/02_attention.ipynb
        Args:
            length (int): length of the result, prefix included
            prefix (sequence of int): the opening, between k and ``length`` states
            rng (np.random.Generator or int): randomness (one ``rng.choice`` per new state)
        Returns:
            states (np.ndarray): int64, shape (length,), starting with ``prefix``
        Raises:
            ValueError: prefix shorter than the order k or longer than ``length``
        """
        k, n = self.order, self.n_states
        out = [int(x) for x in prefix]
        if len(out) < k or len(out) > length:
            raise ValueError(f"prefix needs between {k} and {length} states, got {len(out)}")
        rng = as_generator(rng)
        while len(out) < length:
            code = sum(out[-m] * n ** (m - 1) for m in range(1, k + 1)) if k else 0
            out.append(int(rng.choice(n, p=self.probs(code))))
        return np.asarray(out, dtype=np.int64)

    @property
    def n_contexts_seen(self) -> int:
        """Number of distinct contexts that occurred in training."""
        return len(self.counts)


#: Largest dense matrix fit_transition_matrix builds (entries); beyond it use NGramModel.
MAX_DENSE_ENTRIES = 20_000_000


def fit_transition_matrix(sequences: Iterable, n_states: int = 12, order: int = 1,
                          smoothing: float = 0.0) -> np.ndarray:
    """Maximum-likelihood (or additively smoothed) transition matrix of order k from sequences.

    P[c, x] = (N(c, x) + alpha) / (N(c) + alpha n) where c encodes the k previous states as
    sum_{m=1..k} s_{t-m} n^(m-1) (so for k = 1 the row index is simply the previous state). Rows
    of contexts never seen (and alpha = 0) are uniform, so the result is always stochastic.

    Notebook: notebooks/01_markov.ipynb
    Args:
        sequences (iterable): arrays of states in 0..n_states-1, or Melody objects (pitch classes)
        n_states (int): alphabet size n
        order (int): k >= 0 (k = 0: one row, the note frequencies)
        smoothing (float): additive (Laplace/Lidstone) pseudo-count alpha >= 0
    Returns:
        P (np.ndarray): stochastic matrix, shape (n^k, n)
    Raises:
        ValueError: negative order or smoothing, states out of range, or n^(k+1) above
            MAX_DENSE_ENTRIES (use NGramModel, which stores only the contexts seen)
    """
    order = checks.integer("order", order, low=0)
    smoothing = checks.real("smoothing", smoothing, low=0)
    entries = kth_order_entry_count(n_states, order)
    if entries > MAX_DENSE_ENTRIES:
        raise ValueError(f"a dense order-{order} matrix has {entries:,} entries "
                         f"(Proposition 21.1); use NGramModel for sparse counts")
    model = NGramModel(n_states, order, smoothing).fit(sequences)
    C = np.zeros((n_states**order, n_states))
    for ctx, c in model.counts.items():
        C[ctx] = c
    C += smoothing
    sums = C.sum(axis=1, keepdims=True)
    return np.where(sums > 0, C / np.where(sums > 0, sums, 1.0), 1.0 / n_states)


def longest_shared_run(sample, training: Iterable) -> int:
    """Length of the longest contiguous run of ``sample`` that also occurs in some training sequence.

    A k-th order chain fitted on sparse data copies its training set: this measures how much.
    Binary search over the run length L with a set of all training L-grams.
    """
    s = tuple(np.asarray(sample, dtype=np.int64).tolist())
    train = [tuple(np.asarray(t, dtype=np.int64).tolist()) for t in training]

    def shared(L: int) -> bool:
        grams = {t[i: i + L] for t in train for i in range(len(t) - L + 1)}
        return any(s[i: i + L] in grams for i in range(len(s) - L + 1))

    lo, hi = 0, len(s)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if shared(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def order_sweep(train: Iterable, heldout: Iterable, orders: Sequence[int] = range(7),
                n_states: int = 12, alpha: float = 0.1, first: int = 6) -> dict[str, np.ndarray]:
    """Fit k-th order chains for each k and measure them on held-out sequences (Proposition 21.1
    in practice): bits per note, fraction of unseen contexts, contexts seen, dense matrix size.

    All orders are scored on the same positions t >= ``first`` so the numbers are comparable.

    Notebook: notebooks/01_markov.ipynb
    Returns:
        table (dict): arrays ``order``, ``bits``, ``unseen``, ``contexts_seen``, ``dense_entries``
    """
    train, heldout = list(train), list(heldout)
    rows = []
    for k in orders:
        m = NGramModel(n_states, int(k), alpha).fit(train)
        lp, unseen = m.log2_probs(heldout, first)
        rows.append((k, -lp.mean(), unseen / lp.size, m.n_contexts_seen,
                     float(kth_order_entry_count(n_states, int(k)))))
    cols = np.array(rows, dtype=float).T
    return {"order": cols[0].astype(int), "bits": cols[1], "unseen": cols[2],
            "contexts_seen": cols[3].astype(int), "dense_entries": cols[4]}


def copy_run_lengths(model: NGramModel, train: Sequence, length: int = 64, n_samples: int = 20,
                     rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Sample ``n_samples`` melodies from ``model`` (each seeded with the opening context of a random
    training melody) and return, for each, :func:`longest_shared_run` with the training set.

    Notebook: notebooks/01_markov.ipynb
    """
    rng = as_generator(rng)
    seqs = [s for s in as_state_sequences(train, model.n_states) if len(s) > model.order]
    out = np.empty(n_samples, dtype=int)
    for i in range(n_samples):
        prefix = seqs[rng.integers(len(seqs))][: model.order]
        out[i] = longest_shared_run(model.sample(length, prefix, rng)[model.order:], seqs)
    return out


def heldout_shared_runs(heldout: Sequence, train: Iterable, length: int = 64,
                        n_states: int = 12) -> np.ndarray:
    """The yardstick for :func:`copy_run_lengths`: for each held-out melody, the longest run of its
    first ``length`` states that also occurs in a training melody (what real, unseen music shares
    with the training set by chance and by idiom).

    Notebook: notebooks/01_markov.ipynb
    Args:
        heldout (sequence): melodies (or state arrays) not used for training
        train (iterable): the training melodies (or state arrays)
        length (int): how much of each held-out melody to compare, >= 1
        n_states (int): alphabet size
    Returns:
        runs (np.ndarray): int, one :func:`longest_shared_run` per held-out melody
    Raises:
        ValueError: length < 1, or states out of range
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    seqs = as_state_sequences(train, n_states)
    return np.array([longest_shared_run(s[:length], seqs)
                     for s in as_state_sequences(heldout, n_states)], dtype=int)


#: Pitch classes outside C major / the tonic triad of C (after transposition to tonic C).
CHROMATIC = (1, 3, 6, 8, 10)
TONIC_TRIAD = (0, 4, 7)


def style_statistics(melodies: Sequence) -> dict[str, float]:
    """Numbers that tell two styles apart: shares of repeated notes, steps (1-2 semitones) and leaps
    (>= 3 semitones) among melodic moves, and the stationary share of the tonic triad and of the
    chromatic (non-C-major) pitch classes in the fitted first-order chain.

    Notebook: notebooks/01_markov.ipynb
    Args:
        melodies (sequence of Melody): with MIDI ``pitches``
    Returns:
        stats (dict[str, float]): fractions in [0, 1]
    """
    iv = np.concatenate([np.abs(np.diff(m.pitches)) for m in melodies])
    pi = stationary_distribution(fit_transition_matrix(melodies, smoothing=0.5))
    return {
        "repeats": float(np.mean(iv == 0)),
        "steps": float(np.mean((iv >= 1) & (iv <= 2))),
        "leaps": float(np.mean(iv >= 3)),
        "tonic_triad": float(pi[list(TONIC_TRIAD)].sum()),
        "chromatic": float(pi[list(CHROMATIC)].sum()),
    }


# --------------------------------------------------------------------------------------------
# Notes with rhythm (Part II's baselines): chains on duration classes and on (pitch class,
# duration class) pairs. A duration d is its class c(d), the nearest of pitch.DURATION_BINS in log2.
# --------------------------------------------------------------------------------------------
#: Number of duration classes, and of joint note tokens x * N_DURATIONS + c (x a pitch class).
N_DURATIONS = len(DURATION_BINS)
N_NOTE_TOKENS = 12 * N_DURATIONS


def _pcs_and_durations(melody) -> tuple[np.ndarray, np.ndarray]:
    """(pitch classes, durations) of a Melody or of a (pitch classes, durations) pair, checked."""
    from m2d.corpus import melody_notes

    pcs, durs = melody_notes(melody, pitch_classes=True)
    pcs = pcs.astype(np.int64)
    if pcs.ndim != 1 or durs.shape != pcs.shape:
        raise ValueError(f"need equally long 1-D pitch classes and durations, got shapes {pcs.shape} "
                         f"and {durs.shape}")
    if pcs.size and (pcs.min() < 0 or pcs.max() > 11):
        raise ValueError(f"pitch classes must lie in 0..11, got {pcs.min()}..{pcs.max()}")
    return pcs, durs


def duration_sequences(melodies: Iterable) -> list[np.ndarray]:
    """The duration classes c(d_0), c(d_1), ... of each melody (``pitch.duration_class``: the
    nearest of ``pitch.DURATION_BINS`` in log2), as state sequences for a chain on N_DURATIONS states.

    Notebook: notebooks/02_attention.ipynb
    Args:
        melodies (iterable): Melody objects or (pitch classes, durations) pairs
    Returns:
        classes (list of np.ndarray): int64 arrays in 0..N_DURATIONS-1
    Raises:
        ValueError: a duration that is not positive and finite
    """
    return [duration_class(_pcs_and_durations(m)[1]).reshape(-1) for m in melodies]


def note_sequences(melodies: Iterable) -> list[np.ndarray]:
    """Joint note tokens s_t = x_t N_DURATIONS + c(d_t) (pitch class x_t, duration class c(d_t)),
    the states of a chain on N_NOTE_TOKENS = 96 notes.

    Notebook: notebooks/02_attention.ipynb
    Args:
        melodies (iterable): Melody objects or (pitch classes, durations) pairs
    Returns:
        tokens (list of np.ndarray): int64 arrays in 0..N_NOTE_TOKENS-1
    Raises:
        ValueError: pitch classes outside 0..11, non-positive durations
    """
    out = []
    for m in melodies:
        pcs, durs = _pcs_and_durations(m)
        out.append(pcs * N_DURATIONS + duration_class(durs).reshape(-1))
    return out


def select_order(train: Sequence, val: Sequence, orders: Sequence[int] = range(7), n_states: int = 12,
                 alpha: float = 0.1, first: int = 6) -> tuple[int, dict[str, np.ndarray]]:
    """The order k whose chain has the lowest validation bits per note (:func:`order_sweep` on the
    same positions t >= first for every k), and the sweep itself.

    Notebook: notebooks/02_attention.ipynb
    Args:
        train, val (sequences): state sequences (e.g. :func:`duration_sequences`) or Melody
            objects (pitch classes)
        orders (sequence of int): candidate orders, each <= first (so every order scores the same
            positions)
        n_states, alpha, first: as in :func:`order_sweep`
    Returns:
        k (int), sweep (dict): see :func:`order_sweep`
    Raises:
        ValueError: no orders, or an order above ``first``
    """
    orders = [int(k) for k in orders]
    if not orders or max(orders) > first or min(orders) < 0:
        raise ValueError(f"orders must be non-empty and lie in 0..first={first}, got {orders}")
    sweep = order_sweep(train, val, orders, n_states=n_states, alpha=alpha, first=first)
    return int(sweep["order"][np.argmin(sweep["bits"])]), sweep


def _context_code(hist: Sequence[int], k: int, n: int) -> int:
    """sum_{m=1..k} s_{t-m} n^(m-1) of the last k states of ``hist`` (NGramModel's encoding)."""
    return sum(int(hist[-m]) * n ** (m - 1) for m in range(1, k + 1))


@dataclass
class NoteNGram:
    """Base of the count chains on notes (x_t, c_t) = (pitch class, duration class): each gives the
    table p(x_t = x, c_t = c | past), shape (12, N_DURATIONS), from which come the bits per note for
    pitch (the marginal p(x_t | past) = sum_c p(x_t, c | past)), for duration (the marginal over x)
    and for the note (the joint), sampling, and continuations.

    Chains of every order up to k are fitted: position t uses order min(k, t) (at t >= k, the
    scored positions of the book, exactly the order-k chain of :class:`NGramModel`; the lower orders
    only start a continuation of a motif shorter than k notes).

    Subclasses: :class:`FactoredNGram`, :class:`JointNGram`.

    Notebook: notebooks/02_attention.ipynb
    """

    def fit(self, melodies: Iterable) -> NoteNGram:  # pragma: no cover - abstract
        raise NotImplementedError

    def _table(self, pcs: Sequence[int], dcs: Sequence[int]) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def next_table(self, pcs: Sequence[int], durations: Sequence[float]) -> np.ndarray:
        """p(x_t = x, c_t = c | the notes so far), shape (12, N_DURATIONS), summing to 1.

        Args:
            pcs, durations (sequences): the notes so far (pitch classes, quarter notes), possibly empty
        """
        pcs, durs = _pcs_and_durations((np.asarray(pcs, dtype=np.int64), np.asarray(durations, float)))
        return self._table(pcs.tolist(), duration_class(durs).reshape(-1).tolist())

    def log2_probs(self, melodies: Iterable, first: int = 6) -> dict[str, np.ndarray]:
        """log2 p(x_t | past), log2 p(c_t | past) and log2 p(x_t, c_t | past) for every position
        t >= first of every melody (flattened; the positions of ``NGramModel.log2_probs(..., first)``
        when first >= every order).

        Notebook: notebooks/02_attention.ipynb
        Args:
            melodies (iterable): Melody objects or (pitch classes, durations) pairs
            first (int): first scored position, >= 0
        Returns:
            lp (dict[str, np.ndarray]): ``pitch``, ``duration``, ``joint`` (float64)
        Raises:
            ValueError: negative first, bad notes
        """
        if first < 0:
            raise ValueError(f"first must be >= 0, got {first}")
        out: dict[str, list[float]] = {"pitch": [], "duration": [], "joint": []}
        for m in melodies:
            pcs, durs = _pcs_and_durations(m)
            dcs = duration_class(durs).reshape(-1).tolist()
            pl = pcs.tolist()
            for t in range(first, len(pl)):
                table = self._table(pl[:t], dcs[:t])
                x, c = pl[t], dcs[t]
                out["pitch"].append(np.log2(table[x].sum()))
                out["duration"].append(np.log2(table[:, c].sum()))
                out["joint"].append(np.log2(table[x, c]))
        return {k: np.asarray(v, dtype=float) for k, v in out.items()}

    def sample(self, length: int, prefix_pcs: Sequence[int] = (), prefix_durations: Sequence[float] = (),
               rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Continue a prefix of notes to ``length`` notes: each (x_t, c_t) is one draw from
        :meth:`next_table` (one ``rng.choice`` over the 96 notes per new note); a new note lasts
        DURATION_BINS[c_t] quarter notes.

        Notebook: notebooks/02_attention.ipynb
        Args:
            length (int): notes in the result, prefix included
            prefix_pcs, prefix_durations (sequences): the opening (kept as it is), equally long
            rng (np.random.Generator or int): randomness
        Returns:
            pcs (np.ndarray): int64 pitch classes, durations (np.ndarray): quarter notes; both (length,)
        Raises:
            ValueError: a prefix longer than ``length`` or with bad notes
        """
        pcs, durs = _pcs_and_durations((np.asarray(prefix_pcs, dtype=np.int64),
                                        np.asarray(prefix_durations, dtype=float)))
        if pcs.size > length:
            raise ValueError(f"prefix has {pcs.size} notes, more than length={length}")
        rng = as_generator(rng)
        pl, dl = pcs.tolist(), durs.tolist()
        dcs = duration_class(durs).reshape(-1).tolist()
        while len(pl) < length:
            table = self._table(pl, dcs)
            x, c = divmod(int(rng.choice(table.size, p=table.ravel())), N_DURATIONS)
            pl.append(x)
            dcs.append(c)
            dl.append(DURATION_BINS[c])
        return np.asarray(pl, dtype=np.int64), np.asarray(dl, dtype=float)


def _fit_orders(seqs: list[np.ndarray], n: int, k: int, alpha: float) -> list[NGramModel]:
    if k < 0 or alpha < 0:
        raise ValueError(f"orders and alpha must be >= 0, got order {k}, alpha {alpha}")
    return [NGramModel(n, j, alpha).fit(seqs) for j in range(k + 1)]


@dataclass
class FactoredNGram(NoteNGram):
    """Independent pitch and rhythm chains: a k-th order chain on pitch classes times a j-th order
    chain on duration classes,

        p(x_t, c_t | past) = P(x_t | x_{t-k..t-1}) D(c_t | c_{t-j..t-1}),

    so its joint bits per note are the sum of the pitch bits and the duration bits.

    Notebook: notebooks/02_attention.ipynb
    Args:
        pitch_order (int): k; duration_order (int): j; alpha (float): add-alpha smoothing of both
    """

    pitch_order: int = 3
    duration_order: int = 2
    alpha: float = 0.1
    pitch_chains: list = field(default_factory=list)
    duration_chains: list = field(default_factory=list)

    def fit(self, melodies: Iterable) -> FactoredNGram:
        """Count both chains (every order up to k and j) on ``melodies`` (Melody objects or pairs)."""
        melodies = list(melodies)
        self.pitch_chains = _fit_orders([_pcs_and_durations(m)[0] for m in melodies], 12,
                                        self.pitch_order, self.alpha)
        self.duration_chains = _fit_orders(duration_sequences(melodies), N_DURATIONS,
                                           self.duration_order, self.alpha)
        return self

    def _table(self, pcs, dcs):
        kp, kd = min(self.pitch_order, len(pcs)), min(self.duration_order, len(dcs))
        p = self.pitch_chains[kp].probs(_context_code(pcs, kp, 12))
        d = self.duration_chains[kd].probs(_context_code(dcs, kd, N_DURATIONS))
        return np.outer(p, d)


@dataclass
class JointNGram(NoteNGram):
    """One k-th order chain on the 96 note tokens (pitch class, duration class) (:func:`note_sequences`):
    p(x_t, c_t | past) = P((x_t, c_t) | notes t-k..t-1). Pitch and rhythm may depend on each other,
    at the price of 96^k contexts of 96 entries (Proposition 21.1).

    Notebook: notebooks/02_attention.ipynb
    Args:
        order (int): k; alpha (float): add-alpha smoothing
    """

    order: int = 1
    alpha: float = 0.1
    chains: list = field(default_factory=list)

    def fit(self, melodies: Iterable) -> JointNGram:
        """Count the chain (every order up to k) on ``melodies`` (Melody objects or pairs)."""
        self.chains = _fit_orders(note_sequences(melodies), N_NOTE_TOKENS, self.order, self.alpha)
        return self

    def _table(self, pcs, dcs):
        k = min(self.order, len(pcs))
        tokens = [x * N_DURATIONS + c for x, c in zip(pcs[len(pcs) - k:], dcs[len(dcs) - k:],
                                                       strict=True)]
        return self.chains[k].probs(_context_code(tokens, k, N_NOTE_TOKENS)).reshape(12, N_DURATIONS)
