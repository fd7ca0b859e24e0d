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


def test_fingerprint_follows_content_not_identity():
    import numpy as np
    import torch
    from torch import nn

    a = np.arange(6, dtype=np.int64)
    assert cache.fingerprint(a) == cache.fingerprint(a.copy()) and len(cache.fingerprint(a)) == 16
    assert cache.fingerprint(a) != cache.fingerprint(a.astype(np.int32))   # dtype counts
    assert cache.fingerprint(a) != cache.fingerprint(a.reshape(2, 3))      # shape counts
    assert cache.fingerprint([a[:3], a[3:]]) != cache.fingerprint([a[:2], a[2:]])  # boundaries count
    assert cache.fingerprint({"x": 1, "y": [a]}) == cache.fingerprint({"y": [a], "x": 1})
    torch.manual_seed(0)
    m = nn.Linear(3, 2)
    f = cache.fingerprint(m)
    assert f == cache.fingerprint(m)
    with torch.no_grad():
        m.weight[0, 0] += 1e-3
    assert cache.fingerprint(m) != f
    assert cache.fingerprint(torch.arange(6)) == cache.fingerprint(a)       # tensor = its array

    class Mine(nn.Module):  # a module class defined outside torch (as the book's models are)
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

    torch.manual_seed(1)
    x, y = Mine(), Mine()
    assert cache.fingerprint(x) != cache.fingerprint(y)  # same architecture, other weights
    y.load_state_dict(x.state_dict())
    assert cache.fingerprint(x) == cache.fingerprint(y)


def test_cached_arrays_builds_once_and_rebuilds_what_fails_its_check(tmp_cache):
    import numpy as np

    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(3), "seconds": 1.5}

    a = cache.cached_arrays("demo", {"k": 1}, build)
    b = cache.cached_arrays("demo", {"k": 1}, build)
    assert calls == [1]
    np.testing.assert_array_equal(a["x"], b["x"])
    assert b["seconds"] == 1.5 and isinstance(b["seconds"], float)

    def strict(found):
        if found["x"].size != 4:
            raise ValueError("malformed")

    with pytest.warns(UserWarning, match="rebuilding"):
        cache.cached_arrays("demo", {"k": 1}, build, check=strict)
    assert calls == [1, 1]
    assert cache.cached_arrays("demo", {"k": 1}, build, version=2) and calls == [1, 1, 1]


def test_cached_array_and_cached_timed(tmp_cache):
    import numpy as np

    x = cache.cached_array("arr", [1], lambda: np.eye(2))
    np.testing.assert_array_equal(cache.cached_array("arr", [1], lambda: np.zeros(2)), np.eye(2))
    r, secs = cache.cached_timed("t", [1], lambda: np.ones(3))
    r2, secs2 = cache.cached_timed("t", [1], lambda: np.zeros(3))
    np.testing.assert_array_equal(r2, np.ones(3))
    assert secs == secs2 >= 0 and x.shape == (2, 2)
    out, s = cache.timed(lambda: 4)
    assert out == 4 and s >= 0


def test_edited_file_fails_its_checksum_and_is_rebuilt(tmp_cache):
    """Valid-looking wrong content (a corpus file replaced by []) is not served."""
    key = cache.cache_key("v1")
    cache.cached("thing", key, lambda: [1, 2], cache.dump_json, cache.load_json, "json")
    path = cache.cache_path("thing", key, "json")
    assert path.with_name(path.name + ".sha256").exists()
    path.write_text("[]")  # parses fine, but is not what was built
    with pytest.warns(UserWarning, match="checksum"):
        out = cache.cached("thing", key, lambda: [3], cache.dump_json, cache.load_json, "json")
    assert out == [3] and json.loads(path.read_text()) == [3]


def test_schema_check_rejects_malformed_content(tmp_cache):
    def check(obj):
        if not all("pitches" in r for r in obj):
            raise ValueError("record without pitches")

    key = cache.cache_key("schema")
    path = cache.cache_path("records", key, "json")
    path.write_text('[{"durations": [1]}]')  # no checksum yet (an old file), malformed
    with pytest.warns(UserWarning, match="record without pitches"):
        out = cache.cached("records", key, lambda: [{"pitches": [60]}], cache.dump_json,
                           cache.load_json, "json", check=check)
    assert out == [{"pitches": [60]}]


def test_old_file_without_checksum_is_adopted(tmp_cache):
    key = cache.cache_key("old")
    path = cache.cache_path("thing", key, "json")
    path.write_text("[5]")
    out = cache.cached("thing", key, lambda: [6], cache.dump_json, cache.load_json, "json")
    assert out == [5] and path.with_name(path.name + ".sha256").exists()


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x y"])
def test_names_cannot_leave_the_cache_folder(tmp_cache, name):
    with pytest.raises(ValueError, match="letters, digits"):
        cache.cache_path(name, "0123")


def test_key_hashes_array_content_not_its_str():
    import numpy as np

    a = np.zeros(2000)
    b = a.copy()
    b[1000] = 1.0  # str() of both is "[0. 0. 0. ... 0. 0. 0.]"
    assert str(a) == str(b)
    assert cache.cache_key(a) != cache.cache_key(b)
    assert cache.cache_key(a) == cache.cache_key(a.copy())
    assert cache.cache_key([1, "x"]) == cache.cache_key([1, "x"])  # JSON parts as before


def test_stale_tmp_and_free_locks_are_cleaned(tmp_cache, monkeypatch):
    import os
    import time

    folder = cache.cache_dir()
    old_tmp, new_tmp, lock = folder / "a.bin123.tmp", folder / "b.bin456.tmp", folder / "c.bin.lock"
    for p in (old_tmp, new_tmp, lock):
        p.write_text("")
    past = time.time() - 2 * cache.STALE_SECONDS
    os.utime(old_tmp, (past, past))
    monkeypatch.setattr(cache, "_cleaned", set())
    removed = cache.clean_stale()
    assert set(removed) == {old_tmp, lock}
    assert new_tmp.exists() and not old_tmp.exists() and not lock.exists()
