"""A fixed whitening of an encoder's input, estimated once from a batch before training."""

from __future__ import annotations

import torch
from torch import nn

from identifiability._core import check_float


class Whitening(nn.Module):
    """x -> (x - m) W, W = (S + s tr(S) / D I)^(-1/2): the input centred and its covariance S made
    (nearly) the identity, a fixed affine map in front of an encoder's first layer.

    It leaves what the encoder can represent unchanged (the first layer is affine already) but not
    how it trains: gradient steps on the first layer's weights act in whitened coordinates, so a
    badly conditioned mixing no longer makes some directions of x slow to learn. The identity until
    ``fit``; the mean and matrix are buffers, saved with the encoder and never trained. The ridge
    ``shrinkage`` (a fraction of S's mean eigenvalue) keeps directions the batch barely spans, such as
    pixels that hardly vary, from being blown up.

    Args:
        dim: D, the input's size.
        shrinkage: the ridge as a fraction of S's mean eigenvalue, >= 0.
    """

    def __init__(self, dim: int, shrinkage: float = 1e-3) -> None:
        super().__init__()
        self.shrinkage = check_float("shrinkage", shrinkage, low=0)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("matrix", torch.eye(dim))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """Set m and W from a batch x (..., D) of at least two rows (in float64)."""
        rows = x.reshape(-1, self.mean.shape[0]).double()
        if rows.shape[0] < 2:
            raise ValueError(f"whitening needs at least 2 rows to estimate a covariance, got {rows.shape[0]}")
        if not torch.isfinite(rows).all():
            raise ValueError("the batch to whiten with holds NaN or infinite values")
        centred = rows - rows.mean(0)
        cov = centred.T @ centred / (rows.shape[0] - 1)
        ridge = self.shrinkage * cov.trace() / cov.shape[0]
        if cov.trace() <= 0:  # a constant input: centred, nothing to scale
            matrix = torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)
        else:
            values, vectors = torch.linalg.eigh(cov + ridge * torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device))
            # numerically rank-deficient: an eigenvalue at rounding level of the largest (exact zeros
            # come out of eigh as +-1e-17, positive in 3 of 200 random 3 x 5 batches)
            if values.min() <= values.max() * cov.shape[0] * torch.finfo(cov.dtype).eps:
                raise ValueError("the batch to whiten with spans fewer directions than its size: set a shrinkage > 0")
            matrix = (vectors * values.rsqrt()) @ vectors.T
        self.mean.copy_(rows.mean(0))
        self.matrix.copy_(matrix)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., D)."""
        return (x - self.mean) @ self.matrix

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., D), the x that whitens to y."""
        # x W = y: one factorisation of W for all rows (not one per row, as a broadcast solve would make)
        rows = torch.linalg.solve(self.matrix, y.reshape(-1, y.shape[-1]), left=False)
        return rows.reshape(y.shape) + self.mean

    def log_det(self) -> torch.Tensor:
        """log|det W|, a constant of the fit, ()."""
        return torch.linalg.slogdet(self.matrix)[1]

    def extra_repr(self) -> str:
        return f"{self.mean.shape[0]}, shrinkage={self.shrinkage}"
