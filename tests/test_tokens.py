"""Audio tokens: vector quantisation of log-mel frames (k-means codebooks), encode/decode, the
decoder likelihood and the rate-distortion curve. Tiny configurations: every test runs in seconds."""

import numpy as np
import pytest

from m2d import spectro, tokens


def mixture(n, k=16, dim=8, seed=0, centres_seed=1):
    """n points from k well-separated Gaussian clusters in R^dim (the same centres for every seed)."""
    centres = np.random.default_rng(centres_seed).uniform(-1, 1, (k, dim))
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(k, size=n)] + 0.05 * rng.standard_normal((n, dim))).astype(np.float32)


@pytest.fixture(scope="module")
def melody_frames(bach_split):
    """Log-mel frames (model units) of three training melodies and of one held-out melody."""
    def frames(melodies):
        out = []
        for m in melodies:
            _, s_db = spectro.melody_log_mel(m.pitches[:24], m.durations[:24], tempo=180.0)
            out.append(spectro.db_to_unit(s_db).T)
        return np.concatenate(out).astype(np.float32)

    return frames(bach_split["train"][:3]), frames(bach_split["test"][:1])


# ----------------------------------------------------------------------------------------------
# frames, encode, decode


def test_patch_frames_order_and_errors():
    p = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # (n, n_mels, F)
    X = tokens.patch_frames(p)
    assert X.shape == (8, 3)
    np.testing.assert_array_equal(X[1], p[0, :, 1])
    np.testing.assert_array_equal(X[4], p[1, :, 0])
    assert tokens.patch_frames(p, 2).shape == (4, 3)
    with pytest.raises(ValueError, match="frames_per_patch"):
        tokens.patch_frames(p, 5)
    with pytest.raises(ValueError, match="n_mels"):
        tokens.patch_frames(p[0])


def test_encode_decode_round_trip():
    rng = np.random.default_rng(0)
    book = rng.standard_normal((5, 3)).astype(np.float32)
    codes = rng.integers(0, 5, size=20)
    X = tokens.decode(codes, book)
    np.testing.assert_array_equal(tokens.encode(X, book), codes)
    assert tokens.distortion(X, book) == pytest.approx(0.0, abs=1e-12)
    patches = tokens.decode_patches(codes.reshape(4, 5), book)  # (n, dim, F)
    assert patches.shape == (4, 3, 5)
    np.testing.assert_array_equal(tokens.encode_patches(patches, book), codes.reshape(4, 5))
    with pytest.raises(ValueError, match="0..4"):
        tokens.decode(np.array([5]), book)
    with pytest.raises(ValueError, match="dimension"):
        tokens.encode(np.zeros((2, 4)), book)
    with pytest.raises(ValueError, match="finite"):
        tokens.encode(np.full((2, 3), np.nan), book)


def test_encode_picks_the_nearest_codeword():
    X = mixture(500)
    book = mixture(7, seed=3)
    d = ((X[:, None, :] - book[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(tokens.encode(X, book), d.argmin(1))


# ----------------------------------------------------------------------------------------------
# k-means and nested codebooks


def test_kmeans_error_never_increases_and_is_seeded():
    X = mixture(2000)
    book, hist = tokens.kmeans(X, 16, n_iter=30, rng=0)
    assert book.shape == (16, 8)
    assert np.all(np.diff(hist) <= 1e-12)
    assert hist[-1] == pytest.approx(tokens.distortion(X, book), rel=1e-9)
    assert hist[-1] < 0.05**2 * 1.5  # the clusters are found: error near the noise variance
    again, _ = tokens.kmeans(X, 16, n_iter=30, rng=0)
    np.testing.assert_array_equal(book, again)


def test_kmeans_with_as_many_centres_as_points_is_exact():
    X = mixture(12)
    book, hist = tokens.kmeans(X, 12, n_iter=5, rng=0)
    assert hist[-1] == pytest.approx(0.0, abs=1e-12)


def test_kmeans_rejects_bad_input():
    X = mixture(10)
    with pytest.raises(ValueError, match="at least k"):
        tokens.kmeans(X, 11)
    with pytest.raises(ValueError, match="positive integer"):
        tokens.kmeans(X, 0)
    with pytest.raises(ValueError, match="n_iter"):
        tokens.kmeans(X, 2, n_iter=-1)
    with pytest.raises(ValueError, match="more than k"):
        tokens.kmeans(X, 2, init=X[:3])
    with pytest.raises(ValueError, match="increasing"):
        tokens.grow_codebooks(X, [4, 2])


def test_reconstruction_error_decreases_as_the_codebook_grows_on_mixture_data():
    sizes = [1, 2, 4, 8, 16]
    fit, held_out = mixture(3000, seed=0), mixture(1000, seed=9)
    books = tokens.grow_codebooks(fit, sizes, n_iter=20, rng=0)
    d_fit = [tokens.distortion(fit, books[k]) for k in sizes]
    d_out = [tokens.distortion(held_out, books[k]) for k in sizes]
    assert np.all(np.diff(d_fit) < 0)
    assert np.all(np.diff(d_out) < 0)
    for small, big in zip(sizes[:-1], sizes[1:], strict=True):  # nested: big starts from small
        start, hist = tokens.kmeans(fit, big, n_iter=0, init=books[small])
        np.testing.assert_array_equal(start[:small], books[small])
        assert hist[0] <= d_fit[sizes.index(small)] + 1e-12


def test_reconstruction_error_decreases_as_the_codebook_grows_on_spectrogram_frames(melody_frames):
    fit, held_out = melody_frames
    sizes = [2, 4, 8, 16, 32, 64]
    books = tokens.grow_codebooks(fit, sizes, n_iter=15, rng=0)
    d_fit = [tokens.distortion(fit, books[k]) for k in sizes]
    d_out = [tokens.distortion(held_out, books[k]) for k in sizes]
    assert np.all(np.diff(d_fit) < 0)   # guaranteed by nesting + Lloyd
    assert np.all(np.diff(d_out) < 0)   # on a melody the codebook never saw
    assert d_out[-1] < 0.35 * d_out[0]


def test_book_codebooks_are_cached(tmp_cache, melody_frames):
    fit, _ = melody_frames
    patches = fit[: 4 * 32].reshape(4, 32, -1).transpose(0, 2, 1)  # four fake 32-frame patches
    a = tokens.book_codebooks(sizes=(2, 4), n_fit=100, n_iter=5, patches=patches, patch_stride=32)
    files = list(tmp_cache.glob("codebooks-*.npz"))
    assert len(files) == 1
    b = tokens.book_codebooks(sizes=(2, 4), n_fit=100, n_iter=5, patches=patches, patch_stride=32)
    for k in (2, 4):
        np.testing.assert_array_equal(a[k], b[k])
    files[0].write_bytes(b"garbage")  # a corrupt cache file is rebuilt, never a crash
    with pytest.warns(UserWarning, match="rebuilding"):
        c = tokens.book_codebooks(sizes=(2, 4), n_fit=100, n_iter=5, patches=patches, patch_stride=32)
    np.testing.assert_array_equal(a[4], c[4])


# ----------------------------------------------------------------------------------------------
# likelihood of a patch under a token model


def test_decoder_bits_is_zero_for_exact_codewords_and_grows_with_error():
    grid = spectro.quantize(np.linspace(-1, 1, 9 * 4).reshape(9, 4).astype(np.float32))
    book = grid.T.copy()  # four codewords of dimension 9 that are exactly the frames of one patch
    patch = grid[None]
    exact = tokens.decoder_bits(patch, book, np.full(9, 1e-4))
    assert exact[0] == pytest.approx(0.0, abs=1e-6)
    blurred = tokens.decoder_bits(patch, book, np.full(9, 0.1))
    assert blurred[0] > 1.0
    with pytest.raises(ValueError, match="sigma"):
        tokens.decoder_bits(patch, book, np.ones(3))


def test_fit_decoder_std_is_the_residual_rms():
    X = mixture(1000)
    book, _ = tokens.kmeans(X, 16, rng=0)
    s = tokens.fit_decoder_std(X, book)
    assert s.shape == (8,)
    assert np.mean(s**2) == pytest.approx(tokens.distortion(X, book), rel=1e-6)


def test_rate_distortion_curve_is_the_distortion_of_each_codebook():
    X = mixture(400)
    books = tokens.grow_codebooks(X, [2, 4, 8], n_iter=5, rng=0)
    rd = tokens.rate_distortion(X, books, db_per_unit=10.0)
    np.testing.assert_array_equal(rd["K"], [2, 4, 8])
    np.testing.assert_allclose(rd["bits"], [1, 2, 3])
    np.testing.assert_allclose(rd["mse"], [tokens.distortion(X, books[k]) for k in (2, 4, 8)])
    np.testing.assert_allclose(rd["rms_db"], 10.0 * np.sqrt(rd["mse"]))
    assert np.all(np.diff(rd["mse"]) <= 1e-12)   # nested codebooks never get worse
    with pytest.raises(ValueError, match="empty"):
        tokens.rate_distortion(X, {})


def test_reconstruct_is_encode_then_decode_and_idempotent():
    rng = np.random.default_rng(0)
    book = rng.standard_normal((4, 3)).astype(np.float32)
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    r = tokens.reconstruct(x, book)
    assert r.shape == x.shape
    np.testing.assert_array_equal(r, tokens.decode_patches(tokens.encode_patches(x, book), book))
    np.testing.assert_array_equal(tokens.reconstruct(r, book), r)   # codewords map to themselves


def test_decoder_bits_lower_bound_brackets_the_exact_token_likelihood():
    """Brute force on a tiny case: with a uniform code model over all K^F code sequences the exact
    -log2 p(x) = -log2 sum_c K^-F p(x | c) lies between the lower bound and codes + decoder bits."""
    import itertools

    from m2d import diffusion

    rng = np.random.default_rng(3)
    K, dim, F = 3, 4, 3
    book = rng.uniform(-0.8, 0.8, (K, dim)).astype(np.float32)
    sigma = rng.uniform(0.05, 0.3, dim)
    x = spectro.quantize(rng.uniform(-1, 1, (2, dim, F)).astype(np.float32))
    lower = tokens.decoder_bits_lower_bound(x, book, sigma)
    upper = F * np.log2(K) + tokens.decoder_bits(x, book, sigma)
    for i in range(len(x)):
        terms = []
        for c in itertools.product(range(K), repeat=F):
            mean = book[list(c)].T.astype(np.float64)                  # (dim, F)
            ll = diffusion.discretized_gaussian_log_likelihood(x[i], mean, sigma[:, None])
            terms.append(ll.sum() - F * np.log(K))
        exact = -np.logaddexp.reduce(terms) / np.log(2.0)
        assert lower[i] <= exact + 1e-9 <= upper[i] + 2e-9
        # the bound is the best single code sequence's decoder bits, found by brute force
        best = min(-(t + F * np.log(K)) / np.log(2.0) for t in terms)
        assert lower[i] == pytest.approx(best, rel=1e-9)
    # never above the decoder bits of the nearest codewords; any chunk size gives the same
    assert np.all(lower <= tokens.decoder_bits(x, book, sigma) + 1e-9)
    np.testing.assert_allclose(tokens.decoder_bits_lower_bound(x, book, sigma, chunk=1), lower)


def test_decoder_bits_lower_bound_rejects_bad_input():
    book = np.zeros((2, 3), dtype=np.float32)
    x = np.zeros((1, 3, 4))
    with pytest.raises(ValueError, match="sigma"):
        tokens.decoder_bits_lower_bound(x, book, np.ones(2))
    with pytest.raises(ValueError, match="chunk"):
        tokens.decoder_bits_lower_bound(x, book, np.ones(3), chunk=0)
    with pytest.raises(ValueError, match="patches"):
        tokens.decoder_bits_lower_bound(x[0], book, np.ones(3))
    with pytest.raises(ValueError, match="dimension"):
        tokens.decoder_bits_lower_bound(np.zeros((1, 5, 4)), book, np.ones(5))
