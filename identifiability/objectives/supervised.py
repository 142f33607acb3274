"""The supervised baseline: the encoder told the true latents, the best a budget can reach."""

from __future__ import annotations

import torch

from .base import Objective


class Supervised(Objective):
    """Mean squared error of the codes z_hat (n, T, d) against the true latents (n, T, d).

    Not an estimator (it reads z): a verdict shows it as the upper bound of what the same encoder
    reaches at the same budget, so a score reads between chance and the best reachable.
    """

    requires = frozenset({"latents"})

    def forward(self, z: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        if z.shape != latents.shape:
            raise ValueError(f"codes {tuple(z.shape)} and latents {tuple(latents.shape)} differ in shape")
        return (z - latents).pow(2).sum(-1).mean()
