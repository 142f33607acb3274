"""Affine least squares y ~ x W + b, fitted on one row set and scored on another, exact on hostile inputs.

The fit comes from the moments' normal equations when the Gram matrix, scaled to unit diagonal, is
well conditioned (then they are as accurate as QR), and from the centred rows when it is not (nearly
collinear columns, where the normal equations square the condition number and lose the small
directions) or cannot be (as many columns as rows): the rows' own normal equations where they are well
conditioned, else an SVD. Held-out predictions are scored as the map makes them, however far they reach: a
rule that replaced wild predictions (by the mean, by the range's edge) would only ever lower their
error, a one-sided correction that raises the score of a heavy-tailed code above its population
value; instead the score's warnings say when a few rows decide it (``scoring.support``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from .moments import Moments, column_squares, row_blocks, swapped
from .scoring import BOUND_SUFFICES, Jackknife

# Smallest eigenvalue ratio of the unit-diagonal Gram solved by normal equations: their error grows
# like cond(X)^2 eps, so at 1e-8 (cond(X) <= 1e4) fitted values are exact to about 1e-8.
WELL_CONDITIONED = 1e-8


@dataclass(frozen=True)
class AffineFit:
    """A fitted map p -> k: y = (x - mean_x) W + mean_y.

    Attributes:
        weight: (p, k) W; zero rows for columns of x that were constant on the fitted rows.
        mean_x, mean_y: (p,), (k,) the fitted rows' means.
        from_moments: whether W came from the normal equations of the moments (else from the rows:
            their own normal equations where there are fewer of them than columns, or an SVD).
    """

    weight: torch.Tensor
    mean_x: torch.Tensor
    mean_y: torch.Tensor
    from_moments: bool

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """(m, p) -> (m, k) predictions."""
        return (x - self.mean_x) @ self.weight + self.mean_y


def _solve(m: Moments, x: torch.Tensor, y: torch.Tensor, rows: torch.Tensor | slice) -> tuple[torch.Tensor, bool]:
    """(p, k) least-squares weights on centred data, and whether the normal equations gave them."""
    assert m.xx is not None, "the affine fit needs the x Gram matrix"
    p, k = m.xy.shape
    active = m.vx > 0  # constant columns carry nothing; they get weight 0
    weight = m.xy.new_zeros(p, k)
    if not bool(active.any()):
        return weight, True
    scale = m.vx[active].sqrt()
    # at least as many columns as rows: the centred rows span at most n - 1 directions, so the Gram
    # matrix is singular and only the SVD can answer (no eigendecomposition to find that out: at
    # d = 512 and 500 rows it was a third of a run's evaluation)
    solution = None
    if int(active.sum()) < m.n:
        solution = _conditioned_solve(m.xx[active][:, active] / torch.outer(scale, scale), m.xy[active] / scale[:, None])
    from_moments = solution is not None
    if solution is None:
        solution = _min_norm((x[rows][:, active] - m.mean_x[active]) / scale, y[rows] - m.mean_y)
    weight[active] = solution / scale[:, None]
    return weight, from_moments


def _conditioned_solve(gram: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor | None:
    """gram^-1 rhs (p, k) for a unit-diagonal Gram matrix gram (p, p) whose smallest eigenvalue exceeds
    ``WELL_CONDITIONED`` times its largest; None where it does not.

    A Cholesky factor L decides most cases and solves at half an eigendecomposition's cost (p = k =
    384: 15 ms against 30 ms, one thread): lambda_min >= 1 / tr(gram^-1) = 1 / |L^-1|_F^2 and
    lambda_max <= tr(gram) = p, so |L^-1|_F^2 < 1 / (p WELL_CONDITIONED) proves the condition. Where
    that bound cannot (near the threshold, or no factor), the eigendecomposition decides and solves,
    as it always did."""
    factor, info = torch.linalg.cholesky_ex(gram)
    if int(info) == 0:
        eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
        inverse_factor = torch.linalg.solve_triangular(factor, eye, upper=False)
        if float(inverse_factor.square().sum()) * gram.shape[0] * WELL_CONDITIONED < 1:
            return torch.cholesky_solve(rhs, factor)
    evals, evecs = torch.linalg.eigh(gram)
    if bool(evals[0] > WELL_CONDITIONED * evals[-1]):
        return evecs @ ((evecs.T @ rhs) / evals[:, None])
    return None


def _min_norm(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """(p, k) minimum-norm least-squares solution W of xs W = ys for centred rows xs (r, p), ys (r, k),
    r >= 2: the pseudo-inverse solution numpy's lstsq gives, less the rounding residual of centring.

    With at least as many columns as rows, the centred rows span r - 1 directions and the last
    equation is minus the sum of the others, so W = a^T (a a^T)^{-1} b from the first r - 1 rows a, b:
    the row-space normal equations, taken (as the moments' are) where their unit-diagonal Gram
    matrix is well conditioned; at 500 rows and 512 columns they cost half an SVD. Otherwise (more
    rows, or nearly dependent ones) an SVD of the rows on the complement of the constant direction,
    which centring removes up to rounding: numpy's cutoff (eps max(r, p) of the largest singular value)
    kept that rounding residual as a direction (e.g. at 3 rows, one repeated, and 9 columns) and gave
    weights of 1e13 and fitted values off by 0.02."""
    if xs.shape[1] >= xs.shape[0]:
        a, b = xs[:-1], ys[:-1]
        norms = torch.linalg.vector_norm(a, dim=1)
        if bool((norms > 0).all()):
            solved = _conditioned_solve((a @ a.T) / torch.outer(norms, norms), b / norms[:, None])
            if solved is not None:
                return a.T @ (solved / norms[:, None])
    xs, ys = _off_constant(xs), _off_constant(ys)
    u, s, vh = torch.linalg.svd(xs, full_matrices=False)
    keep = s > s[0] * torch.finfo(s.dtype).eps * max(xs.shape)
    inverse = torch.where(keep, 1 / torch.where(keep, s, 1), 0)
    return vh.T @ (inverse[:, None] * (u.T @ ys))


def _off_constant(a: torch.Tensor) -> torch.Tensor:
    """(r - 1, k) the rows a (r, k), r >= 2, in an orthonormal basis of the complement of (1, ..., 1): a
    Householder reflection takes the unit constant vector to the first basis vector, and that row
    (the column sums over sqrt(r), 0 for centred a) is dropped. Least squares is unchanged by it
    for centred rows."""
    r = a.shape[0]
    u = torch.full((r, 1), r**-0.5, dtype=a.dtype, device=a.device)
    u[0] -= 1  # u = 1 / sqrt(r) - e_1, and the reflection is I - 2 u u^T / |u|^2
    return (a - u @ ((2 / u.square().sum()) * (u.T @ a)))[1:]


def fit_affine(x: torch.Tensor, y: torch.Tensor, rows: torch.Tensor | slice, m: Moments) -> AffineFit:
    """The least-squares map from x (n, p) to y (n, k) fitted on ``rows``, given those rows' moments
    ``m`` (with the x Gram matrix)."""
    weight, from_moments = _solve(m, x, y, rows)
    return AffineFit(weight, m.mean_x, m.mean_y, from_moments)


@dataclass(frozen=True)
class _CentredResiduals:
    """``AffineFit.predict`` on rows centred by their own means (moments ``m``): the centred
    prediction is xc W + offset."""

    weight: torch.Tensor
    offset: torch.Tensor

    @classmethod
    def of(cls, fit: AffineFit, m: Moments) -> _CentredResiduals:
        return cls(fit.weight, (m.mean_x - fit.mean_x) @ fit.weight + fit.mean_y - m.mean_y)

    def squared(self, xc: torch.Tensor, yc: torch.Tensor) -> torch.Tensor:
        """(b, k) squared residuals of a block of centred rows."""
        return torch.addmm(self.offset, xc, self.weight).sub_(yc).square_()


@dataclass
class _Totals:
    """Column sums over held-out rows of one direction's squared residuals (``sse``) and of their
    squares, and the predictions' extremes."""

    sse: torch.Tensor
    sse_squares: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor

    @classmethod
    def zeros(cls, like: torch.Tensor, k: int) -> _Totals:
        inf = torch.full((k,), math.inf, dtype=like.dtype, device=like.device)
        return cls(like.new_zeros(k), like.new_zeros(k), inf, -inf)

    def extremes(self, raw: torch.Tensor) -> None:
        """Take a block's predictions (b, k) into the extremes."""
        torch.minimum(self.low, raw.amin(0), out=self.low)
        torch.maximum(self.high, raw.amax(0), out=self.high)


def _one_pass(
    ahead: _CentredResiduals, back: _CentredResiduals, xc: torch.Tensor, yc: torch.Tensor, diagnose: bool
) -> tuple[_Totals, _Totals]:
    """One pass over the held-out rows with the predictions in both directions. The sums of squares
    of squares are taken only to ``diagnose``."""
    forward, reverse = _Totals.zeros(yc, yc.shape[1]), _Totals.zeros(xc, xc.shape[1])
    for rows in row_blocks(xc.shape[0], max(xc.shape[1], yc.shape[1])):
        x, y = xc[rows], yc[rows]
        raw = torch.addmm(ahead.offset, x, ahead.weight)
        forward.extremes(raw)
        errors = raw.sub_(y).square_()
        forward.sse += errors.sum(0)
        if diagnose:
            forward.sse_squares += column_squares(errors)
        raw = torch.addmm(back.offset, y, back.weight)
        reverse.extremes(raw)
        reverse.sse += raw.sub_(x).square_().sum(0)
    return forward, reverse


def _r2(sse: torch.Tensor, sst: torch.Tensor) -> torch.Tensor:
    """1 - sse / sst, and 0 where sst is 0 (a target constant on the rows)."""
    varying = sst > 0
    return torch.where(varying, 1 - sse / torch.where(varying, sst, 1), 0)


def held_out_r2(
    forward: AffineFit, backward: AffineFit, xc: torch.Tensor, yc: torch.Tensor, m: Moments, *, diagnose: bool = True
) -> tuple[torch.Tensor, Jackknife | None, torch.Tensor]:
    """Held-out R^2 of the fits x -> y (per target, (k,)) and y -> x (``backward``, (p,)) on rows
    given centred by their own means, xc (n, p) and yc (n, k), with their moments ``m`` (with the y
    tail statistics); a target constant on the rows scores 0. One pass over the rows.

    Also the forward R^2 with each row left out in turn, for jackknife errors. Leaving row i out
    moves R^2_j by (e_ij / sst_j - rho_j t_ij) / (1 - t_ij), with e the squared error, rho = sse /
    sst and t_ij = n / (n - 1) (y_ij - mean_j)^2 / sst_j, so sum_i e_ij^2 and the tail statistics
    of y bound the errors; where the bounds are below ``BOUND_SUFFICES`` they stand in for them,
    else a further pass computes the exact values. The jackknife's ``row_share`` is the largest share of each prediction's held-out sum of squares that one row
    carries (from the predictions' extremes and the x Gram matrix in ``m``). Without
    ``diagnose``, the scores alone (no jackknife).
    """
    ahead, back = _CentredResiduals.of(forward, m), _CentredResiduals.of(backward, swapped(m))
    count, scale = yc.shape[1], m.n / (m.n - 1)
    ahead_totals, back_totals = _one_pass(ahead, back, xc, yc, diagnose)
    sse, sse_squares = ahead_totals.sse, ahead_totals.sse_squares
    targets = (m.vy > 0).nonzero().flatten()
    reverse_sse = back_totals.sse
    if not diagnose:
        return _r2(sse, m.vy), None, _r2(reverse_sse, m.vx)
    assert m.fourth_y is not None and m.peak_y is not None, "needs the held-out targets' tail statistics"

    # one row's share of a prediction's sum of squares about its held-out mean (the offset):
    # the largest square from the extremes, the sum from the Gram matrix, diag(W^T xx W)
    assert m.xx is not None
    spread = (ahead.weight * (m.xx @ ahead.weight)).sum(0)
    peak = torch.maximum(ahead_totals.high - ahead.offset, ahead.offset - ahead_totals.low).square()
    share = torch.where(spread > 0, peak / spread.where(spread > 0, 1), 0)[targets]
    values = Jackknife(reference=_r2(sse, m.vy)[targets], latents=tuple(targets.tolist()), count=count, row_share=share)
    sst = m.vy[targets]
    rho, peak = sse[targets] / sst, scale * m.peak_y[targets] / sst
    variation = (sse_squares[targets] + rho.square() * scale**2 * m.fourth_y[targets]) / sst.square()
    bounds = torch.where(peak < 1, (2 * variation).sqrt() / (1 - peak).clamp_min(1e-300), math.inf)
    bounds = torch.cat([bounds, (bounds.sum() / count)[None]])
    if bool((bounds <= BOUND_SUFFICES).all()):
        values = replace(values, rows=xc.shape[0], bounds=bounds)
    else:
        for rows in row_blocks(xc.shape[0], max(xc.shape[1], yc.shape[1])):
            errors, y = ahead.squared(xc[rows], yc[rows]), yc[rows]
            if len(targets) < count:
                y, errors = y[:, targets], errors[:, targets]
            # row i left out: R^2_j = 1 - (sse_j - e_ij) / (sst_j - n / (n - 1) (y_ij - mean_j)^2)
            values = values.add(1 - torch.sub(sse[targets], errors).div_(torch.addcmul(sst, y, y, value=-scale)))
    return _r2(sse, m.vy), values, _r2(reverse_sse, m.vx)


def in_sample_r2(x: torch.Tensor, y: torch.Tensor, m: Moments) -> torch.Tensor:
    """(k,) R^2 of the least-squares fit on all rows of x (n, p), y (n, k), measured on them, given
    their moments ``m`` (with the x Gram matrix)."""
    weight, from_moments = _solve(m, x, y, slice(None))
    if from_moments:  # sum e^2 = vy - 2 diag(W^T xy) + diag(W^T xx W), exact for moderate W
        assert m.xx is not None
        residual = ((weight * (m.xx @ weight)).sum(0) - 2 * (weight * m.xy).sum(0) + m.vy).clamp_min(0)
    else:  # huge W along nearly collinear directions would cancel catastrophically in that formula
        residual = ((y - m.mean_y) - (x - m.mean_x) @ weight).square_().sum(0)
    return 1 - residual / m.vy
