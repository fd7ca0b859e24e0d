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


def test_fit_sequence_model_keeps_the_best_validation_epoch():
    """The shared training loop returns the weights of the epoch with the lowest validation bits
    (here epoch 2 of 4, by construction), in eval mode, with one history entry per epoch."""
    import numpy as np
    import torch

    from m2d.models.common import fit_sequence_model

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 4)
    x, y = torch.randn(32, 3), torch.randint(0, 4, (32,))
    snapshots, scores = [], iter([3.0, 1.0, 2.0, 1.5])

    def val_bits():
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(scores)

    def epoch_batches(rng):
        order = rng.permutation(32)
        for s in range(0, 32, 8):
            yield order[s:s + 8]

    extra = fit_sequence_model(
        model, epoch_batches, lambda b: (torch.nn.functional.cross_entropy(model(x[b]), y[b]), len(b)),
        val_bits, epochs=4, steps_per_epoch=4, lr=0.1, weight_decay=0.0, warmup_steps=2, rng=0,
        progress=False)
    assert extra["best_epoch"] == 1 and extra["best_val_bits"] == 1.0
    assert len(extra["train_bits"]) == len(extra["val_bits"]) == 4
    assert np.all(np.isfinite(extra["train_bits"]))
    assert not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, snapshots[1][k])
    assert not torch.equal(snapshots[1]["weight"], snapshots[3]["weight"])  # training went on after it


def test_n_parameters_counts_trainable_weights_only():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2, bias=False))
    assert common.n_parameters(model) == 3 * 4 + 4 + 4 * 2
    model[0].weight.requires_grad_(False)
    assert common.n_parameters(model) == 4 + 4 * 2


def test_fit_sequence_model_seed_and_generator():
    """An integer rng is the seed itself (the cached models' numbers); a Generator gives one seed
    drawn from it, so the same Generator state trains the same weights."""
    import numpy as np

    def run(rng):
        torch.manual_seed(123)
        model = torch.nn.Linear(3, 4)
        x, y = torch.randn(16, 3), torch.randint(0, 4, (16,))
        orders = []

        def epoch_batches(r):
            order = r.permutation(16)
            orders.append(order.tolist())
            yield order

        common.fit_sequence_model(
            model, epoch_batches,
            lambda b: (torch.nn.functional.cross_entropy(model(x[b]), y[b]), len(b)),
            lambda: 1.0, epochs=2, steps_per_epoch=1, lr=0.1, weight_decay=0.0, warmup_steps=None,
            rng=rng, progress=False)
        return orders, model.weight.detach().clone()

    orders, _ = run(5)
    r = np.random.default_rng(5)
    assert orders == [r.permutation(16).tolist(), r.permutation(16).tolist()]
    a, wa = run(np.random.default_rng(1))
    b, wb = run(np.random.default_rng(1))
    assert a == b and torch.equal(wa, wb)


def test_other_weights_of_the_same_shape_are_not_served(tmp_cache):
    """Valid-looking wrong content: weights of the right shapes, written over the file (the
    checksum beside it no longer matches), or NaN weights in an old file without a checksum."""
    common.load_or_train("lin", {"c": 2}, lambda: torch.nn.Linear(2, 2), _train)
    (path,) = tmp_cache.glob("lin-*.pt")
    other = {k: torch.full_like(v, 9.0) for k, v in torch.nn.Linear(2, 2).state_dict().items()}
    torch.save({"state_dict": other, "extra": {}}, path)
    with pytest.warns(UserWarning, match="checksum"):
        m, _ = common.load_or_train("lin", {"c": 2}, lambda: torch.nn.Linear(2, 2), _train)
    assert torch.all(m.weight == 0.5)
    other["weight"][0, 0] = float("nan")
    torch.save({"state_dict": other, "extra": {}}, path)
    path.with_name(path.name + ".sha256").unlink()
    with pytest.warns(UserWarning, match="NaN"):
        m, _ = common.load_or_train("lin", {"c": 2}, lambda: torch.nn.Linear(2, 2), _train)
    assert torch.all(m.weight == 0.5)


def test_a_half_loaded_rejected_file_does_not_seed_the_retrain(tmp_cache):
    """load_state_dict copies matching tensors before it raises on a missing one: the retrain
    must start from a fresh model, not from the rejected file's weights."""
    def make():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))

    def train(model):  # "training" that keeps the init: the result shows where it started
        return {}

    cold, _ = common.load_or_train("seq", {"v": 1}, make, train)
    (path,) = tmp_cache.glob("seq-*.pt")
    path.with_name(path.name + ".sha256").unlink()
    stale = {"0.weight": torch.full((2, 2), 7.0), "0.bias": torch.zeros(2)}  # "1.*" missing
    torch.save({"state_dict": stale, "extra": {}}, path)
    with pytest.warns(UserWarning, match="rebuilding"):
        again, _ = common.load_or_train("seq", {"v": 1}, make, train)
    for a, b in zip(cold.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
