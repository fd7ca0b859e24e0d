"""The model scripts of the live widgets are written at the end of the HTML build from the cached
ONNX exports (m2d.live.write_model_scripts): what the pages name is what the folder holds."""

import pytest

from m2d import cache, live
from m2d.models import export

KEY, OLD = "0123456789abcdef", "fedcba9876543210"


def _page(root, *names):
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    cfg = ", ".join(f'{{"model": "models/{n}.js"}}' for n in names)
    (root / "notebooks" / "ch.html").write_text(f"<script type='application/json'>[{cfg}]</script>")


def _store(kind, key, blob):
    cache.cached(f"onnx-{kind}", key, lambda: blob, dump=lambda b, p: p.write_bytes(b),
                 load=lambda p: p.read_bytes(), suffix="onnx")


def test_scripts_come_from_the_cache_and_stale_ones_go(tmp_cache, tmp_path):
    root = tmp_path / "html"
    _page(root, f"unet-{KEY}", f"music-transformer-{KEY}")
    _store("unet", KEY, b"unet graph")
    _store("music-transformer", KEY, b"transformer graph")
    (root / "models").mkdir()
    (root / "models" / f"unet-{OLD}.js").write_text("an earlier export")
    paths = live.write_model_scripts(root)
    assert sorted(p.name for p in (root / "models").iterdir()) == sorted(p.name for p in paths) == \
        [f"music-transformer-{KEY}.js", f"unet-{KEY}.js"]
    assert (root / "models" / f"unet-{KEY}.js").read_text() == export.model_script(f"unet-{KEY}",
                                                                                  b"unet graph")


def test_a_corrupt_export_is_not_served_and_a_missing_one_fails_the_build(tmp_cache, tmp_path):
    root = tmp_path / "html"
    _page(root, f"unet-{KEY}")
    _store("unet", KEY, b"unet graph")
    cache.cache_path("onnx-unet", KEY, "onnx").write_bytes(b"tampered")  # checksum no longer matches
    with pytest.warns(UserWarning, match="not served"), pytest.raises(RuntimeError, match="unet-"):
        live.write_model_scripts(root)
    # a script the build copied in earlier (from _vendor/models) is kept when the cache lost it
    (root / "models").mkdir()
    (root / "models" / f"unet-{KEY}.js").write_text(export.model_script(f"unet-{KEY}", b"g"))
    assert [p.name for p in live.write_model_scripts(root)] == [f"unet-{KEY}.js"]
