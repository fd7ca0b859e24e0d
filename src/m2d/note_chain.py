"""Markov chains on notes, not pitch classes: pitch *with its octave* (so melodies leap and keep a
register) and duration (so they have rhythm).

A note is a pair (pitch p_t, duration d_t): p_t a MIDI number in the range the training melodies
use, d_t one of the note values :data:`m2d.pitch.DURATION_BINS`. Two ways to make a first-order
chain of notes:

- **joint**: one chain on the pairs, Pr(p_{t+1}, d_{t+1} | p_t, d_t); |P| |D| states, so
  (|P| |D|)^2 entries to estimate (Proposition 21.1's growth again);
- **factored**: a pitch chain and a duration chain run side by side,
  Pr(p_{t+1}, d_{t+1} | p_t, d_t) = P[p_t, p_{t+1}] D[d_t, d_{t+1}], with |P|^2 + |D|^2 entries.

The factored chain assumes rhythm and pitch independent; the joint one does not, but it has about
|D|^2 times more entries for the same data. :func:`compare_factorizations` measures which predicts
held-out melodies better; chapter 1 shows the result and uses the winner, :class:`NoteChain`.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from m2d.corpus import melody_notes
from m2d.markov import MarkovChain
from m2d.ngram import NGramModel, cross_entropy_bits, fit_transition_matrix
from m2d.pitch import DURATION_BINS, duration_class
from m2d.rng import as_generator

N_DURATIONS = len(DURATION_BINS)


def _pitches_durations(melody) -> tuple[np.ndarray, np.ndarray]:
    """(MIDI pitches, durations) of a Melody or of a (pitches, durations) pair, checked."""
    p, d = melody_notes(melody)
    if p.ndim != 1 or p.size == 0 or not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"pitches must be a non-empty 1-D array of MIDI integers, got {p!r:.60}")
    if d.shape != p.shape:
        raise ValueError(f"{p.size} pitches but {d.size} durations")
    return p.astype(np.int64), d


class NoteChain:
    """The factored first-order chain of notes: a pitch chain on MIDI numbers low..high and a
    duration chain on the note values, Pr(next note | note) = P[p, p'] D[d, d'].

    Both matrices are add-alpha estimates (every entry positive, so both chains are irreducible
    and aperiodic and Theorem 21.2 applies to each). Derived objects (the two
    :class:`m2d.markov.MarkovChain` objects and their stationary distributions) are computed once.

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (np.ndarray): pitch transition matrix, shape (high - low + 1, high - low + 1)
        D (np.ndarray): duration transition matrix, shape (len(DURATION_BINS),) * 2
        low (int): MIDI number of pitch state 0
        initial (tuple or None): the default first note (MIDI pitch, duration in quarter notes);
            :meth:`fit` sets the most common first note of the training melodies. None: the
            most likely pitch and note value under pi
    Raises:
        ValueError: a matrix that is not stochastic or has the wrong shape, a bad ``low``
    """

    def __init__(self, P, D, low: int, initial: tuple[int, float] | None = None):
        self.pitch_chain = MarkovChain(P)
        self.duration_chain = MarkovChain(D)
        if self.duration_chain.n_states != N_DURATIONS:
            raise ValueError(f"D must be {N_DURATIONS} x {N_DURATIONS} (one state per note value), "
                             f"got {self.duration_chain.P.shape}")
        if isinstance(low, bool) or not isinstance(low, (int, np.integer)) or not 0 <= low <= 127:
            raise ValueError(f"low must be a MIDI number 0..127, got {low!r}")
        self.low = int(low)
        if self.high > 127:
            raise ValueError(f"low + {self.pitch_chain.n_states - 1} = {self.high} exceeds MIDI 127")
        self.initial = initial

    @classmethod
    def fit(cls, melodies: Sequence, smoothing: float = 0.5, low: int | None = None,
            high: int | None = None) -> NoteChain:
        """Count note-to-note transitions in ``melodies`` (add-``smoothing`` estimates).

        Notebook: notebooks/01_markov.ipynb
        Args:
            melodies (sequence): corpus.Melody objects or (MIDI pitches, durations) pairs
            smoothing (float): alpha > 0 added to every count (keeps every state reachable)
            low, high (int or None): pitch range; by default the lowest and highest training note
        Returns:
            chain (NoteChain)
        Raises:
            ValueError: no melodies, smoothing <= 0, a training note outside low..high
        """
        notes = [_pitches_durations(m) for m in melodies]
        if not notes:
            raise ValueError("melodies is empty: nothing to count")
        if not (np.isfinite(smoothing) and smoothing > 0):
            raise ValueError(f"smoothing must be a positive number, got {smoothing}")
        allp = np.concatenate([p for p, _ in notes])
        low = int(allp.min()) if low is None else int(low)
        high = int(allp.max()) if high is None else int(high)
        if not 0 <= low <= high <= 127:
            raise ValueError(f"need 0 <= low <= high <= 127, got low={low}, high={high}")
        if allp.min() < low or allp.max() > high:
            raise ValueError(f"training notes span {allp.min()}..{allp.max()}, outside "
                             f"low..high = {low}..{high}")
        n = high - low + 1
        P = fit_transition_matrix([p - low for p, _ in notes], n_states=n, smoothing=smoothing)
        D = fit_transition_matrix([duration_class(d) for _, d in notes], n_states=N_DURATIONS,
                                  smoothing=smoothing)
        first_p = np.bincount([p[0] - low for p, _ in notes], minlength=n).argmax()
        first_d = np.bincount([duration_class(d[0]) for _, d in notes],
                              minlength=N_DURATIONS).argmax()
        return cls(P, D, low, initial=(int(first_p) + low, DURATION_BINS[first_d]))

    def __repr__(self) -> str:
        return f"NoteChain(pitches {self.low}..{self.high}, {N_DURATIONS} note values)"

    @property
    def high(self) -> int:
        """MIDI number of the highest pitch state."""
        return self.low + self.pitch_chain.n_states - 1

    @cached_property
    def pitches(self) -> np.ndarray:
        """The pitch states as MIDI numbers low..high."""
        return np.arange(self.low, self.high + 1)

    @cached_property
    def stationary(self) -> tuple[np.ndarray, np.ndarray]:
        """(pi_pitch, pi_duration): long-run share of each pitch and of each note value
        (Theorem 21.2 for each chain; the pair chain's pi is their outer product)."""
        return self.pitch_chain.stationary, self.duration_chain.stationary

    def _state(self, pitch: int, duration: float) -> tuple[int, int]:
        if not self.low <= int(pitch) <= self.high:
            raise ValueError(f"start pitch {pitch} is outside the chain's range "
                             f"{self.low}..{self.high}")
        return int(pitch) - self.low, int(duration_class(duration))

    def sample(self, n_notes: int, start: tuple[int, float] | None = None,
               rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A melody of ``n_notes`` notes: p_{t+1} ~ P[p_t, .] and d_{t+1} ~ D[d_t, .] (Definition 21.1
        for each chain), from ``start`` = (MIDI pitch, duration in quarter notes).

        Notebook: notebooks/01_markov.ipynb
        Args:
            n_notes (int): length, >= 1
            start (tuple or None): first note; None uses the most common first note of training
            rng (np.random.Generator or int): randomness (one generator for both chains)
        Returns:
            pitches (np.ndarray): MIDI numbers, int64, shape (n_notes,)
            durations (np.ndarray): quarter notes, float, shape (n_notes,)
        Raises:
            ValueError: n_notes < 1, a start pitch outside the range, a bad start duration
        """
        start = start if start is not None else self.initial
        if start is None:
            pi_p, pi_d = self.stationary
            start = (int(self.pitches[pi_p.argmax()]), DURATION_BINS[int(pi_d.argmax())])
        p0, d0 = self._state(*start)
        rng = as_generator(rng)
        p = self.pitch_chain.sample(n_notes, p0, rng) + self.low
        d = np.asarray(DURATION_BINS)[self.duration_chain.sample(n_notes, d0, rng)]
        return p, d

    def sample_like(self, melodies: Sequence, rng: np.random.Generator | int | None = None
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """One sample per melody, as long as it and starting on its first note (pitch and
        duration), so that statistics of samples and of real melodies compare like with like.

        Notebook: notebooks/01_markov.ipynb
        Returns:
            samples (list of (pitches, durations))
        Raises:
            ValueError: a melody whose first note lies outside the chain's pitch range
        """
        rng = as_generator(rng)
        out = []
        for m in melodies:
            p, d = _pitches_durations(m)
            out.append(self.sample(p.size, start=(int(p[0]), float(d[0])), rng=rng))
        return out

    def continue_motif(self, pitches: Sequence[int], durations: Sequence[float], n_notes: int,
                       rng: np.random.Generator | int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, float]:
        """Continue a motif by ``n_notes`` notes: the chain starts from the motif's last note (a
        first-order chain reads nothing else) and draws p_{t+1} ~ P[p_t, .], d_{t+1} ~ D[d_t, .].

        Notebook: notebooks/05_landscape.ipynb
        Args:
            pitches, durations (sequences): the motif, MIDI numbers and quarter notes
            n_notes (int): notes to add, >= 1
            rng (np.random.Generator or int): randomness
        Returns:
            pitches (np.ndarray): the new notes only, MIDI
            durations (np.ndarray): their durations, quarter notes
            log2p (float): log2 of the continuation's probability given the motif,
                sum_t log2 P[p_t, p_{t+1}] + log2 D[d_t, d_{t+1}]
        Raises:
            ValueError: an empty motif, n_notes < 1, the motif's last note outside the chain's
                pitch range
        """
        p, d = _pitches_durations((np.asarray(pitches), durations))
        if isinstance(n_notes, bool) or not isinstance(n_notes, (int, np.integer)) or n_notes < 1:
            raise ValueError(f"n_notes must be a positive integer, got {n_notes!r}")
        new_p, new_d = self.sample(int(n_notes) + 1, start=(int(p[-1]), float(d[-1])), rng=rng)
        lp = self.log2_probs([(new_p, new_d)], first=1)["note"]
        return new_p[1:], new_d[1:], float(lp.sum())

    def log2_probs(self, melodies: Sequence, first: int = 1) -> dict[str, np.ndarray]:
        """log2 of P[p_{t-1}, p_t], of D[d_{t-1}, d_t] and of their product (the note) at every
        position t >= first of every melody.

        Notebook: notebooks/01_markov.ipynb
        Args:
            melodies (sequence): corpus.Melody objects or (MIDI pitches, durations) pairs
            first (int): first scored position, >= 1
        Returns:
            lp (dict[str, np.ndarray]): ``pitch``, ``duration``, ``note`` (= pitch + duration)
        Raises:
            ValueError: first < 1, a note outside the chain's pitch range (named)
        """
        if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or first < 1:
            raise ValueError(f"first must be an integer >= 1, got {first!r}")
        lp_p, lp_d = [], []
        logP, logD = np.log2(self.pitch_chain.P), np.log2(self.duration_chain.P)
        for m in melodies:
            p, d = _pitches_durations(m)
            out = np.flatnonzero((p < self.low) | (p > self.high))
            if out.size:
                raise ValueError(f"note {out[0]} (MIDI {p[out[0]]}) lies outside the chain's "
                                 f"range {self.low}..{self.high}")
            if p.size <= first:
                continue
            s, c = p - self.low, duration_class(d)
            lp_p.append(logP[s[first - 1:-1], s[first:]])
            lp_d.append(logD[c[first - 1:-1], c[first:]])
        pitch = np.concatenate(lp_p) if lp_p else np.zeros(0)
        dur = np.concatenate(lp_d) if lp_d else np.zeros(0)
        return {"pitch": pitch, "duration": dur, "note": pitch + dur}

    def bits_per_note(self, melodies: Sequence, first: int = 1) -> dict[str, float]:
        """Held-out cross-entropy in bits per note for pitch, duration and the whole note
        (-mean log2 of :meth:`log2_probs`; the note's bits are the sum of the other two)."""
        return {k: cross_entropy_bits(v) for k, v in self.log2_probs(melodies, first).items()}


def compare_factorizations(train: Sequence, heldout: Sequence, smoothing: float = 0.5,
                           first: int = 1) -> dict[str, dict[str, float]]:
    """Held-out bits per note of the two first-order chains of notes (module docstring):
    ``factored`` (a pitch chain times a duration chain, :class:`NoteChain`) and ``joint`` (one
    chain on (pitch, note value) pairs), both add-``smoothing`` estimates on the same pitch range.

    Notebook: notebooks/01_markov.ipynb
    Args:
        train, heldout (sequence): melodies (corpus.Melody or (pitches, durations) pairs)
        smoothing (float): alpha for both chains
        first (int): first scored position of each held-out melody
    Returns:
        bits (dict): ``{"factored": {"pitch", "duration", "note", "entries"}, "joint": {"note",
            "entries"}}``; entries = number of transition-matrix entries estimated
    Raises:
        ValueError: a held-out note outside the training range (from :meth:`NoteChain.log2_probs`)
    """
    chain = NoteChain.fit(train, smoothing=smoothing)
    fac = chain.bits_per_note(heldout, first)
    n_p = chain.pitch_chain.n_states
    n_joint = n_p * N_DURATIONS

    def pair_states(melodies):
        out = []
        for m in melodies:
            p, d = _pitches_durations(m)
            out.append((p - chain.low) * N_DURATIONS + duration_class(d))
        return out

    joint = NGramModel(n_joint, 1, alpha=smoothing).fit(pair_states(train))
    return {"factored": {**fac, "entries": float(n_p**2 + N_DURATIONS**2)},
            "joint": {"note": joint.bits_per_note(pair_states(heldout), first=first),
                      "entries": float(n_joint**2)}}
