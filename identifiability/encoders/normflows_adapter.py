"""Plug a normflows model in as a bijection.

normflows 1.7.3 (2023) has defects this adapter works around: float64 layers return float32
log-determinants (cast back here) and some allocate them on the CPU (moved here). Its splines and
couplings fail under torch.func, so injective flows built on it take the double-backward Jacobian.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .bijection import Bijection
from .flows import BijectiveFlow


class NormflowsBijection(Bijection):
    """F = the inverse of a normflows sampling map: ``forward`` runs the layers' ``inverse`` from
    last to first (data -> base), ``inverse`` runs their ``forward`` (base -> data).

    Args:
        flows: a ``normflows.NormalizingFlow`` or a sequence of ``normflows.flows.Flow`` layers.
        dim: D.
    """

    def __init__(self, flows: Any, dim: int) -> None:
        super().__init__()
        layers = getattr(flows, "flows", flows)
        self.flows = nn.ModuleList(layers)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = x.reshape(-1, self.dim)
        ladj = torch.zeros(flat.shape[0], dtype=x.dtype, device=x.device)
        for layer in reversed(self.flows):
            flat, log_det = layer.inverse(flat)
            ladj = ladj + torch.as_tensor(log_det).to(dtype=x.dtype, device=x.device)
        return flat.reshape(x.shape), ladj.reshape(x.shape[:-1])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        flat = y.reshape(-1, self.dim)
        for layer in self.flows:
            flat, _ = layer(flat)
        return flat.reshape(y.shape)


def from_normflows(flows: Any, dim: int) -> BijectiveFlow:
    """A ``BijectiveFlow`` encoder on R^dim from a normflows model or list of layers; pass
    ``.bijection`` of the result to ``InjectiveFlow`` for a dimension-reducing encoder."""
    return BijectiveFlow(dim, bijection=NormflowsBijection(flows, dim))
