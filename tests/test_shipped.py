"""Shipped weights (m2d.models.shipped, issue 13): every weights file has a manifest that matches it,
the manifest describes the book's current configuration, the first training steps retrained from
scratch give the manifest's first losses (the weights come from this code), and a changed
configuration or a damaged file falls back to training instead of serving stale weights."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from m2d import cache, spectro
from m2d.models import ddpm, shipped
from m2d.models.unet import UNet, UNetConfig

NAMES = shipped.shipped_names()


def test_weights_are_shipped_within_the_size_budget():
    assert ddpm.BOOK_WEIGHTS in NAMES
    total = sum((shipped.WEIGHTS_DIR / f"{n}.pt").stat().st_size for n in NAMES)
    assert 0 < total <= shipped.MAX_TOTAL_BYTES


@pytest.mark.parametrize("name", NAMES)
def test_every_weights_file_has_a_manifest_that_matches_it(name):
    m = shipped.read_manifest(name)
    assert m is not None, f"{name}.pt has no manifest"
    for field in ("config", "config_hash", "commit", "command", "wall_seconds", "machine", "device",
                  "first_losses", "final_loss", "sha256", "steps", "curve"):
        assert field in m, f"{name}.json lacks {field!r}"
    wpath, _ = shipped.paths(name)
    assert cache.sha256_of(wpath) == m["sha256"]
    assert m["command"].startswith("make train")
    assert len(m["first_losses"]) == shipped.N_FIRST_LOSSES
    assert np.isfinite(m["first_losses"]).all() and m["final_loss"] < m["first_losses"][0]


def test_the_book_model_is_the_shipped_one():
    """The manifest hashes the book's current configuration and data: the build loads the file
    (a config edit without `make train` would fall back to training here, and this test says so)."""
    key = ddpm.book_key(ddpm.BOOK_CONFIG, spectro.PatchConfig())
    assert shipped.why_not(ddpm.BOOK_WEIGHTS, key) is None
    m = shipped.read_manifest(ddpm.BOOK_WEIGHTS)
    assert m["config"]["steps"] == ddpm.BOOK_CONFIG.steps == m["steps"]


def test_first_losses_reproduce_from_scratch():
    """Train the book model's first steps from scratch (same seed, same data) and compare with the
    losses the manifest recorded when the shipped weights were trained."""
    m = shipped.read_manifest(ddpm.BOOK_WEIGHTS)
    k = len(m["first_losses"])
    train = spectro.load_patches("train", spectro.PatchConfig())
    config = ddpm.BOOK_CONFIG
    short = replace(config, steps=k)
    # the learning rate of the first steps depends only on warmup (not on the total steps)
    assert all(ddpm._lr_at(s, short) == ddpm._lr_at(s, config) for s in range(k))
    torch.manual_seed(config.seed)
    model = UNet(config.unet)
    extra = ddpm.train_eps_model(model, train, short, progress=False)
    np.testing.assert_allclose(extra["loss"], m["first_losses"], rtol=1e-4)


def _tiny(tmp_path):
    cfg = ddpm.DDPMConfig(T=20, steps=3, batch=4, warmup=1, unet=UNetConfig(base=4, mults=(1,)))
    torch.manual_seed(0)
    model = UNet(cfg.unet)
    extra = {"loss": [1.0, 0.9, 0.8], "seconds": 0.1}
    key = {"config": cfg.as_dict(), "data": "toy"}
    shipped.save("toy", model, extra, key, cfg.as_dict(), "make train MODEL=toy", directory=tmp_path)
    return cfg, model, key


def test_a_saved_model_loads_back_identically(tmp_path):
    cfg, model, key = _tiny(tmp_path)
    got = shipped.load("toy", key, lambda: UNet(cfg.unet), tmp_path)
    assert got is not None
    loaded, extra, manifest = got
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert extra["loss"] == [1.0, 0.9, 0.8] and manifest["first_losses"] == [1.0, 0.9, 0.8]


def test_a_changed_config_falls_back_to_training(tmp_path):
    cfg, _, key = _tiny(tmp_path)
    other = {**key, "config": {**key["config"], "lr": 1e-3}}
    assert "configuration changed" in shipped.why_not("toy", other, tmp_path)
    assert shipped.load("toy", other, lambda: UNet(cfg.unet), tmp_path) is None


def test_a_damaged_or_foreign_file_is_never_served(tmp_path):
    cfg, _, key = _tiny(tmp_path)
    wpath, mpath = shipped.paths("toy", tmp_path)
    good = wpath.read_bytes()
    wpath.write_bytes(good[:-10])  # truncated
    assert "sha256" in shipped.why_not("toy", key, tmp_path)
    assert shipped.load("toy", key, lambda: UNet(cfg.unet), tmp_path) is None
    # a file that matches its (edited) manifest but not the model: refused when loading
    other = UNet(UNetConfig(base=8, mults=(1,)))
    torch.save({"state_dict": other.state_dict(), "extra": {}}, wpath)
    m = json.loads(mpath.read_text())
    m["sha256"] = cache.sha256_of(wpath)
    mpath.write_text(json.dumps(m))
    assert shipped.why_not("toy", key, tmp_path) is None
    assert shipped.load("toy", key, lambda: UNet(cfg.unet), tmp_path) is None
    # no manifest at all
    mpath.unlink()
    assert shipped.why_not("toy", key, tmp_path) == "no manifest"


def test_non_finite_weights_are_refused(tmp_path):
    cfg, model, key = _tiny(tmp_path)
    wpath, mpath = shipped.paths("toy", tmp_path)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    first = next(k for k, v in state.items() if v.is_floating_point())
    state[first].view(-1)[0] = float("nan")
    torch.save({"state_dict": state, "extra": {}}, wpath)
    m = json.loads(mpath.read_text())
    m["sha256"] = cache.sha256_of(wpath)
    mpath.write_text(json.dumps(m))
    assert shipped.load("toy", key, lambda: UNet(cfg.unet), tmp_path) is None


def test_bad_names_and_records_are_refused(tmp_path):
    with pytest.raises(ValueError, match="name"):
        shipped.paths("../escape")
    with pytest.raises(ValueError, match="loss"):
        shipped.save("x", UNet(UNetConfig(base=4, mults=(1,))), {}, {}, {}, "make train",
                     directory=tmp_path)


def test_book_model_uses_shipped_weights_when_they_fit(tmp_path, monkeypatch):
    """book_model serves the shipped file for the book's key (other keys: see the fallback tests)."""
    src = shipped.WEIGHTS_DIR
    for n in (ddpm.BOOK_WEIGHTS,):
        for suffix in (".pt", ".json"):
            shutil.copy(src / f"{n}{suffix}", tmp_path / f"{n}{suffix}")
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path)
    model, extra, key = ddpm.book_model()
    assert extra["source"] == "shipped"
    assert key == ddpm.book_key(ddpm.BOOK_CONFIG, spectro.PatchConfig())
