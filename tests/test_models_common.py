import pytest
import torch

from m2d.models import common


def _train(model):
    with torch.no_grad():
        model.weight.fill_(0.5)
    return {"loss": [1.0, 0.5]}


def test_round_trip_and_corruption(tmp_cache):
    calls = []

    def train(model):
        calls.append(1)
        return _train(model)

    key = {"config": 1}
    m1, extra = common.load_or_train("lin", key, lambda: torch.nn.Linear(2, 2), train)
    m2, extra2 = common.load_or_train("lin", key, lambda: torch.nn.Linear(2, 2), train)
    assert len(calls) == 1 and extra == extra2 == {"loss": [1.0, 0.5]}
    assert torch.equal(m1.weight, m2.weight) and torch.all(m2.weight == 0.5)
    assert not m2.training
    (path,) = tmp_cache.glob("lin-*.pt")
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="rebuilding"):
        m3, _ = common.load_or_train("lin", key, lambda: torch.nn.Linear(2, 2), train)
    assert len(calls) == 2 and torch.all(m3.weight == 0.5)


def test_mismatched_file_is_retrained(tmp_cache):
    common.load_or_train("lin", {"c": 1}, lambda: torch.nn.Linear(2, 2), _train)
    (path,) = tmp_cache.glob("lin-*.pt")
    torch.save({"state_dict": {"weight": torch.zeros(3, 3)}, "extra": {}}, path)
    with pytest.warns(UserWarning, match="rebuilding"):
        m, _ = common.load_or_train("lin", {"c": 1}, lambda: torch.nn.Linear(2, 2), _train)
    assert m.weight.shape == (2, 2)


def test_warmup_cosine_schedule():
    f = [common.warmup_cosine(s, 10, 110) for s in range(111)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[60] == pytest.approx(0.5) and f[110] == pytest.approx(0.0)
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))
