"""The least-squares and correlation kernels behind R^2 and MCC (float64, any device)."""

from __future__ import annotations

import torch


def solve_psd(gram: torch.Tensor, rhs: torch.Tensor, rcond: float = 1e-12) -> torch.Tensor:
    """Minimum-norm solution of ``gram @ w = rhs`` for a symmetric PSD (p, p) ``gram``; (p, k) -> (p, k).

    Eigenvalues below ``rcond`` times the largest are dropped, so collinear inputs (a collapsed or
    duplicated dimension) give the pseudo-inverse solution instead of an error, on CPU and GPU alike.
    """
    evals, evecs = torch.linalg.eigh(gram)
    keep = evals > rcond * evals.max().clamp_min(torch.finfo(gram.dtype).tiny)
    inv = torch.where(keep, 1 / torch.where(keep, evals, 1), 0)
    return evecs @ (inv[:, None] * (evecs.T @ rhs))


def fit_affine(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares y ~ x @ w + b with intercept; (n, p), (n, k) -> w (p, k), b (k,)."""
    mx, my = x.mean(0), y.mean(0)
    xc = x - mx
    w = solve_psd(xc.T @ xc, xc.T @ (y - my))
    return w, my - mx @ w


def r2_per_column(y: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Coefficient of determination of each column of y; (n, k), (n, k) -> (k,)."""
    residual = ((y - y_pred) ** 2).sum(0)
    total = ((y - y.mean(0)) ** 2).sum(0)
    return 1 - residual / total


def correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlations between the columns of a (n, p) and b (n, k) -> (p, k).

    A constant column correlates 0 with everything (a collapsed dimension carries no signal).
    """
    a = a - a.mean(0)
    b = b - b.mean(0)
    na, nb = a.norm(dim=0), b.norm(dim=0)
    c = (a.T @ b) / (na[:, None] * nb[None, :])
    return torch.where((na[:, None] > 0) & (nb[None, :] > 0), c, 0).clamp(-1, 1)
