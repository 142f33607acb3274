"""Heteroscedastic InfoNCE: the contrastive sphere objective with a concentration per anchor."""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import Objective, consecutive_pairs
from .networks import mlp


class HeteroscedasticInfoNCE(Objective):
    """-< log softmax_j(beta(z_i) cos(z_i, z'_j)) at j = i > - log n, with beta(z) = beta_min +
    softplus(MLP(z)): the anchor's own concentration says how sure its positive is (the AdaSSL
    paper's baseline). The vMF normaliser of beta(z_i) is constant within anchor i's softmax row,
    so the loss needs none.

    Args:
        dim: d.
        beta_min: a floor on the concentration.
    """


    geometry = "sphere"

    def __init__(self, dim: int, beta_min: float = 1.0) -> None:
        super().__init__()
        self.beta_min = beta_min
        self.concentration = mlp(dim, 1)
        nn.init.zeros_(self.concentration[-1].weight)
        nn.init.constant_(self.concentration[-1].bias, math.log(math.exp(9.0) - 1))  # beta = 10 at start

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        pairs = nn.functional.normalize(consecutive_pairs(z), dim=-1)
        a, b = pairs[:, 0], pairs[:, 1]
        beta = self.beta_min + nn.functional.softplus(self.concentration(a))
        logits = beta * (a @ b.T)
        target = torch.arange(len(a), device=z.device)
        return nn.functional.cross_entropy(logits, target) - math.log(len(a))
