"""Part I: Markov chains on the twelve pitch classes Z12 (Definitions 21.1-21.4, Theorems 21.1-21.2,
Proposition 21.1).

A chain on states S = {0, ..., n-1} is given by a row-stochastic matrix P (Definition 21.2):
P[i, j] = Pr(X_{t+1} = j | X_t = i) >= 0 and sum_j P[i, j] = 1. For pitch classes, state 0 is C,
1 is C#, ..., 11 is B.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

_NAME_RE = re.compile(r"^\s*([A-Ga-g])([#b♯♭]*)(-?\d+)?\s*$")
_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


# --------------------------------------------------------------------------------------------
# Pitch helpers
# --------------------------------------------------------------------------------------------
def midi_to_pc(midi: int | np.ndarray) -> np.ndarray:
    """Pitch class in Z12 of MIDI note(s): pc = midi mod 12 (C = 0)."""
    return np.mod(np.asarray(midi, dtype=np.int64), 12)


def pc_name(pc: int) -> str:
    """Name of pitch class ``pc`` (taken mod 12), e.g. ``pc_name(7) == "G"``."""
    return PITCH_CLASSES[int(pc) % 12]


def parse_note(token: str) -> int:
    """Parse a note name: ``"C"``, ``"F#"``, ``"Bb"`` give a pitch class; ``"C4"``, ``"Eb5"`` a MIDI number.

    Octave numbers follow scientific pitch notation (C4 = 60).
    Args:
        token (str): note name with optional accidentals (#, b) and octave
    Returns:
        value (int): pitch class 0..11 without octave, MIDI number with octave
    Raises:
        ValueError: the token is not a note name (the message quotes it)
    """
    m = _NAME_RE.match(token)
    if not m:
        raise ValueError(f"{token!r} is not a note name (expected e.g. C, F#, Bb or C4)")
    letter, acc, octave = m.groups()
    pc = _NATURAL[letter.upper()] + acc.count("#") + acc.count("♯") - acc.count("b") - acc.count("♭")
    if octave is None:
        return pc % 12
    midi = 12 * (int(octave) + 1) + pc
    if not 0 <= midi <= 127:
        raise ValueError(f"{token!r} is outside the MIDI range 0..127")
    return midi


def pcs_to_midi(pcs: Sequence[int] | np.ndarray, start: int = 60, low: int = 55,
                high: int = 81) -> np.ndarray:
    """Voice a pitch-class sequence as MIDI notes, each in the octave nearest the previous note.

    The first note is placed nearest ``start``; every later note takes the octave that minimises
    the leap, folded back into [low, high] so a long random walk cannot drift out of a singable range.
    Args:
        pcs (array of int): pitch classes
        start (int): MIDI reference for the first note
        low, high (int): allowed MIDI range (at least an octave wide)
    Returns:
        midi (np.ndarray): int64 MIDI numbers, same length as ``pcs``
    Raises:
        ValueError: range narrower than an octave
    """
    if high - low < 11:
        raise ValueError(f"range {low}..{high} is narrower than an octave")
    pcs = np.asarray(pcs, dtype=np.int64) % 12
    out = np.empty(pcs.size, dtype=np.int64)
    prev = start
    for i, pc in enumerate(pcs):
        cand = prev + ((pc - prev + 6) % 12) - 6  # nearest note of class pc to prev
        while cand < low:
            cand += 12
        while cand > high:
            cand -= 12
        out[i] = prev = cand
    return out


# --------------------------------------------------------------------------------------------
# Definition 21.2: stochastic matrices
# --------------------------------------------------------------------------------------------
def check_stochastic(P, atol: float = 1e-8) -> np.ndarray:
    """Validate a row-stochastic matrix (Definition 21.2) and return it as a float array.

    Conditions: P is square, P[i, j] >= 0, and sum_j P[i, j] = 1 for every row i (within ``atol``).

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (array-like): candidate transition matrix, shape (n, n)
        atol (float): tolerance on the row sums
    Returns:
        P (np.ndarray): float64 copy, shape (n, n)
    Raises:
        ValueError: naming the first problem: entries that are not numbers, not 2-D, not square,
            empty, NaN/inf entry (row, column), negative entry (row, column), a row not summing to 1
            (which row, its sum)
    """
    try:
        A = np.array(P, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"entries must be numbers ({exc})") from None
    if A.ndim != 2:
        raise ValueError(f"P must be a 2-D matrix, got an array with shape {A.shape}")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"P must be square, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError("P is empty (0 states)")
    bad = np.argwhere(~np.isfinite(A))
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"entry P[{i}, {j}] is {A[i, j]}; entries must be finite numbers")
    bad = np.argwhere(A < 0)
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"negative entry P[{i}, {j}] = {A[i, j]:g}; probabilities must be >= 0")
    sums = A.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        i = bad[0]
        raise ValueError(f"row {i} sums to {sums[i]:.6g}, not 1 (every row must sum to 1)")
    return A


def normalize_rows(W) -> np.ndarray:
    """Turn non-negative weights into a stochastic matrix: P[i, j] = W[i, j] / sum_k W[i, k].

    Raises:
        ValueError: negative or non-finite weights, or a row of zeros (no way to leave that state)
    """
    A = np.array(W, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"weights must be a 2-D matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        i, j = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(f"weight W[{i}, {j}] is {A[i, j]}; weights must be finite")
    if np.any(A < 0):
        i, j = np.argwhere(A < 0)[0]
        raise ValueError(f"negative weight W[{i}, {j}] = {A[i, j]:g}")
    sums = A.sum(axis=1, keepdims=True)
    if np.any(sums == 0):
        raise ValueError(f"row {int(np.flatnonzero(sums[:, 0] == 0)[0])} is all zeros; "
                         "it cannot be normalised")
    return A / sums


# --------------------------------------------------------------------------------------------
# Theorem 21.1: Chapman-Kolmogorov
# --------------------------------------------------------------------------------------------
def n_step(P, n: int) -> np.ndarray:
    """n-step transition matrix P^(n) = P^n (Theorem 21.1, Chapman-Kolmogorov).

    P^(n)[i, j] = Pr(X_{t+n} = j | X_t = i) = sum_k P^(n-1)[i, k] P[k, j]; computed by repeated
    squaring (``np.linalg.matrix_power``).

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (np.ndarray): stochastic matrix, shape (s, s)
        n (int): number of steps, n >= 0 (P^0 = I)
    Returns:
        Pn (np.ndarray): stochastic matrix, shape (s, s)
    Raises:
        ValueError: P not stochastic, or n not a non-negative integer
    """
    A = check_stochastic(P)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return np.linalg.matrix_power(A, int(n))


def distribution_after(mu, P, n: int) -> np.ndarray:
    """Distribution of X_n when X_0 ~ mu: the row vector mu P^n."""
    mu = _check_distribution(mu, len(check_stochastic(P)))
    return mu @ n_step(P, n)


def _check_distribution(mu, n: int) -> np.ndarray:
    v = np.asarray(mu, dtype=float)
    if v.shape != (n,):
        raise ValueError(f"distribution must have shape ({n},), got {v.shape}")
    if np.any(v < 0) or abs(v.sum() - 1) > 1e-8:
        raise ValueError("distribution must be non-negative and sum to 1")
    return v


# --------------------------------------------------------------------------------------------
# Structure: irreducibility, closed classes, period
# --------------------------------------------------------------------------------------------
def communicating_classes(P) -> list[np.ndarray]:
    """Communicating classes of the chain (strongly connected components of the graph P > 0)."""
    from scipy.sparse.csgraph import connected_components

    A = check_stochastic(P)
    k, labels = connected_components(A > 0, directed=True, connection="strong")
    return [np.flatnonzero(labels == c) for c in range(k)]


def _reachability(A: np.ndarray) -> np.ndarray:
    """Boolean R with R[i, j] = True when j can be reached from i in >= 0 steps (transitive closure
    of the graph P > 0 by repeated squaring; fast for the book's small chains)."""
    R = (A > 0) | np.eye(len(A), dtype=bool)
    while True:
        R2 = (R.astype(np.uint8) @ R.astype(np.uint8)) > 0
        if np.array_equal(R2, R):
            return R
        R = R2


def closed_classes(P) -> list[np.ndarray]:
    """Classes the chain can never leave (sum of P over the class is 1 on each of its rows).

    Each closed class carries its own stationary distribution, so pi is unique exactly when there
    is one closed class. State i lies in a closed class when every state it reaches reaches it back.
    """
    A = check_stochastic(P)
    if len(A) > 256:  # large chains: sparse graph algorithm
        out = []
        for c in communicating_classes(A):
            outside = np.setdiff1d(np.arange(len(A)), c)
            if not np.any(A[np.ix_(c, outside)] > 0):
                out.append(c)
        return out
    R = _reachability(A)
    closed = np.all(~R | R.T, axis=1)  # R[i, j] implies R[j, i]
    classes = {tuple(np.flatnonzero(R[i] & R[:, i])) for i in np.flatnonzero(closed)}
    return [np.array(c) for c in sorted(classes)]


def is_irreducible(P) -> bool:
    """True when every state can reach every other (one communicating class)."""
    return len(communicating_classes(P)) == 1


def period(P) -> int:
    """Period d = gcd{n >= 1 : P^n[i, i] > 0} of an irreducible chain (the same for every i).

    Computed from one breadth-first search: with level(v) the graph distance from state 0,
    d = gcd over edges u -> v of level(u) + 1 - level(v). The chain is aperiodic when d = 1.
    Raises:
        ValueError: P not stochastic, or reducible (the period is then a property of each class)
    """
    A = check_stochastic(P)
    if not is_irreducible(A):
        raise ValueError("the chain is reducible; its period is defined per communicating class")
    n = len(A)
    level = np.full(n, -1)
    level[0] = 0
    frontier = [0]
    while frontier:
        nxt = []
        for u in frontier:
            for v in np.flatnonzero(A[u] > 0):
                if level[v] < 0:
                    level[v] = level[u] + 1
                    nxt.append(v)
        frontier = nxt
    g = 0
    for u, v in np.argwhere(A > 0):
        g = math.gcd(g, int(level[u] + 1 - level[v]))
    return g


# --------------------------------------------------------------------------------------------
# Definition 21.3 / Theorem 21.2: stationary distribution
# --------------------------------------------------------------------------------------------
def stationary_distribution(P) -> np.ndarray:
    """Stationary distribution pi with pi P = pi, pi >= 0, sum pi = 1 (Definition 21.3, Theorem 21.2).

    pi is the left eigenvector of P for eigenvalue 1. It is unique exactly when the chain has one
    closed class (irreducible chains in particular, periodic or not); it is then the solution of the
    linear system (P^T - I) pi = 0 with one equation replaced by sum_i pi_i = 1.

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (np.ndarray): row-stochastic matrix, shape (n, n)
    Returns:
        pi (np.ndarray): probability vector, shape (n,)
    Raises:
        ValueError: P is not stochastic, or the chain has several closed classes (pi not unique)
    """
    A = check_stochastic(P)
    closed = [] if np.all(A > 0) else closed_classes(A)  # a positive matrix is irreducible
    if len(closed) > 1:
        names = ["{" + ", ".join(map(str, c.tolist())) + "}" for c in closed]
        raise ValueError(
            f"the chain is reducible with {len(closed)} closed classes {', '.join(names)}: "
            "each has its own stationary distribution, so pi is not unique"
        )
    n = len(A)
    M = A.T - np.eye(n)
    M[-1, :] = 1.0
    b = np.zeros(n)
    b[-1] = 1.0
    pi = np.linalg.solve(M, b)
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def tv_distance(p, q) -> np.ndarray | float:
    """Total variation distance ||p - q||_TV = (1/2) sum_x |p(x) - q(x)| (along the last axis)."""
    d = 0.5 * np.abs(np.asarray(p, dtype=float) - np.asarray(q, dtype=float)).sum(axis=-1)
    return float(d) if np.ndim(d) == 0 else d


def distance_to_stationarity(P, t_max: int) -> np.ndarray:
    """d(t) = max_i ||P^t(i, .) - pi||_TV for t = 0..t_max (the worst start, Definition 21.4).

    The worst initial distribution is always a point mass, because mu -> ||mu P^t - pi||_TV is
    convex and the distributions are the convex hull of the point masses.
    Returns:
        d (np.ndarray): shape (t_max + 1,), non-increasing
    """
    A = check_stochastic(P)
    pi = stationary_distribution(A)
    d = np.empty(t_max + 1)
    Pt = np.eye(len(A))
    for t in range(t_max + 1):
        d[t] = tv_distance(Pt, pi).max()
        Pt = Pt @ A
    return d


def tv_curve(P, start: int, t_max: int) -> np.ndarray:
    """||delta_start P^t - pi||_TV for t = 0..t_max (one starting state; Theorem 21.2, part 2)."""
    A = check_stochastic(P)
    pi = stationary_distribution(A)
    mu = np.eye(len(A))[start]
    out = np.empty(t_max + 1)
    for t in range(t_max + 1):
        out[t] = tv_distance(mu, pi)
        mu = mu @ A
    return out


def mixing_time(P, eps: float = 0.25, t_max: int = 10_000) -> int:
    """Mixing time t_mix(eps) = min{t : max_i ||P^t(i, .) - pi||_TV <= eps} (Definition 21.4).

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (np.ndarray): stochastic matrix of an irreducible aperiodic chain
        eps (float): threshold in (0, 1); 1/4 is the customary choice (Levin, Peres & Wilmer)
        t_max (int): give up after this many steps
    Returns:
        t (int): the mixing time
    Raises:
        ValueError: eps outside (0, 1), pi not unique, or no mixing within t_max steps (for
            example a periodic chain, whose P^t never converges)
    """
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    A = check_stochastic(P)
    pi = stationary_distribution(A)
    Pt = np.eye(len(A))
    for t in range(t_max + 1):
        if tv_distance(Pt, pi).max() <= eps:
            return t
        Pt = Pt @ A
    hint = "" if not is_irreducible(A) or period(A) == 1 else f" (the chain has period {period(A)})"
    raise ValueError(f"the chain did not mix within {t_max} steps{hint}")


# --------------------------------------------------------------------------------------------
# Definition 21.1: sampling
# --------------------------------------------------------------------------------------------
def _walk(cum: np.ndarray, start: int, u: np.ndarray) -> np.ndarray:
    out = np.empty(u.size + 1, dtype=np.int64)
    out[0] = start
    n = cum.shape[1]
    s = start
    for t in range(u.size):
        j = 0
        row = cum[s]
        while j < n - 1 and row[j] <= u[t]:
            j += 1
        s = j
        out[t + 1] = s
    return out


try:  # numba ships with librosa; the walk is sequential, so compile it
    from numba import njit

    _walk = njit(cache=True)(_walk)
except ImportError:  # pragma: no cover - pure Python fallback
    pass


def _state(x, n: int) -> int:
    if isinstance(x, str):
        x = parse_note(x) % 12
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 0 <= x < n:
        raise ValueError(f"start state must be an integer in 0..{n - 1} or a note name, got {x!r}")
    return int(x)


def sample_melody(P, length: int, start: int | str = 0,
                  rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Sample X_0 = start, X_{t+1} ~ P[X_t, .] (Definition 21.1): a melody of ``length`` states.

    All uniforms are drawn in one call and the walk runs compiled (numba), so 10^6 notes take
    milliseconds. Inverse-CDF sampling: X_{t+1} = min{j : U_t < sum_{k<=j} P[X_t, k]}.

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (np.ndarray): stochastic matrix, shape (n, n)
        length (int): number of notes, >= 1
        start (int or str): first state (index or note name such as "C")
        rng (np.random.Generator or int): randomness (a seed makes the melody reproducible)
    Returns:
        states (np.ndarray): int64, shape (length,)
    Raises:
        ValueError: P not stochastic, bad length or start state
    """
    A = check_stochastic(P)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    s0 = _state(start, len(A))
    rng = np.random.default_rng(rng)
    cum = np.cumsum(A, axis=1)
    cum[:, -1] = 1.0 + 1e-12  # guard against round-off in the last bin
    return _walk(cum, s0, rng.random(int(length) - 1))


def sample_chains(P, length: int, starts, rng: np.random.Generator | int | None = None
                  ) -> np.ndarray:
    """Many independent chains at once (vectorised over chains): shape (len(starts), length)."""
    A = check_stochastic(P)
    rng = np.random.default_rng(rng)
    x = np.array([_state(s, len(A)) for s in np.atleast_1d(starts)], dtype=np.int64)
    cum = np.cumsum(A, axis=1)
    cum[:, -1] = 1.0 + 1e-12
    out = np.empty((x.size, length), dtype=np.int64)
    out[:, 0] = x
    for t in range(1, length):
        u = rng.random(x.size)
        x = (cum[x] <= u[:, None]).sum(axis=1)
        out[:, t] = x
    return out


def empirical_frequencies(states, n_states: int = 12) -> np.ndarray:
    """Fraction of time spent in each state (Theorem 21.2, part 3: converges to pi)."""
    return np.bincount(np.asarray(states), minlength=n_states) / len(states)


def sequence_probability(P, states, mu=None) -> float:
    """Pr(X_0 = s_0, ..., X_T = s_T) = mu(s_0) prod_t P[s_t, s_{t+1}] (mu = point mass on s_0)."""
    A = check_stochastic(P)
    s = np.asarray(states, dtype=np.int64)
    p0 = 1.0 if mu is None else float(np.asarray(mu)[s[0]])
    return p0 * float(np.prod(A[s[:-1], s[1:]]))


# --------------------------------------------------------------------------------------------
# Fitting chains of order k, and Proposition 21.1
# --------------------------------------------------------------------------------------------
def kth_order_parameter_count(n_states: int, k: int) -> int:
    """Entries of the transition matrix of a k-th order chain: n^k contexts x n next states = n^(k+1)
    (Proposition 21.1). Of these, n^k (n - 1) are free (each row sums to 1).

    Exact integer arithmetic (12^17 does not fit in a float exactly).
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
    """
    out = []
    for s in sequences:
        a = np.asarray(s.pitch_classes if hasattr(s, "pitch_classes") else s, dtype=np.int64)
        if a.ndim != 1:
            raise ValueError(f"each sequence must be 1-D, got shape {a.shape}")
        if a.size and (a.min() < 0 or a.max() >= n_states):
            raise ValueError(f"states must lie in 0..{n_states - 1}, got {a.min()}..{a.max()}")
        out.append(a)
    return out


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
        if self.alpha < 0:
            raise ValueError(f"smoothing alpha must be >= 0, got {self.alpha}")
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
        """Sample a continuation: the first ``order`` states are ``prefix`` (a training context)."""
        k, n = self.order, self.n_states
        rng = np.random.default_rng(rng)
        out = [int(x) for x in prefix][:k]
        if len(out) < k:
            raise ValueError(f"prefix must have at least {k} states")
        while len(out) < length:
            code = sum(out[-m] * n ** (m - 1) for m in range(1, k + 1)) if k else 0
            out.append(int(rng.choice(n, p=self.probs(code))))
        return np.asarray(out[:length], dtype=np.int64)

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
    if order < 0 or smoothing < 0:
        raise ValueError(f"order and smoothing must be >= 0, got order={order}, "
                         f"smoothing={smoothing}")
    entries = kth_order_parameter_count(n_states, order)
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


# --------------------------------------------------------------------------------------------
# Presets used by the chapter and the widgets
# --------------------------------------------------------------------------------------------
#: Toy chain on {C, E, G} (the page's worked example): row C is (0.2, 0.3, 0.5); rows E and G are
#: ours, chosen so that G dominates in the long run, as the page says.
TOY_CEG = np.array([[0.2, 0.3, 0.5],
                    [0.1, 0.3, 0.6],
                    [0.3, 0.1, 0.6]])
TOY_CEG_LABELS = ("C", "E", "G")

#: Weight of each interval class 0..6 (semitones, folded) in the Illiac-style matrix: steps (1, 2)
#: and consonances (3, 4: thirds; 5: fourth/fifth) are favoured, the unison is allowed but rare and
#: the tritone (6) is nearly forbidden -- the flavour of Hiller & Isaacson's counterpoint rules.
ILLIAC_INTERVAL_WEIGHTS = np.array([0.5, 2.0, 3.0, 1.5, 1.5, 2.0, 0.1])
#: Scale membership weight: notes of C major get full weight, the others 0.15.
C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def illiac_matrix(interval_weights=ILLIAC_INTERVAL_WEIGHTS, scale=C_MAJOR,
                  off_scale: float = 0.15) -> np.ndarray:
    """Illiac-style 12x12 matrix: P[i, j] proportional to w(interval class of j - i) * s(j).

    w favours steps and consonant leaps (see ILLIAC_INTERVAL_WEIGHTS) and s(j) = 1 on the scale,
    ``off_scale`` elsewhere. Our reconstruction in the spirit of Hiller & Isaacson (1957), not
    their table.
    """
    w = np.asarray(interval_weights, dtype=float)
    if w.shape != (7,):
        raise ValueError("interval_weights needs 7 entries (interval classes 0..6)")
    i, j = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
    ic = np.minimum((j - i) % 12, (i - j) % 12)
    s = np.full(12, off_scale)
    s[list(scale)] = 1.0
    return normalize_rows(w[ic] * s[None, :])


def stepwise_matrix(stay: float = 0.5) -> np.ndarray:
    """Slow-mixing walk on the circle Z12: stay with probability ``stay``, else one semitone up or
    down with equal probability (aperiodic for stay > 0; mixes in ~ n^2 steps)."""
    if not 0 < stay < 1:
        raise ValueError(f"stay must be in (0, 1), got {stay}")
    P = np.eye(12) * stay
    for i in range(12):
        P[i, (i + 1) % 12] += (1 - stay) / 2
        P[i, (i - 1) % 12] += (1 - stay) / 2
    return P


def fifths_permutation() -> np.ndarray:
    """Deterministic circle of fifths i -> i + 7 (mod 12): irreducible, period 12, never converges."""
    P = np.zeros((12, 12))
    P[np.arange(12), (np.arange(12) + 7) % 12] = 1.0
    return P


def reducible_example() -> np.ndarray:
    """Two closed worlds that never meet: the C-major triad {C, E, G} and the other nine pitch
    classes, each uniform inside. pi is not unique: any mixture of the two classes' uniform
    distributions is stationary."""
    P = np.full((12, 12), 0.0)
    a = [0, 4, 7]
    b = [s for s in range(12) if s not in a]
    P[np.ix_(a, a)] = 1 / len(a)
    P[np.ix_(b, b)] = 1 / len(b)
    return P


def monte_carlo_n_step(P, n: int, n_chains: int = 2000,
                       rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Monte Carlo estimate of P^n: run ``n_chains`` chains from every state for n steps and count
    where they end (each row's standard error is about sqrt(p (1 - p) / n_chains)).

    Notebook: notebooks/01_markov.ipynb
    Returns:
        Phat (np.ndarray): shape (s, s), rows are empirical distributions of X_n given X_0 = i
    """
    A = check_stochastic(P)
    s = len(A)
    starts = np.repeat(np.arange(s), n_chains)
    ends = sample_chains(A, int(n) + 1, starts, rng)[:, -1]
    counts = np.zeros((s, s))
    np.add.at(counts, (starts, ends), 1.0)
    return counts / n_chains


def embed_matrix(P_small, states: Sequence[int], n: int = 12) -> np.ndarray:
    """Embed a chain on a subset of states into n states: rows outside ``states`` jump uniformly
    into the subset (transient), so the long-run behaviour is that of the small chain."""
    A = check_stochastic(P_small)
    idx = np.asarray(states)
    if A.shape[0] != idx.size:
        raise ValueError(f"{A.shape[0]} x {A.shape[0]} matrix but {idx.size} states")
    P = np.zeros((n, n))
    P[:, idx] = 1.0 / idx.size
    P[np.ix_(idx, idx)] = A
    return P


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
                     float(kth_order_parameter_count(n_states, int(k)))))
    cols = np.array(rows, dtype=float).T
    return {"order": cols[0].astype(int), "bits": cols[1], "unseen": cols[2],
            "contexts_seen": cols[3].astype(int), "dense_entries": cols[4]}


def copy_run_lengths(model: NGramModel, train: Sequence, length: int = 64, n_samples: int = 20,
                     rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Sample ``n_samples`` melodies from ``model`` (each seeded with the opening context of a random
    training melody) and return, for each, :func:`longest_shared_run` with the training set.

    Notebook: notebooks/01_markov.ipynb
    """
    rng = np.random.default_rng(rng)
    seqs = [s for s in as_state_sequences(train, model.n_states) if len(s) > model.order]
    out = np.empty(n_samples, dtype=int)
    for i in range(n_samples):
        prefix = seqs[rng.integers(len(seqs))][: model.order]
        out[i] = longest_shared_run(model.sample(length, prefix, rng)[model.order:], seqs)
    return out


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


#: Example 21.1: a chain on the pentatonic scale {C, D, E, G, A}. The page fixes P(C->D) = P(C->G)
#: = 0.3, P(D->E) = 0.3 and P(E->G) = 0.3; every other entry is ours, chosen so each row sums to 1
#: with most weight on stepwise motion within the scale.
PENTATONIC_LABELS = ("C", "D", "E", "G", "A")
PENTATONIC = np.array([
    #  C    D    E    G    A
    [0.1, 0.3, 0.2, 0.3, 0.1],  # from C
    [0.2, 0.1, 0.3, 0.2, 0.2],  # from D
    [0.2, 0.2, 0.1, 0.3, 0.2],  # from E
    [0.3, 0.1, 0.2, 0.1, 0.3],  # from G
    [0.2, 0.1, 0.1, 0.4, 0.2],  # from A
])


def two_step_terms(P, i: int, j: int) -> np.ndarray:
    """The terms P[i, k] P[k, j] of the Chapman-Kolmogorov sum (P^2)[i, j] = sum_k P[i, k] P[k, j]
    (Theorem 21.1 with n = 2), one per intermediate state k.

    Notebook: notebooks/04_examples.ipynb
    """
    A = check_stochastic(P)
    return A[i, :] * A[:, j]


def parse_matrix(text: str) -> np.ndarray:
    """Parse a matrix typed as rows separated by newlines or ';', entries by spaces or commas.

    Raises:
        ValueError: an entry that is not a number (quoted), or rows of different lengths
    """
    rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
    out = []
    for i, r in enumerate(rows):
        vals = []
        for tok in re.split(r"[,\s]+", r.strip()):
            try:
                vals.append(float(tok))
            except ValueError:
                raise ValueError(f"row {i}: {tok!r} is not a number") from None
        out.append(vals)
    if not out:
        raise ValueError("empty matrix")
    if len({len(r) for r in out}) != 1:
        raise ValueError(f"rows have different lengths: {[len(r) for r in out]}")
    return np.array(out)
