"""The book's example chains: the page's toy chain on {C, E, G}, Example 21.1's pentatonic chain,
an Illiac-style 12x12 matrix, and the counterexamples of Theorem 21.2 (a slow stepwise walk, a
periodic circle of fifths, a reducible chain), with the worked computations of Example 21.1; and the
numbers of the other worked examples that chapter 4 shows again: Part II's C-E-G attention (a
content-dependent stochastic matrix, Theorem 21.3) and Example 21.2's pixel under the forward
chain of Part III (Definition 21.8), so that every chapter shows them with the same numbers.

The theory they illustrate is in :mod:`m2d.markov`.

Notebook: notebooks/01_markov.ipynb, notebooks/04_examples.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from m2d import checks, markov, stochastic
from m2d.diffusion.forward import q_sample
from m2d.rng import as_generator

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
    return stochastic.normalize_rows(w[ic] * s[None, :])


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


def monte_carlo_sequence_probability(P, states, n_chains: int = 200_000,
                                     rng: np.random.Generator | int | None = None) -> float:
    """Monte Carlo estimate of Pr(X_1 = s_1, ..., X_T = s_T | X_0 = s_0): the fraction of
    ``n_chains`` simulated runs from s_0 that follow ``states`` exactly (the frequency that
    converges to :func:`m2d.markov.sequence_probability`, Definition 21.1).

    Notebook: notebooks/04_examples.ipynb
    Args:
        P (np.ndarray): stochastic matrix
        states (sequence of int): s_0, ..., s_T (at least one state)
        n_chains (int): number of simulated runs
        rng (np.random.Generator or int): randomness
    Returns:
        freq (float): fraction in [0, 1]
    Raises:
        ValueError: P not stochastic, no states, or a state out of range
    """
    s = np.asarray(states, dtype=np.int64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"states must be a non-empty sequence, got {states!r}")
    chain = markov.MarkovChain(P)
    runs = chain.sample_chains(s.size, np.full(int(n_chains), s[0], dtype=np.int64), rng)
    return float(np.all(runs == s, axis=1).mean())


def two_step_terms(P, i: int, j: int) -> np.ndarray:
    """The terms P[i, k] P[k, j] of the Chapman-Kolmogorov sum (P^2)[i, j] = sum_k P[i, k] P[k, j]
    (Theorem 21.1 with n = 2), one per intermediate state k.

    Notebook: notebooks/04_examples.ipynb
    """
    A = stochastic.check_stochastic(P)
    return A[i, :] * A[:, j]


def embed_matrix(P_small, states: Sequence[int], n: int = 12) -> np.ndarray:
    """Embed a chain on a subset of states into n states: rows outside ``states`` jump uniformly
    into the subset (transient), so the long-run behaviour is that of the small chain."""
    A = stochastic.check_stochastic(P_small)
    idx = np.asarray(states)
    if A.shape[0] != idx.size:
        raise ValueError(f"{A.shape[0]} x {A.shape[0]} matrix but {idx.size} states")
    P = np.zeros((n, n))
    P[:, idx] = 1.0 / idx.size
    P[np.ix_(idx, idx)] = A
    return P


#: Part II's worked attention example (section 2.1): three one-hot tokens C, E, G (X = I_3, so
#: Q = W_q, K = W_k, V = W_v) with d_k = 2. The page's projected Q and K were lost; these are the
#: book's. softmax(Q K^T / sqrt 2) is a stochastic matrix (Theorem 21.3); chapter 4's attention
#: widget starts from the same numbers.
CEG_ATTENTION_LABELS = ("C", "E", "G")
CEG_ATTENTION_WQ = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
CEG_ATTENTION_WK = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
CEG_ATTENTION_WV = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])

#: Example 21.2 (Part III): the steps shown, the Monte Carlo draws per step and their seed.
PIXEL_TIMES = (1, 500, 1000)
PIXEL_DRAWS = 100_000
PIXEL_SEED = 3


def loudest_pixel(patch) -> tuple[float, int, int]:
    """Example 21.2's x_0: the loudest pixel of a spectrogram patch (the first held-out patch of
    Part III, in the model's units [-1, 1]) and where it sits.

    Notebook: notebooks/04_examples.ipynb (chapter 3's Example 21.2 computes the same)
    Args:
        patch (np.ndarray): one patch, shape (mel bands, frames)
    Returns:
        x0 (float), band (int), frame (int): the value and its mel band and frame
    Raises:
        ValueError: not a non-empty 2-D array of finite numbers
    """
    a = checks.real_array("patch", patch, ndim=2)
    if a.size == 0:
        raise ValueError(f"patch must not be empty, got shape {a.shape}")
    band, frame = np.unravel_index(int(np.argmax(a)), a.shape)
    return float(a[band, frame]), int(band), int(frame)


def forward_pixel_rows(x0: float, alpha_bar, times=PIXEL_TIMES, draws: int = PIXEL_DRAWS,
                       rng: np.random.Generator | int | None = PIXEL_SEED) -> list[dict[str, float]]:
    """Example 21.2's table: one pixel x_0 under the forward chain, x_t ~ N(sqrt(alpha_bar_t) x_0,
    1 - alpha_bar_t) (Theorem 21.4), against the mean and standard deviation of ``draws`` closed-form
    samples at each step (one fresh block of normals per step, in the order of ``times``).

    Notebook: notebooks/04_examples.ipynb (chapter 3's Example 21.2 computes the same)
    Args:
        x0 (float): the pixel value
        alpha_bar (np.ndarray or NoiseSchedule): alpha_bar_0..alpha_bar_T
        times (sequence of int): steps t in 0..T
        draws (int): samples per step, >= 2
        rng (np.random.Generator or int): randomness (the default seed is the book's)
    Returns:
        rows (list of dict): per step ``t``, ``alpha_bar``, ``signal`` (sqrt(alpha_bar_t)),
        ``mean`` (sqrt(alpha_bar_t) x0), ``sd`` (sqrt(1 - alpha_bar_t)), ``sample_mean``,
        ``sample_sd``
    Raises:
        ValueError, TypeError: a non-finite x0, too few draws, or a step outside 0..T
    """
    x0 = checks.real("x0", x0)
    draws = checks.integer("draws", draws, low=2)
    ab = np.asarray(getattr(alpha_bar, "alpha_bar", alpha_bar), dtype=float)
    gen = as_generator(rng)
    rows = []
    for t in times:
        t = checks.integer("t", t, low=0, high=ab.size - 1)
        x = q_sample(np.full(draws, x0), t, ab, gen.standard_normal(draws))
        rows.append({"t": t, "alpha_bar": float(ab[t]), "signal": float(np.sqrt(ab[t])),
                     "mean": float(np.sqrt(ab[t]) * x0), "sd": float(np.sqrt(1 - ab[t])),
                     "sample_mean": float(x.mean()), "sample_sd": float(x.std())})
    return rows
