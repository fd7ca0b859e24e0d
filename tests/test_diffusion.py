import numpy as np
import pytest

from m2d import diffusion as df


def test_linear_schedule_and_alpha_bar():
    b = df.linear_beta_schedule(1000)
    assert b.shape == (1000,) and b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    ab = df.alpha_bars(b)
    assert ab.shape == (1001,) and ab[0] == 1.0
    assert ab[1] == pytest.approx(1 - 1e-4)
    assert ab[10] == pytest.approx(np.prod(1 - b[:10]))
    assert np.all(np.diff(ab) < 0)


def test_q_sample_mean_and_variance():
    ab = df.alpha_bars(df.linear_beta_schedule(1000))
    rng = np.random.default_rng(0)
    n = 200_000
    for t in (1, 250, 1000):
        x = df.q_sample(np.full(n, 0.8), t, ab, rng.standard_normal(n))
        se = np.sqrt(1 - ab[t]) / np.sqrt(n)
        assert abs(x.mean() - np.sqrt(ab[t]) * 0.8) < 5 * se + 1e-12
        assert x.var() == pytest.approx(1 - ab[t], rel=0.02)


@pytest.mark.parametrize("betas,msg", [
    ([0.1, 1.0], r"beta_2 = 1 is outside"), ([0.0], r"beta_1 = 0"), ([], "T must be"),
    ([[0.1]], "1-D"),
])
def test_bad_schedules(betas, msg):
    with pytest.raises(ValueError, match=msg):
        df.alpha_bars(betas)


def test_bad_t_and_shapes():
    ab = df.alpha_bars(df.linear_beta_schedule(10))
    with pytest.raises(ValueError, match=r"0\.\.10"):
        df.q_sample(np.zeros(3), 11, ab, np.zeros(3))
    with pytest.raises(ValueError, match="noise shape"):
        df.q_sample(np.zeros(3), 1, ab, np.zeros(4))
    with pytest.raises(ValueError, match="T must be"):
        df.linear_beta_schedule(0)
