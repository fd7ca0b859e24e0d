import os
import shutil

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


#: Debian's Chromium, which the browser tests drive (``make test`` installs it; never downloaded).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session, shared by every test that drives a page:
    Playwright's sync API cannot be started a second time while the first instance runs."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()
