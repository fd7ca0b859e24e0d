"""Z12 as a group: transposition-invariant Markov chains (Definition 21.14, Theorem 21.7).

A chain on the pitch classes Z_n (n = 12) is *transposition-invariant* when moving every note by the
same interval s does not change any transition probability, P[i + s, j + s] = P[i, j] (indices mod
n). Then P[i, j] = f((j - i) mod n) for one probability vector f on Z_n, the *interval
distribution*: P is a circulant matrix. Its eigenvectors are the Fourier vectors
v_k = (w^(jk))_j, w = exp(2 pi i / n), with eigenvalues lambda_k = sum_d f(d) w^(dk) -- the
discrete Fourier transform of f, in numpy's convention ``n * np.fft.ifft(f)`` (equivalently the
complex conjugate of ``np.fft.fft(f)``). The uniform distribution is stationary, and the largest
modulus lambda_* of the other eigenvalues sets the mixing rate exactly:
lambda_*^t / 2 <= d(t) <= sqrt(n - 1) lambda_*^t / 2.

The general theory (stationarity, mixing, sampling) is in :mod:`m2d.markov`; chains fitted to
corpora without the symmetry are in :mod:`m2d.ngram`.

Notebook: notebooks/01_markov.ipynb
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from m2d import checks, markov, ngram

#: How far from 1 the entries of an interval distribution may sum (rounding of the caller's data).
SUM_TOL = 1e-8


def check_interval_distribution(f, name: str = "f") -> np.ndarray:
    """An interval distribution on Z_n: a 1-D probability vector (entries >= 0, sum 1), index d
    the interval d semitones up (mod n).

    Args:
        f (array-like): the candidate, shape (n,), n >= 1
        name (str): the argument's name in error messages
    Returns:
        f (np.ndarray): float64 copy, shape (n,)
    Raises:
        TypeError: not a real numeric array
        ValueError: not 1-D or empty, a negative or non-finite entry, or a sum other than 1
    """
    a = checks.real_array(name, f, ndim=1)
    if a.size == 0:
        raise ValueError(f"{name} must have at least one entry, got an empty array")
    neg = np.flatnonzero(a < 0)
    if neg.size:
        raise ValueError(f"{name} must be non-negative; entry {int(neg[0])} is {a[neg[0]]:g}")
    total = float(a.sum())
    if abs(total - 1.0) > SUM_TOL:
        raise ValueError(f"{name} must sum to 1 (a probability vector), got sum {total:.6g}")
    return a


def interval_distribution(sequences: Iterable, n: int = 12, smoothing: float = 0.0) -> np.ndarray:
    """Interval distribution f of a corpus: the share of moves x_t -> x_{t+1} by d = (x_{t+1} - x_t)
    mod n, with add-alpha smoothing, f(d) = (N_d + alpha) / (N + n alpha) -- the maximum-likelihood
    estimate of the transposition-invariant chain P[i, j] = f(j - i) (Definition 21.14).

    It equals the average of the rows of the fitted full chain (:func:`m2d.ngram.fit_transition_matrix`,
    alpha = 0), each rotated to start at its own note, weighted by how often each note is left.

    Notebook: notebooks/01_markov.ipynb
    Args:
        sequences (iterable): arrays of states in 0..n-1, or Melody objects (their pitch classes)
        n (int): size of the cyclic group Z_n (12 pitch classes)
        smoothing (float): pseudo-count alpha >= 0 added to every interval
    Returns:
        f (np.ndarray): probability vector, shape (n,); f[d] for the interval of d steps up mod n
    Raises:
        ValueError: n < 1, negative smoothing, a state out of range, or (alpha = 0) no move at all
        TypeError: a state that is not a whole number
    """
    n = checks.integer("n", n, low=1)
    smoothing = checks.real("smoothing", smoothing, low=0)
    counts = np.zeros(n)
    for seq in ngram.as_state_sequences(sequences, n):
        np.add.at(counts, (seq[1:] - seq[:-1]) % n, 1.0)
    total = counts.sum() + n * smoothing
    if total == 0:
        raise ValueError("sequences contain no move x_t -> x_{t+1} to count (and smoothing = 0)")
    return (counts + smoothing) / total


def circulant(f) -> np.ndarray:
    """The transposition-invariant chain of an interval distribution: P[i, j] = f((j - i) mod n)
    (Definition 21.14), a circulant matrix -- row i is row 0 rotated i steps to the right.

    Notebook: notebooks/01_markov.ipynb
    Args:
        f (array-like): interval distribution, shape (n,)
    Returns:
        P (np.ndarray): row-stochastic (and column-stochastic) matrix, shape (n, n)
    Raises:
        ValueError, TypeError: f is not a probability vector (see :func:`check_interval_distribution`)
    """
    f = check_interval_distribution(f)
    n = f.size
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return f[(j - i) % n]


def circulant_eigenvalues(f) -> np.ndarray:
    """Eigenvalues of circulant(f) by the fast Fourier transform (Theorem 21.7, part 1):
    lambda_k = sum_d f(d) w^(dk), w = exp(2 pi i / n), k = 0..n-1, the eigenvalue of the Fourier
    vector v_k = (w^(jk))_j (:func:`fourier_vector`). With numpy's sign convention
    (``fft`` uses exp(-2 pi i dk / n)) this is ``n * ifft(f)``, the conjugate of ``fft(f)``.

    Notebook: notebooks/01_markov.ipynb
    Args:
        f (array-like): interval distribution, shape (n,)
    Returns:
        lam (np.ndarray): complex, shape (n,); lam[0] = 1 and |lam[k]| <= 1
    Raises:
        ValueError, TypeError: f is not a probability vector
    """
    f = check_interval_distribution(f)
    return f.size * np.fft.ifft(f)


def fourier_vector(k: int, n: int = 12) -> np.ndarray:
    """The k-th Fourier vector v_k = (w^(jk))_{j=0..n-1}, w = exp(2 pi i / n): a right eigenvector
    of every circulant matrix of size n (Theorem 21.7, part 1).

    Notebook: notebooks/01_markov.ipynb
    Args:
        k (int): frequency 0..n-1
        n (int): size, >= 1
    Returns:
        v (np.ndarray): complex, shape (n,), every entry of modulus 1
    Raises:
        ValueError, TypeError: k or n not an integer in range
    """
    n = checks.integer("n", n, low=1)
    k = checks.integer("k", k, low=0, high=n - 1)
    return np.exp(2j * np.pi * np.arange(n) * k / n)


def second_modulus(f) -> float:
    """lambda_* = max_{k != 0} |lambda_k|, the largest modulus of the eigenvalues of circulant(f)
    other than lambda_0 = 1 (Theorem 21.7); the spectral gap is 1 - lambda_*. For n = 1 it is 0.

    Notebook: notebooks/01_markov.ipynb
    Raises:
        ValueError, TypeError: f is not a probability vector
    """
    lam = circulant_eigenvalues(f)
    return float(np.abs(lam[1:]).max()) if lam.size > 1 else 0.0


def spectral_gap(f) -> float:
    """Spectral gap 1 - lambda_* of circulant(f) (Theorem 21.7): positive exactly when the chain
    is irreducible and aperiodic, and then d(t) falls by the factor lambda_* per note.

    Notebook: notebooks/01_markov.ipynb
    Raises:
        ValueError, TypeError: f is not a probability vector
    """
    return 1.0 - second_modulus(f)


def mixing_bounds(f, t_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Theorem 21.7, part 3: for t = 0..t_max, bounds on the distance to stationarity of
    circulant(f) (the same from every start),

        lambda_*^t / 2  <=  d(t)  <=  (1/2) sqrt(sum_{k != 0} |lambda_k|^(2t))  <=  sqrt(n-1) lambda_*^t / 2.

    The middle (Parseval) term is returned as the upper bound.

    Notebook: notebooks/01_markov.ipynb
    Args:
        f (array-like): interval distribution, shape (n,)
        t_max (int): last time, >= 0
    Returns:
        lower, upper (np.ndarray): shape (t_max + 1,) each
    Raises:
        ValueError, TypeError: f not a probability vector, t_max not a non-negative integer
    """
    t_max = checks.integer("t_max", t_max, low=0)
    mod = np.abs(circulant_eigenvalues(f))[1:]
    t = np.arange(t_max + 1)[:, None]
    if mod.size == 0:  # Z_1: one state, d(t) = 0
        return np.zeros(t_max + 1), np.zeros(t_max + 1)
    powers = mod[None, :] ** (2 * t)
    upper = 0.5 * np.sqrt(powers.sum(axis=1))
    lower = 0.5 * mod.max() ** t[:, 0]
    return lower, np.minimum(upper, 1.0)


def transposition_average(P) -> np.ndarray:
    """The interval distribution nearest a chain: f_bar(d) = (1/n) sum_i P[i, (i + d) mod n], the
    average of the rows of P, each rotated to start at its own note. circulant(f_bar) is the
    orthogonal (Frobenius) projection of P onto the circulant matrices, and P is
    transposition-invariant exactly when P = circulant(f_bar).

    Notebook: notebooks/01_markov.ipynb
    Args:
        P (array-like): row-stochastic matrix, shape (n, n)
    Returns:
        f_bar (np.ndarray): interval distribution, shape (n,)
    Raises:
        ValueError: P not square or not row-stochastic
    """
    P = markov.check_stochastic(P)
    n = P.shape[0]
    rows = np.arange(n)[:, None]
    return P[rows, (rows + np.arange(n)[None, :]) % n].mean(axis=0)


def _bits(P: np.ndarray, seqs: list[np.ndarray]) -> float:
    lp = np.concatenate([np.log2(P[s[:-1], s[1:]]) for s in seqs]) if seqs else np.array([])
    return ngram.cross_entropy_bits(lp, "no melody has two notes")


def compare_with_full_chain(train: Iterable, test: Iterable, n: int = 12,
                            smoothing: float = 0.5) -> dict[str, object]:
    """How far is a corpus from transposition invariance? Fit both first-order chains to the
    training melodies with the same smoothing -- the full chain (:func:`m2d.ngram.fit_transition_matrix`,
    n(n-1) free parameters) and the transposition-invariant one (:func:`interval_distribution`, n - 1)
    -- and compare them: the rows of the full chain, rotated to start at their own note, against
    the interval distribution (total variation, each row weighted by the full chain's pi); the
    stationary distributions (the full chain's tonal fingerprint against the uniform pi of
    Theorem 21.7); the eigenvalue moduli lambda_*; and the held-out bits per note.

    Notebook: notebooks/01_markov.ipynb
    Args:
        train, test (iterable): melodies (Melody objects or arrays of pitch classes)
        n (int): number of pitch classes
        smoothing (float): add-alpha pseudo-count > 0, the same for both chains
    Returns:
        dict: ``f`` (interval distribution), ``P_full``, ``P_circ``, ``row_tv`` (shape (n,): TV of
        each rotated row of P_full to f), ``mean_row_tv`` (pi-weighted), ``pi_full``,
        ``pi_tv`` (TV of pi_full to uniform), ``lam_full`` and ``lam_circ`` (lambda_* of each),
        ``bits_full`` and ``bits_circ`` (held-out bits per note), ``free_full``, ``free_circ``
    Raises:
        ValueError: bad melodies or smoothing, or a test set without a single move
    """
    smoothing = checks.real("smoothing", smoothing, low=0, low_open=True)  # no log2(0)
    train = ngram.as_state_sequences(list(train), n)
    test = [s for s in ngram.as_state_sequences(list(test), n) if len(s) >= 2]
    f = interval_distribution(train, n, smoothing)
    P_full = ngram.fit_transition_matrix(train, n_states=n, smoothing=smoothing)
    P_circ = circulant(f)
    rows = np.arange(n)[:, None]
    rotated = P_full[rows, (rows + np.arange(n)[None, :]) % n]
    row_tv = 0.5 * np.abs(rotated - f[None, :]).sum(axis=1)
    pi_full = markov.stationary_distribution(P_full)
    lam_full = np.sort(np.abs(np.linalg.eigvals(P_full)))[-2] if n > 1 else 0.0
    return {"f": f, "P_full": P_full, "P_circ": P_circ, "row_tv": row_tv,
            "mean_row_tv": float(pi_full @ row_tv), "pi_full": pi_full,
            "pi_tv": float(0.5 * np.abs(pi_full - 1.0 / n).sum()),
            "lam_full": float(lam_full), "lam_circ": second_modulus(f),
            "bits_full": _bits(P_full, test), "bits_circ": _bits(P_circ, test),
            "free_full": n * (n - 1), "free_circ": n - 1}
