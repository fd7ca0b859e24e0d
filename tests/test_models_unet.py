"""The eps-prediction U-Net: shapes, zero-initialised output, input validation."""

import pytest
import torch

from m2d.models.unet import UNet, UNetConfig

TINY_UNET = UNetConfig(base=8, mults=(1, 2), space_to_depth=2)


def test_unet_shapes_and_zero_init():
    for cfg in (UNetConfig(base=8, mults=(1, 2)), TINY_UNET):
        m = UNet(cfg)
        x = torch.randn(3, 1, 16, 32)
        out = m(x, torch.tensor([1, 5, 49]))
        assert out.shape == x.shape
        assert torch.all(out == 0)  # zero-initialised output: the untrained model predicts eps = 0
    with pytest.raises(ValueError, match="divisible"):
        UNet(TINY_UNET)(torch.randn(1, 1, 10, 16), torch.tensor([1]))
    with pytest.raises(ValueError, match="space_to_depth"):
        UNet(UNetConfig(space_to_depth=0))
