import numpy as np
import pytest
import torch

from m2d import rng as rng_mod


def test_as_generator_seed_and_generator():
    a = rng_mod.as_generator(3).random(4)
    np.testing.assert_array_equal(a, np.random.default_rng(3).random(4))
    g = np.random.default_rng(5)
    assert rng_mod.as_generator(g) is g
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="rng must be"):
            rng_mod.as_generator(bad)


def test_torch_seed_keeps_integer_seeds_and_draws_from_generators():
    assert rng_mod.torch_seed(7) == 7
    a = torch.randn(3, generator=rng_mod.torch_generator(7))
    torch.testing.assert_close(a, torch.randn(3, generator=torch.Generator().manual_seed(7)))
    s1 = rng_mod.torch_seed(np.random.default_rng(0))
    assert s1 == rng_mod.torch_seed(np.random.default_rng(0)) and 0 <= s1 < 2**63
    with pytest.raises(ValueError, match="rng must be"):
        rng_mod.torch_seed(None)
