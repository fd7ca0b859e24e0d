"""A small epsilon-prediction U-Net for spectrogram patches (the network eps_theta(x_t, t) of Ho et al.).

The architecture follows the DDPM U-Net of Ho et al. (2020) in miniature: a sinusoidal embedding of t,
residual blocks (GroupNorm, SiLU, 3x3 convolutions) that add the time embedding, stride-2 downsampling,
nearest-neighbour upsampling, skip connections by concatenation, and a zero-initialised output layer (so
the untrained network predicts eps = 0, the baseline of the loss).

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    """Size of the U-Net.

    Attributes:
        base (int): channels at full resolution
        mults (tuple[int, ...]): channel multiplier per resolution level (each further level halves H, W)
        in_channels (int): image channels (1 for a spectrogram)
        space_to_depth (int): fold f x f pixel blocks into channels first (``pixel_unshuffle``) and
            unfold them at the end: the network then runs at 1/f of the resolution, f^2 times cheaper
            (tried for the book: trains fast but leaves a visible f x f block pattern in samples)
    """

    base: int = 8
    mults: tuple[int, ...] = (1, 2, 4)
    in_channels: int = 1
    space_to_depth: int = 1

    def __post_init__(self) -> None:
        from m2d import checks

        checks.integer("base", self.base, low=1)
        checks.integer("in_channels", self.in_channels, low=1)
        checks.integer("space_to_depth", self.space_to_depth, low=1)
        if not self.mults or any(isinstance(m, bool) or not isinstance(m, int) or m < 1
                                 for m in self.mults):
            raise ValueError(f"mults must be positive integers, one per level, got {self.mults!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer steps t: [sin(t w_k), cos(t w_k)] with w_k = 10000^(-k / (dim/2)).

    Args:
        t (torch.Tensor): steps, shape (B,)
        dim (int): embedding size (even)
    Returns:
        emb (torch.Tensor): shape (B, dim)
    """
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def _norm(ch: int) -> nn.GroupNorm:
    groups = next(g for g in (8, 4, 2, 1) if ch % g == 0)
    return nn.GroupNorm(groups, ch)


class ResBlock(nn.Module):
    """h = x + conv(SiLU(GN(conv(SiLU(GN(x))) + W e_t))) with a 1x1 skip when channels change."""

    def __init__(self, c_in: int, c_out: int, t_dim: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temb = nn.Linear(t_dim, c_out)
        self.norm2, self.conv2 = _norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = h + self.temb(emb)[:, :, None, None]
        h = self.conv2(self.act(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """eps_theta(x_t, t): predicts the noise in x_t at step t (Definition 21.10, parameterised by eps).

    Input height and width must be divisible by 2^(len(mults) - 1).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        config (UNetConfig): widths
    """

    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        self.config = config
        c0 = config.base
        t_dim = 4 * c0
        self.t_mlp = nn.Sequential(nn.Linear(c0, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        if config.space_to_depth < 1:
            raise ValueError(f"space_to_depth must be >= 1, got {config.space_to_depth}")
        c_img = config.in_channels * config.space_to_depth**2
        self.inp = nn.Conv2d(c_img, c0, 3, padding=1)
        chans = [c0 * m for m in config.mults]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c = c0
        skips = []
        for i, ch in enumerate(chans):
            self.down.append(ResBlock(c, ch, t_dim))
            c = ch
            skips.append(c)
            if i < len(chans) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid = ResBlock(c, c, t_dim)
        self.up = nn.ModuleList()
        for ch in reversed(chans):
            self.up.append(ResBlock(c + skips.pop(), ch, t_dim))
            c = ch
        self.out_norm = _norm(c)
        self.out = nn.Conv2d(c, c_img, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.levels = len(chans)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predicted noise, same shape as x (B, C, H, W); t holds B integer steps."""
        s = self.config.space_to_depth
        f = s * 2 ** (self.levels - 1)
        if x.ndim != 4 or x.shape[-1] % f or x.shape[-2] % f:
            raise ValueError(f"input must be (B, C, H, W) with H and W divisible by {f}, "
                             f"got {tuple(x.shape)}")
        emb = self.t_mlp(timestep_embedding(t, self.config.base))
        h = self.inp(nn.functional.pixel_unshuffle(x, s) if s > 1 else x)
        hs = []
        for i, block in enumerate(self.down):
            h = block(h, emb)
            hs.append(h)
            if i < self.levels - 1:
                h = self.downsample[i](h)
        h = self.mid(h, emb)
        for i, block in enumerate(self.up):
            if i > 0:
                h = nn.functional.interpolate(h, scale_factor=2, mode="nearest")
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        out = self.out(nn.functional.silu(self.out_norm(h)))
        return nn.functional.pixel_shuffle(out, s) if s > 1 else out
