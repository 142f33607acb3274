"""The effective dimensionality of a code: how many directions its variance spreads over."""

from __future__ import annotations

import torch

from ._inputs import ArrayLike, as_matrix


def participation_ratio(z_hat: ArrayLike) -> float:
    """(sum_k lambda_k)^2 / sum_k lambda_k^2 of the eigenvalues lambda of the code's covariance,
    for z_hat (n, d): d for a code with equal variance in every direction (whitened, or isotropic),
    1 for a code on a line, 0 for a constant code; invariant to rotations and to scale, not to
    per-column rescaling. The LDM paper's measure of dimensional collapse."""
    x = as_matrix(z_hat, "z_hat")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("z_hat has NaN or infinite entries")
    if x.shape[0] < 2:
        raise ValueError(f"the participation ratio needs at least 2 rows, got {x.shape[0]}")
    centred = x - x.mean(0)
    # the squared singular values of the centred rows are (n - 1) x the covariance's eigenvalues
    eig = torch.linalg.svdvals(centred / centred.abs().amax().clamp_min(torch.finfo(torch.float64).tiny)).square()
    total = eig.sum()
    return float(total.square() / eig.square().sum()) if total > 0 else 0.0
