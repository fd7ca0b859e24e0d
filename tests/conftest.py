import matplotlib
import pytest

matplotlib.use("Agg")  # this process only; notebook kernels keep their inline backend


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private, empty cache directory (the real cache is left alone)."""
    monkeypatch.setenv("M2D_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def bach_split():
    from m2d import corpus

    return corpus.load_split("bach")
