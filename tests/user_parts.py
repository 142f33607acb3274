"""Parts of one's own, registered from outside the package as a method author would (the README's
example): plain ``torch.nn.Module``s with the toolkit's call convention, and their builders.

A sweep names this module under ``plugins``; worker processes import it before they look the
parts up, so it must be importable there (here: ``tests/`` is on the path pytest gives them).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import torch
from torch import nn

from identifiability import register_encoder, register_objective


class Residual(nn.Module):
    """x (..., D) -> z (..., d): a linear map plus a tanh MLP correction."""

    def __init__(self, in_dim: int, out_dim: int, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)
        self.correction = nn.Sequential(nn.Linear(in_dim, width), nn.Tanh(), nn.Linear(width, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.correction(x)


class AlignUniform(nn.Module):
    """Wang and Isola's alignment plus ``weight`` times uniformity, on consecutive steps of z (n, T, d)."""

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        a, b = z[:, 0], z[:, 1]
        alignment = (a - b).pow(2).sum(-1).mean()
        uniformity = torch.pdist(torch.cat([a, b])).pow(2).mul(-2).exp().mean().log()
        return alignment + self.weight * uniformity


@register_encoder("user-residual")
def residual(context, *, width: int = 32) -> nn.Module:
    """A linear map plus a small tanh correction (a user's encoder)."""
    return Residual(context.observed_size, context.latent_dim, width)


@register_objective("user-align-uniform")
def align_uniform(context, *, weight: float = 1.0) -> nn.Module:
    """Alignment plus uniformity on the plane (a user's objective)."""
    return AlignUniform(weight)


@register_objective("user-dies-once")
def dies_once(context, *, marker: str = "") -> nn.Module:
    """Kills the process that builds it the first time (it leaves ``marker`` behind), then behaves as
    ``user-align-uniform``: a worker lost in the middle of a sweep."""
    if marker and not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return AlignUniform(1.0)
