"""Sufficient statistics of paired samples: every linear score (R^2, correlations, CCA) derives
from the means and centred cross-products of (x, y) over a set of rows, so one pass over the data
serves them all."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Moments:
    """Means and centred sums of products of x (n, p) and y (n, k) over n rows.

    Attributes:
        n: rows.
        mean_x, mean_y: (p,), (k,).
        xy: (p, k) sum of (x - mean_x)^T (y - mean_y).
        vx, vy: (p,), (k,) centred sums of squares (the diagonals of xx and yy).
        xx, yy: (p, p), (k, k) centred Gram matrices, or None where not asked for.
    """

    n: int
    mean_x: torch.Tensor
    mean_y: torch.Tensor
    xy: torch.Tensor
    vx: torch.Tensor
    vy: torch.Tensor
    xx: torch.Tensor | None = None
    yy: torch.Tensor | None = None


def _centred_moments(xc: torch.Tensor, yc: torch.Tensor, gram_x: bool, gram_y: bool) -> Moments:
    """Moments of x and y given as scratch copies, which are centred and then squared in place."""
    mean_x, mean_y = xc.mean(0), yc.mean(0)
    xc -= mean_x
    yc -= mean_y
    xy = xc.T @ yc
    xx = xc.T @ xc if gram_x else None
    yy = yc.T @ yc if gram_y else None
    vx = xx.diagonal().clone() if xx is not None else xc.square_().sum(0)
    vy = yy.diagonal().clone() if yy is not None else yc.square_().sum(0)
    return Moments(xc.shape[0], mean_x, mean_y, xy, vx, vy, xx, yy)


def moments(x: torch.Tensor, y: torch.Tensor, *, gram_x: bool = False, gram_y: bool = False) -> Moments:
    """The moments of (x (n, p), y (n, k)); ``gram_x`` / ``gram_y`` add the full xx / yy matrices."""
    return _centred_moments(x.clone(), y.clone(), gram_x, gram_y)


def split_moments(
    x: torch.Tensor, y: torch.Tensor, *row_sets: torch.Tensor, gram_x: bool = False, gram_y: bool = False
) -> list[Moments]:
    """The moments of (x, y) over each of ``row_sets`` (index tensors).

    At large n memory traffic, not arithmetic, dominates: every row set is gathered into one
    reused pair of buffers (fresh large allocations pay a page fault per page) and centred and
    squared in place, so the inputs are read once and no full-size temporary is made.
    """
    size = max(len(rows) for rows in row_sets)
    bx, by = x.new_empty(size, x.shape[1]), y.new_empty(size, y.shape[1])
    out = []
    for rows in row_sets:
        xc = torch.index_select(x, 0, rows, out=bx[: len(rows)])
        yc = torch.index_select(y, 0, rows, out=by[: len(rows)])
        out.append(_centred_moments(xc, yc, gram_x, gram_y))
    return out


def pooled(a: Moments, b: Moments) -> Moments:
    """The moments of the union of two disjoint row sets (Chan et al.'s exact update)."""
    n = a.n + b.n
    f = a.n * b.n / n
    dx, dy = b.mean_x - a.mean_x, b.mean_y - a.mean_y

    def gram(ga: torch.Tensor | None, gb: torch.Tensor | None, d: torch.Tensor) -> torch.Tensor | None:
        return None if ga is None or gb is None else ga + gb + f * torch.outer(d, d)

    return Moments(
        n=n,
        mean_x=a.mean_x + dx * (b.n / n),
        mean_y=a.mean_y + dy * (b.n / n),
        xy=a.xy + b.xy + f * torch.outer(dx, dy),
        vx=a.vx + b.vx + f * dx**2,
        vy=a.vy + b.vy + f * dy**2,
        xx=gram(a.xx, b.xx, dx),
        yy=gram(a.yy, b.yy, dy),
    )


def swapped(m: Moments) -> Moments:
    """The moments of (y, x): for the reverse direction of a score."""
    return Moments(m.n, m.mean_y, m.mean_x, m.xy.T, m.vy, m.vx, m.yy, m.xx)


def correlations(m: Moments) -> torch.Tensor:
    """(p, k) Pearson correlations; a constant column correlates 0 with everything."""
    scale = torch.sqrt(torch.outer(m.vx, m.vy))
    return torch.where(scale > 0, m.xy / torch.where(scale > 0, scale, 1), 0).clamp(-1, 1)


def solve_psd(gram: torch.Tensor, rhs: torch.Tensor, rcond: float = 1e-12) -> torch.Tensor:
    """Minimum-norm solution of ``gram @ w = rhs`` for a symmetric PSD (p, p) ``gram``; (p, k) -> (p, k).

    Eigenvalues below ``rcond`` times the largest are dropped, so collinear inputs (a collapsed or
    duplicated dimension) give the pseudo-inverse solution instead of an error, on CPU and GPU alike.
    """
    evals, evecs = torch.linalg.eigh(gram)
    keep = evals > rcond * evals.max().clamp_min(torch.finfo(gram.dtype).tiny)
    inv = torch.where(keep, 1 / torch.where(keep, evals, 1), 0)
    return evecs @ (inv[:, None] * (evecs.T @ rhs))


def affine_r2_between(fit: Moments, score: Moments) -> torch.Tensor:
    """(k,) R^2 of y ~ x W + b fitted by least squares on ``fit``'s rows, measured on ``score``'s.

    The residuals e = (y - mean_y) - (x - mean_x) W (fit means) are expanded in ``score``'s moments:
    sum e^2 = diag(W^T xx W - 2 W^T xy) + vy + n (mean of e)^2.
    """
    assert fit.xx is not None and score.xx is not None, "affine R^2 needs the x Gram matrix"
    w = solve_psd(fit.xx, fit.xy)
    shift = (score.mean_y - fit.mean_y) - (score.mean_x - fit.mean_x) @ w
    residual = ((w * (score.xx @ w)).sum(0) - 2 * (w * score.xy).sum(0) + score.vy).clamp_min(0)
    return 1 - (residual + score.n * shift**2) / score.vy


def whitener(gram: torch.Tensor, rcond: float = 1e-12) -> torch.Tensor:
    """(p, r) map W with W^T gram W = I on the gram's numerical range (r <= p)."""
    evals, evecs = torch.linalg.eigh(gram)
    keep = evals > rcond * evals.max().clamp_min(torch.finfo(gram.dtype).tiny)
    return evecs[:, keep] / evals[keep].sqrt()


def canonical_directions(m: Moments) -> tuple[torch.Tensor, torch.Tensor]:
    """CCA: (p, r) and (k, r) projections whose projected x and y pair up, most correlated first."""
    assert m.xx is not None and m.yy is not None, "CCA needs both Gram matrices"
    wx, wy = whitener(m.xx), whitener(m.yy)
    u, _, vh = torch.linalg.svd(wx.T @ m.xy @ wy, full_matrices=False)
    return wx @ u, wy @ vh.T


def projected(m: Moments, a: torch.Tensor, b: torch.Tensor) -> Moments:
    """The moments of (x a, y b) for projections a (p, r) and b (k, s); needs both Gram matrices."""
    assert m.xx is not None and m.yy is not None, "projection needs both Gram matrices"
    xx, yy = a.T @ m.xx @ a, b.T @ m.yy @ b
    return Moments(m.n, m.mean_x @ a, m.mean_y @ b, a.T @ m.xy @ b, xx.diagonal(), yy.diagonal(), xx, yy)
