"""A small convolutional encoder for the video process's frames."""

from __future__ import annotations

import torch
from torch import nn

from .base import Encoder


class ConvEncoder(Encoder):
    """f: (..., C, H, W) frames -> (..., d): strided 3x3 convolutions halving the resolution down
    to 4 x 4 or less, then an MLP head.

    Args:
        channels: C.
        size: H = W, at least 4.
        out_dim: d.
        width: channels of the first convolution (doubled at each halving, at most 4x).
        normalize: L2-normalise the output.
    """

    def __init__(self, channels: int, size: int, out_dim: int, width: int = 32, normalize: bool = False):
        super().__init__()
        if channels < 1 or size < 4 or out_dim < 1 or width < 1:
            raise ValueError(f"need channels, out_dim, width >= 1 and size >= 4; got {channels}, {size}, {out_dim}, {width}")
        self.channels, self.size, self.out_dim, self.normalize = channels, size, out_dim, normalize
        self.in_dim = channels * size * size
        layers: list[nn.Module] = []
        c, s, w = channels, size, width
        while s > 4:
            layers += [nn.Conv2d(c, w, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c, s, w = w, (s + 1) // 2, min(2 * w, 4 * width)
        layers += [nn.Flatten(), nn.Linear(c * s * s, 128), nn.LeakyReLU(0.2), nn.Linear(128, out_dim)]
        self.net = nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C, H, W) -> (..., d)."""
        lead = x.shape[:-3]
        z = self.net(x.reshape(-1, *x.shape[-3:])).reshape(*lead, self.out_dim)
        return nn.functional.normalize(z, dim=-1) if self.normalize else z

    def extra_repr(self) -> str:
        return f"({self.channels}, {self.size}, {self.size}) -> {self.out_dim}, normalize={self.normalize}"
