"""Z12 as a group (Definition 21.14, Theorem 21.7): circulant chains, their Fourier eigenvectors and
eigenvalues, the uniform stationary distribution, the two-sided mixing bound, and the corpus fit."""

import numpy as np
import pytest

from m2d import example_chains, markov, ngram
from m2d import transposition as tr


def random_f(rng, n=12, zeros=0):
    f = rng.dirichlet(np.ones(n))
    if zeros:
        f[rng.choice(n, zeros, replace=False)] = 0.0
        f /= f.sum()
    return f


@pytest.mark.parametrize("seed", range(8))
def test_fourier_vectors_are_eigenvectors_with_the_dft_of_f(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 16))
    f = random_f(rng, n)
    P = tr.circulant(f)
    lam = tr.circulant_eigenvalues(f)
    w = np.exp(2j * np.pi / n)
    for k in range(n):
        v = tr.fourier_vector(k, n)
        assert np.allclose(P @ v, lam[k] * v, atol=1e-12)  # P v_k = lambda_k v_k
        assert abs(lam[k] - sum(f[d] * w ** (d * k) for d in range(n))) < 1e-12
    # numpy's sign convention: lambda = n ifft(f) = conj(fft(f))
    assert np.allclose(lam, np.conj(np.fft.fft(f)), atol=1e-14)
    assert abs(lam[0] - 1) < 1e-14 and np.all(np.abs(lam) <= 1 + 1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_eigenvalues_agree_with_numpy_eigvals(seed):
    rng = np.random.default_rng(100 + seed)
    f = random_f(rng, 12, zeros=int(rng.integers(0, 8)))
    fft = tr.circulant_eigenvalues(f)
    dense = np.linalg.eigvals(tr.circulant(f))
    # the same multiset: every eigenvalue of each list is within 1e-10 of one of the other
    assert np.abs(fft[:, None] - dense[None, :]).min(axis=1).max() < 1e-10
    assert np.abs(dense[:, None] - fft[None, :]).min(axis=1).max() < 1e-10
    assert abs(np.prod(fft) - np.linalg.det(tr.circulant(f))) < 1e-10


@pytest.mark.parametrize("seed", range(6))
def test_circulant_is_transposition_invariant_and_pi_is_uniform(seed):
    rng = np.random.default_rng(200 + seed)
    f = random_f(rng, 12)
    P = tr.circulant(f)
    markov.check_stochastic(P)
    assert np.allclose(P.sum(axis=0), 1)  # doubly stochastic
    s = int(rng.integers(1, 12))
    assert np.allclose(np.roll(np.roll(P, s, axis=0), s, axis=1), P)  # P[i+s, j+s] = P[i, j]
    assert np.allclose(P[0], f)
    assert np.allclose(markov.stationary_distribution(P), np.full(12, 1 / 12), atol=1e-12)
    assert np.allclose(tr.transposition_average(P), f)


def test_the_stepwise_walk_has_the_cosine_spectrum():
    stay = 0.5
    f = example_chains.stepwise_matrix(stay)[0]
    k = np.arange(12)
    lam = tr.circulant_eigenvalues(f)
    assert np.allclose(lam, stay + (1 - stay) * np.cos(2 * np.pi * k / 12), atol=1e-14)
    gap = (1 - stay) * (1 - np.cos(2 * np.pi / 12))
    assert abs(tr.spectral_gap(f) - gap) < 1e-14


def test_fifths_have_no_gap_and_a_period():
    f = np.zeros(12)
    f[7] = 1.0
    assert np.allclose(np.abs(tr.circulant_eigenvalues(f)), 1)
    assert abs(tr.spectral_gap(f)) < 1e-14
    assert markov.period(tr.circulant(f)) == 12


@pytest.mark.parametrize("seed", range(6))
def test_mixing_bounds_sandwich_the_distance_to_stationarity(seed):
    rng = np.random.default_rng(300 + seed)
    f = random_f(rng, 12, zeros=int(rng.integers(0, 6)))
    P = tr.circulant(f)
    lo, up = tr.mixing_bounds(f, 40)
    lam_star = tr.second_modulus(f)
    d = np.array([0.5 * np.abs(markov.n_step(P, t)[0] - 1 / 12).sum() for t in range(41)])
    assert np.all(lo <= d + 1e-12) and np.all(d <= up + 1e-12)
    assert np.all(up <= 0.5 * np.sqrt(11) * lam_star ** np.arange(41) + 1e-12)
    # every start is as far from pi as start 0 (transposition invariance)
    for t in (1, 3, 7):
        rows = 0.5 * np.abs(markov.n_step(P, t) - 1 / 12).sum(axis=1)
        assert np.allclose(rows, rows[0], atol=1e-12)


def test_interval_distribution_counts_moves_mod_12():
    seqs = [np.array([0, 2, 4, 5, 7]), np.array([11, 0, 11])]
    f = tr.interval_distribution(seqs)
    expected = np.zeros(12)
    for d in (2, 2, 1, 2, 1, 11):
        expected[d] += 1 / 6
    assert np.allclose(f, expected)
    assert np.allclose(tr.interval_distribution([np.array([3, 3])], smoothing=1.0),
                       np.r_[2, np.ones(11)] / 13)
    # transposing every melody leaves f unchanged
    shifted = [(s + 5) % 12 for s in seqs]
    assert np.allclose(tr.interval_distribution(shifted), f)


def test_interval_distribution_is_the_weighted_average_of_rotated_rows():
    rng = np.random.default_rng(5)
    seqs = [rng.integers(0, 12, size=int(rng.integers(2, 40))) for _ in range(30)]
    P = ngram.fit_transition_matrix(seqs)
    left = np.zeros(12)
    for s in seqs:
        np.add.at(left, s[:-1], 1)
    rows = np.arange(12)[:, None]
    rotated = P[rows, (rows + np.arange(12)) % 12]
    assert np.allclose(tr.interval_distribution(seqs), left @ rotated / left.sum())


def test_transposition_average_is_the_frobenius_projection():
    rng = np.random.default_rng(8)
    P = rng.dirichlet(np.ones(12), size=12)
    C = tr.circulant(tr.transposition_average(P))
    for _ in range(5):  # P - C is orthogonal to every circulant matrix
        Q = tr.circulant(random_f(rng))
        assert abs(np.sum((P - C) * Q)) < 1e-12


def test_compare_with_full_chain_on_a_toy_corpus():
    rng = np.random.default_rng(9)
    P = rng.dirichlet(np.ones(12) * 0.3, size=12)
    train = [markov.sample_melody(P, 200, start=s % 12, rng=s) for s in range(20)]
    test = [markov.sample_melody(P, 200, start=int(s), rng=100 + s) for s in range(5)]
    out = tr.compare_with_full_chain(train, test, smoothing=0.5)
    assert out["free_full"] == 132 and out["free_circ"] == 11
    assert 0 < out["mean_row_tv"] <= 1 and 0 <= out["pi_tv"] <= 1
    assert out["bits_full"] < out["bits_circ"]  # the data are not transposition-invariant
    assert np.allclose(out["P_circ"], tr.circulant(out["f"]))
    # a transposition-invariant corpus: the full chain's rotated rows are near f
    Pc = tr.circulant(random_f(rng))
    inv = [markov.sample_melody(Pc, 500, start=int(s % 12), rng=s) for s in range(40)]
    out2 = tr.compare_with_full_chain(inv, inv[:5], smoothing=0.5)
    assert out2["mean_row_tv"] < 0.1 and out2["pi_tv"] < 0.1


@pytest.mark.parametrize("call, exc, words", [
    (lambda: tr.circulant([0.5, 0.6]), ValueError, "f must sum to 1"),
    (lambda: tr.circulant([1.2, -0.2]), ValueError, "f must be non-negative; entry 1"),
    (lambda: tr.circulant([[0.5, 0.5]]), ValueError, "f must have 1 dimension"),
    (lambda: tr.circulant([]), ValueError, "f must have at least one entry"),
    (lambda: tr.circulant(["a", "b"]), TypeError, "f must be numeric"),
    (lambda: tr.circulant_eigenvalues([np.nan, 1.0]), ValueError, "f must be finite"),
    (lambda: tr.circulant_eigenvalues([0.5 + 0j, 0.5]), TypeError, "f must be real"),
    (lambda: tr.fourier_vector(12, 12), ValueError, "k must be <= 11"),
    (lambda: tr.fourier_vector(1.0), TypeError, "k must be an integer"),
    (lambda: tr.interval_distribution([[0, 12]]), ValueError, "sequence 0"),
    (lambda: tr.interval_distribution([[0, 1]], smoothing=-1), ValueError, "smoothing must be >= 0"),
    (lambda: tr.interval_distribution([[0]]), ValueError, "no move"),
    (lambda: tr.interval_distribution([[0, 1]], n=0), ValueError, "n must be >= 1"),
    (lambda: tr.mixing_bounds(np.ones(12) / 12, -1), ValueError, "t_max must be >= 0"),
    (lambda: tr.transposition_average([[0.5, 0.6], [0.5, 0.5]]), ValueError, "row"),
    (lambda: tr.compare_with_full_chain([[0, 1, 2]], [[0, 1]], smoothing=0), ValueError,
     "smoothing must be > 0"),
])
def test_bad_inputs_are_refused_by_name(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
