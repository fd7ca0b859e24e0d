"""Markov chain theory on a finite state space (Definitions 21.1-21.4, Theorems 21.1-21.2).

A chain on states S = {0, ..., n-1} is given by a row-stochastic matrix P (Definition 21.2):
P[i, j] = Pr(X_{t+1} = j | X_t = i) >= 0 and sum_j P[i, j] = 1. For pitch classes, state 0 is C,
1 is C#, ..., 11 is B (names in :mod:`m2d.pitch`; the book's example chains in
:mod:`m2d.example_chains`; chains estimated from corpora in :mod:`m2d.ngram`).

:class:`MarkovChain` validates P once and computes each property (pi, classes, period, mixing
time) once, in the style of ``quantecon.MarkovChain``. The plain functions
(``stationary_distribution(P)``, ``n_step(P, n)``, ``mixing_time(P)``, ...) are thin wrappers
that build one chain per call.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from m2d import checks
from m2d.pitch import parse_note
from m2d.rng import as_generator
from m2d.stochastic import check_stochastic, edit_row, normalize_rows, tv_distance  # noqa: F401


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


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class MarkovChain:
    """A finite Markov chain with transition matrix P (Definitions 21.1-21.4), validated once.

    Each property is computed on first use and kept (the matrix, pi, the classes, the period,
    mixing times per (eps, t_max)); cached arrays are read-only. After the model of
    ``quantecon.MarkovChain``.

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (array-like): row-stochastic matrix, shape (n, n)
        atol (float): tolerance on the row sums (:func:`check_stochastic`)
    Raises:
        ValueError: P is not stochastic (the message of :func:`check_stochastic`)
    """

    def __init__(self, P, atol: float = 1e-8):
        self.P = _frozen(check_stochastic(P, atol))
        self._mixing: dict[tuple[float, int], int] = {}

    def __repr__(self) -> str:
        return f"MarkovChain(n_states={self.n_states})"

    @property
    def n_states(self) -> int:
        return len(self.P)

    # -- Theorem 21.1: Chapman-Kolmogorov -------------------------------------------------------
    def n_step(self, n: int) -> np.ndarray:
        """P^(n) = P^n (Theorem 21.1): P^(n)[i, j] = Pr(X_{t+n} = j | X_t = i), by repeated
        squaring. Raises ValueError unless n is a non-negative integer (P^0 = I)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        Pn = np.linalg.matrix_power(self.P, int(n))
        return Pn.copy() if Pn is self.P else Pn

    def check_distribution(self, mu) -> np.ndarray:
        """``mu`` as a probability vector over the states (ValueError: wrong shape, negative
        entries, or a sum other than 1)."""
        v = np.asarray(mu, dtype=float)
        if v.shape != (self.n_states,):
            raise ValueError(f"distribution must have shape ({self.n_states},), got {v.shape}")
        if np.any(v < 0) or abs(v.sum() - 1) > 1e-8:
            raise ValueError("distribution must be non-negative and sum to 1")
        return v

    def distribution_after(self, mu, n: int) -> np.ndarray:
        """Distribution of X_n when X_0 ~ mu: the row vector mu P^n."""
        return self.check_distribution(mu) @ self.n_step(n)

    def distribution_path(self, start: int | str, t_max: int) -> np.ndarray:
        """Rows delta_start P^t for t = 0..t_max: where the chain started in ``start`` is after t
        steps (Theorem 21.1 applied step by step, mu_{t+1} = mu_t P).

        Notebook: notebooks/01_markov.ipynb
        Returns:
            path (np.ndarray): shape (t_max + 1, n), each row a distribution
        Raises:
            ValueError: bad start state
        """
        mu = np.eye(self.n_states)[_state(start, self.n_states)]
        t_max = checks.integer("t_max", t_max, low=0)
        out = np.empty((int(t_max) + 1, self.n_states))
        for t in range(int(t_max) + 1):
            out[t] = mu
            mu = mu @ self.P
        return out

    # -- structure: classes and period ----------------------------------------------------------
    @cached_property
    def communicating_classes(self) -> list[np.ndarray]:
        """Communicating classes (strongly connected components of the graph P > 0)."""
        from scipy.sparse.csgraph import connected_components

        k, labels = connected_components(self.P > 0, directed=True, connection="strong")
        return [_frozen(np.flatnonzero(labels == c)) for c in range(k)]

    @cached_property
    def closed_classes(self) -> list[np.ndarray]:
        """Classes the chain can never leave (sum of P over the class is 1 on each of its rows).

        Each closed class carries its own stationary distribution, so pi is unique exactly when
        there is one closed class. State i lies in a closed class when every state it reaches
        reaches it back (transitive closure by repeated squaring; scipy's components for > 256
        states).
        """
        A = self.P
        if len(A) > 256:  # large chains: sparse graph algorithm
            out = []
            for c in self.communicating_classes:
                outside = np.setdiff1d(np.arange(len(A)), c)
                if not np.any(A[np.ix_(c, outside)] > 0):
                    out.append(c)
            return out
        R = (A > 0) | np.eye(len(A), dtype=bool)  # R[i, j]: j reachable from i in >= 0 steps
        while True:
            R2 = (R.astype(np.uint8) @ R.astype(np.uint8)) > 0
            if np.array_equal(R2, R):
                break
            R = R2
        closed = np.all(~R | R.T, axis=1)  # R[i, j] implies R[j, i]
        classes = {tuple(np.flatnonzero(R[i] & R[:, i])) for i in np.flatnonzero(closed)}
        return [_frozen(np.array(c)) for c in sorted(classes)]

    @cached_property
    def is_irreducible(self) -> bool:
        """True when every state can reach every other (one communicating class)."""
        return len(self.communicating_classes) == 1

    @cached_property
    def period(self) -> int:
        """Period d = gcd{n >= 1 : P^n[i, i] > 0} of an irreducible chain (the same for every i).

        From one breadth-first search: with level(v) the graph distance from state 0,
        d = gcd over edges u -> v of level(u) + 1 - level(v). Aperiodic when d = 1.
        Raises:
            ValueError: the chain is reducible (the period is then a property of each class)
        """
        if not self.is_irreducible:
            raise ValueError("the chain is reducible; its period is defined per communicating class")
        A = self.P
        level = np.full(len(A), -1)
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

    # -- Definition 21.3 / Theorem 21.2: stationary distribution ---------------------------------
    @cached_property
    def stationary(self) -> np.ndarray:
        """Stationary distribution pi: pi P = pi, pi >= 0, sum pi = 1 (Definition 21.3,
        Theorem 21.2), solving (P^T - I) pi = 0 with one equation replaced by sum_i pi_i = 1.

        Raises:
            ValueError: several closed classes, so pi is not unique (the classes are named)
        """
        A = self.P
        closed = [] if np.all(A > 0) else self.closed_classes  # a positive matrix is irreducible
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
        pi = np.clip(np.linalg.solve(M, b), 0.0, None)
        return _frozen(pi / pi.sum())

    @cached_property
    def entropy_rate(self) -> float:
        """Entropy rate H = -sum_i pi_i sum_j P[i, j] log2 P[i, j] in bits per step: the average
        surprise of the next state in the long run (0 for a deterministic chain, log2 n for the
        uniform one). Raises ValueError when pi is not unique."""
        P = self.P
        return float(-np.sum(np.where(P > 0, P * np.log2(np.where(P > 0, P, 1)), 0), axis=1)
                     @ self.stationary)

    def tv_curve(self, start: int | str, t_max: int) -> np.ndarray:
        """||delta_start P^t - pi||_TV for t = 0..t_max (one start; Theorem 21.2, part 2)."""
        return np.asarray(tv_distance(self.distribution_path(start, t_max), self.stationary))

    def distance_to_stationarity(self, t_max: int) -> np.ndarray:
        """d(t) = max_i ||P^t(i, .) - pi||_TV for t = 0..t_max (the worst start, Definition 21.4).

        The worst initial distribution is always a point mass, because mu -> ||mu P^t - pi||_TV
        is convex and the distributions are the convex hull of the point masses.
        Returns:
            d (np.ndarray): shape (t_max + 1,), non-increasing
        """
        t_max = checks.integer("t_max", t_max, low=0)
        pi = self.stationary
        d = np.empty(t_max + 1)
        Pt = np.eye(self.n_states)
        for t in range(t_max + 1):
            d[t] = tv_distance(Pt, pi).max()
            Pt = Pt @ self.P
        return d

    def mixing_time(self, eps: float = 0.25, t_max: int = 10_000) -> int:
        """t_mix(eps) = min{t : max_i ||P^t(i, .) - pi||_TV <= eps} (Definition 21.4), kept per
        (eps, t_max).

        Raises:
            ValueError: eps outside (0, 1), pi not unique, or no mixing within t_max steps (for
                example a periodic chain, whose P^t never converges)
        """
        eps = checks.real("eps", eps, low=0, high=1, low_open=True, high_open=True)
        t_max = checks.integer("t_max", t_max, low=0)
        key = (float(eps), int(t_max))
        if key not in self._mixing:
            pi = self.stationary
            Pt = np.eye(self.n_states)
            for t in range(t_max + 1):
                if tv_distance(Pt, pi).max() <= eps:
                    self._mixing[key] = t
                    break
                Pt = Pt @ self.P
            else:
                hint = ("" if not self.is_irreducible or self.period == 1
                        else f" (the chain has period {self.period})")
                raise ValueError(f"the chain did not mix within {t_max} steps{hint}")
        return self._mixing[key]

    # -- Definition 21.1: sampling ---------------------------------------------------------------
    @cached_property
    def _cumulative(self) -> np.ndarray:
        cum = np.cumsum(self.P, axis=1)
        cum[:, -1] = 1.0 + 1e-12  # guard against round-off in the last bin
        return _frozen(cum)

    def sample(self, length: int, start: int | str = 0,
               rng: np.random.Generator | int | None = None) -> np.ndarray:
        """X_0 = start, X_{t+1} ~ P[X_t, .] (Definition 21.1), by inverse CDF:
        X_{t+1} = min{j : U_t < sum_{k<=j} P[X_t, k]}; all uniforms drawn at once, the walk
        compiled (numba). ``start``: a state index or a note name such as "C".

        Raises:
            ValueError: bad length or start state
        """
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        s0 = _state(start, self.n_states)
        return _walk(self._cumulative, s0, as_generator(rng).random(int(length) - 1))

    def sample_chains(self, length: int, starts,
                      rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Independent chains from ``starts`` (vectorised over chains): shape (len(starts), length)."""
        rng = as_generator(rng)
        x = np.array([_state(s, self.n_states) for s in np.atleast_1d(starts)], dtype=np.int64)
        cum = self._cumulative
        out = np.empty((x.size, length), dtype=np.int64)
        out[:, 0] = x
        for t in range(1, length):
            u = rng.random(x.size)
            x = (cum[x] <= u[:, None]).sum(axis=1)
            out[:, t] = x
        return out

    def sequence_probability(self, states, mu=None) -> float:
        """Pr(X_0 = s_0, ..., X_T = s_T) = mu(s_0) prod_t P[s_t, s_{t+1}] (mu: point mass on s_0)."""
        s = np.asarray(states, dtype=np.int64)
        p0 = 1.0 if mu is None else float(np.asarray(mu)[s[0]])
        return p0 * float(np.prod(self.P[s[:-1], s[1:]]))


def _state(x, n: int) -> int:
    """A start state: an index 0..n-1 or a note name (its pitch class)."""
    if isinstance(x, str):
        x = parse_note(x) % 12
    return checks.state("start state", x, n)


# --------------------------------------------------------------------------------------------
# The plain functions: one chain per call, validated once
# --------------------------------------------------------------------------------------------
def n_step(P, n: int) -> np.ndarray:
    """n-step transition matrix P^(n) = P^n (Theorem 21.1, Chapman-Kolmogorov):
    P^(n)[i, j] = Pr(X_{t+n} = j | X_t = i) = sum_k P^(n-1)[i, k] P[k, j], by repeated squaring.

    Notebook: notebooks/01_markov.ipynb
    Raises:
        ValueError: P not stochastic, or n not a non-negative integer (P^0 = I)
    """
    return MarkovChain(P).n_step(n)


def distribution_after(mu, P, n: int) -> np.ndarray:
    """Distribution of X_n when X_0 ~ mu: the row vector mu P^n (Theorem 21.1)."""
    return MarkovChain(P).distribution_after(mu, n)


def communicating_classes(P) -> list[np.ndarray]:
    """Communicating classes of the chain (strongly connected components of the graph P > 0)."""
    return [c.copy() for c in MarkovChain(P).communicating_classes]


def closed_classes(P) -> list[np.ndarray]:
    """Classes the chain can never leave; pi is unique exactly when there is one."""
    return [c.copy() for c in MarkovChain(P).closed_classes]


def is_irreducible(P) -> bool:
    """True when every state can reach every other (one communicating class)."""
    return MarkovChain(P).is_irreducible


def period(P) -> int:
    """Period d = gcd{n >= 1 : P^n[i, i] > 0} of an irreducible chain (1: aperiodic).

    Raises:
        ValueError: P not stochastic, or reducible (the period is then a property of each class)
    """
    return MarkovChain(P).period


def stationary_distribution(P) -> np.ndarray:
    """Stationary distribution pi with pi P = pi, pi >= 0, sum pi = 1 (Definition 21.3,
    Theorem 21.2): the left eigenvector of P for eigenvalue 1, unique exactly when the chain has
    one closed class (irreducible chains in particular, periodic or not).

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (np.ndarray): row-stochastic matrix, shape (n, n)
    Returns:
        pi (np.ndarray): probability vector, shape (n,)
    Raises:
        ValueError: P is not stochastic, or the chain has several closed classes (pi not unique)
    """
    return MarkovChain(P).stationary.copy()


def distance_to_stationarity(P, t_max: int) -> np.ndarray:
    """d(t) = max_i ||P^t(i, .) - pi||_TV for t = 0..t_max (Definition 21.4; non-increasing)."""
    return MarkovChain(P).distance_to_stationarity(t_max)


def tv_curve(P, start: int, t_max: int) -> np.ndarray:
    """||delta_start P^t - pi||_TV for t = 0..t_max (one starting state; Theorem 21.2, part 2)."""
    return MarkovChain(P).tv_curve(start, t_max)


def mixing_time(P, eps: float = 0.25, t_max: int = 10_000) -> int:
    """Mixing time t_mix(eps) = min{t : max_i ||P^t(i, .) - pi||_TV <= eps} (Definition 21.4);
    eps = 1/4 is the customary choice (Levin, Peres & Wilmer).

    Notebook: notebooks/01_markov.ipynb
    Raises:
        ValueError: eps outside (0, 1), P not stochastic, pi not unique, or no mixing within
            t_max steps (for example a periodic chain, whose P^t never converges)
    """
    return MarkovChain(P).mixing_time(eps, t_max)


def sample_melody(P, length: int, start: int | str = 0,
                  rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Sample X_0 = start, X_{t+1} ~ P[X_t, .] (Definition 21.1): ``length`` states, by inverse
    CDF with one call for all uniforms and a compiled walk (10^6 notes take milliseconds).

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
    return MarkovChain(P).sample(length, start, rng)


def sample_chains(P, length: int, starts, rng: np.random.Generator | int | None = None
                  ) -> np.ndarray:
    """Many independent chains at once (vectorised over chains): shape (len(starts), length)."""
    return MarkovChain(P).sample_chains(length, starts, rng)


def sequence_probability(P, states, mu=None) -> float:
    """Pr(X_0 = s_0, ..., X_T = s_T) = mu(s_0) prod_t P[s_t, s_{t+1}] (mu = point mass on s_0)."""
    return MarkovChain(P).sequence_probability(states, mu)


# --------------------------------------------------------------------------------------------
# A Monte Carlo check of Theorem 21.1
# --------------------------------------------------------------------------------------------
def monte_carlo_n_step(P, n: int, n_chains: int = 2000,
                       rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Monte Carlo estimate of P^n: run ``n_chains`` chains from every state for n steps and count
    where they end (each row's standard error is about sqrt(p (1 - p) / n_chains)).

    Notebook: notebooks/01_markov.ipynb
    Returns:
        Phat (np.ndarray): shape (s, s), rows are empirical distributions of X_n given X_0 = i
    """
    chain = MarkovChain(P)
    n = checks.integer("n", n, low=0)
    n_chains = checks.integer("n_chains", n_chains, low=1)
    s = chain.n_states
    starts = np.repeat(np.arange(s), n_chains)
    ends = chain.sample_chains(int(n) + 1, starts, rng)[:, -1]
    counts = np.zeros((s, s))
    np.add.at(counts, (starts, ends), 1.0)
    return counts / n_chains
