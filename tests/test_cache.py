import json

import pytest

from m2d import cache


def test_build_once_then_load(tmp_cache):
    calls = []

    def build():
        calls.append(1)
        return {"x": [1, 2, 3]}

    key = cache.cache_key("v1", {"a": 1})
    a = cache.cached("thing", key, build, cache.dump_json, cache.load_json, "json")
    b = cache.cached("thing", key, build, cache.dump_json, cache.load_json, "json")
    assert a == b == {"x": [1, 2, 3]}
    assert len(calls) == 1
    assert cache.cache_path("thing", key, "json").exists()


def test_key_depends_on_every_part():
    assert cache.cache_key("v1", {"a": 1}) != cache.cache_key("v1", {"a": 2})
    assert cache.cache_key("v1", {"a": 1, "b": 2}) == cache.cache_key("v1", {"b": 2, "a": 1})


def test_corrupt_file_is_rebuilt(tmp_cache):
    key = cache.cache_key("v1")
    cache.cached("thing", key, lambda: [1], cache.dump_json, cache.load_json, "json")
    path = cache.cache_path("thing", key, "json")
    path.write_text('{"truncated": ')
    with pytest.warns(UserWarning, match="rebuilding"):
        out = cache.cached("thing", key, lambda: [2], cache.dump_json, cache.load_json, "json")
    assert out == [2]
    assert json.loads(path.read_text()) == [2]


def test_failed_build_leaves_no_file(tmp_cache):
    def boom():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.cached("thing", "k", boom, cache.dump_json, cache.load_json, "json")
    assert not cache.cache_path("thing", "k", "json").exists()
    assert list(tmp_cache.glob("*.tmp")) == []


def _slow_build_in_process(log: str) -> list:
    """Build an artefact slowly, recording each real build in ``log`` (one line per build)."""
    import time

    def build():
        with open(log, "a") as fh:
            fh.write("built\n")
        time.sleep(0.5)
        return [42]

    return cache.cached("shared", "k", build, cache.dump_json, cache.load_json, "json")


def test_concurrent_processes_build_once(tmp_cache, tmp_path):
    """Two chapters executing at once need the same model: one builds, the other waits and loads."""
    import multiprocessing as mp

    log = tmp_path / "builds.log"
    with mp.get_context("spawn").Pool(2) as pool:
        results = pool.map(_slow_build_in_process, [str(log)] * 2)
    assert results == [[42], [42]]
    assert log.read_text().count("built") == 1
