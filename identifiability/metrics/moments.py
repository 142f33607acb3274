"""Sufficient statistics of paired samples: every linear score (R^2, correlations, CCA) derives
from the means and centred cross-products of (x, y) over a set of rows, so one pass over the data
serves them all."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
        fourth_x, fourth_y: (p,), (k,) centred sums of fourth powers, and peak_x, peak_y the
            largest centred square of each column: how far a few rows dominate a column (for
            leave-one-out bounds); None for a side whose Gram matrix was asked for instead.
    """

    n: int
    mean_x: torch.Tensor
    mean_y: torch.Tensor
    xy: torch.Tensor
    vx: torch.Tensor
    vy: torch.Tensor
    xx: torch.Tensor | None = None
    yy: torch.Tensor | None = None
    fourth_x: torch.Tensor | None = None
    fourth_y: torch.Tensor | None = None
    peak_x: torch.Tensor | None = None
    peak_y: torch.Tensor | None = None


# Elements per block of an elementwise pass: a block's temporaries stay in cache, where elementwise
# ops ran 25x faster than on full-size (page-faulting) temporaries at n = 10^6, d = 64; at most
# ROW_BLOCK rows. Sized in elements, not rows: 8192 rows of 384 columns (25 MB in float64) are each
# allocated afresh and page-faulted, and MCC at n = 10^5, d = 384 ran 1.4x slower than in 1024-row blocks.
BLOCK_ELEMENTS = 8192 * 64
ROW_BLOCK = 8192


def column_squares(a: torch.Tensor) -> torch.Tensor:
    """(k,) the sum over rows of a (m, k) squared, per column. On (8192, 64) float64 blocks
    ``(a * a).sum(0)`` took 0.19 ms where ``vector_norm(a, dim=0).square()`` took 0.77 ms."""
    return (a * a).sum(0)


def column_peaks(a: torch.Tensor) -> torch.Tensor:
    """(k,) the largest |a| (m, k) per column: 0.13 ms on (8192, 64) float64 blocks, where
    ``vector_norm(a, inf, dim=0)`` took 0.89 ms and ``a.abs().amax(0)`` 0.29 ms."""
    return torch.maximum(a.amax(0), a.amin(0).neg_())


def row_blocks(n: int, width: int) -> Iterator[slice]:
    """Consecutive slices covering range(n), of at most ``ROW_BLOCK`` rows and (from 16 rows on)
    ``BLOCK_ELEMENTS`` elements of a block ``width`` columns wide."""
    size = min(ROW_BLOCK, max(16, BLOCK_ELEMENTS // max(width, 1)))
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _centre_in_place(
    a: torch.Tensor, squares: bool, sums: torch.Tensor | None = None
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """Centre the columns of a (n, k) in place, block by block; their mean (k,) (from their column
    ``sums`` where given) and, if asked, their centred sums of squares, sums of fourth powers and
    largest squares (k,) each, taken while each block is in cache."""
    mean = a.mean(0) if sums is None else sums / a.shape[0]
    if not squares:
        for rows in row_blocks(*a.shape):
            a[rows].sub_(mean)
        return mean, ()
    total, fourth, peak = a.new_zeros(a.shape[1]), a.new_zeros(a.shape[1]), a.new_zeros(a.shape[1])
    for rows in row_blocks(*a.shape):
        block = a[rows].sub_(mean).square()
        total += block.sum(0)
        fourth += column_squares(block)
        torch.maximum(peak, block.amax(0), out=peak)
    return mean, (total, fourth, peak)


def _centred_moments(
    xc: torch.Tensor, yc: torch.Tensor, gram_x: bool, gram_y: bool, sums: tuple[torch.Tensor, torch.Tensor] | None = None
) -> Moments:
    """Moments of x and y given as scratch copies, which are left centred (``sums``: their column
    sums, where known)."""
    sums_x, sums_y = sums if sums is not None else (None, None)
    mean_x, tails_x = _centre_in_place(xc, not gram_x, sums_x)
    mean_y, tails_y = _centre_in_place(yc, not gram_y, sums_y)
    xy = xc.T @ yc
    xx = xc.T @ xc if gram_x else None
    yy = yc.T @ yc if gram_y else None
    vx, fourth_x, peak_x = (xx.diagonal().clone(), None, None) if xx is not None else tails_x
    vy, fourth_y, peak_y = (yy.diagonal().clone(), None, None) if yy is not None else tails_y
    return Moments(xc.shape[0], mean_x, mean_y, xy, vx, vy, xx, yy, fourth_x, fourth_y, peak_x, peak_y)


def moments(x: torch.Tensor, y: torch.Tensor, *, gram_x: bool = False, gram_y: bool = False) -> Moments:
    """The moments of (x (n, p), y (n, k)); ``gram_x`` / ``gram_y`` add the full xx / yy matrices."""
    return _centred_moments(x.clone(), y.clone(), gram_x, gram_y)


def centred(x: torch.Tensor, y: torch.Tensor) -> tuple[Moments, torch.Tensor, torch.Tensor]:
    """The moments of (x, y), and x and y themselves centred in place."""
    return _centred_moments(x, y, False, False), x, y


def centred_row_sets(
    x: torch.Tensor,
    y: torch.Tensor,
    *row_sets: torch.Tensor,
    gram_x: bool | Sequence[bool] = False,
    gram_y: bool | Sequence[bool] = False,
) -> Iterator[tuple[Moments, torch.Tensor, torch.Tensor]]:
    """For each of ``row_sets`` (index tensors): the moments of (x, y) over those rows, and the rows
    themselves centred, (m, p) and (m, k), valid until the next row set is drawn. ``gram_x`` and
    ``gram_y`` ask for the Gram matrices for all row sets or, as sequences, for each.

    At large n memory traffic, not arithmetic, dominates: every row set is gathered into one
    reused pair of buffers (fresh large allocations pay a page fault per page), block by block with
    each block's column sums taken while it is in cache (no separate pass for the means), and
    centred in place, so the inputs are read once and no full-size temporary is made.
    """
    count = len(row_sets)
    grams_x = [gram_x] * count if isinstance(gram_x, bool) else list(gram_x)
    grams_y = [gram_y] * count if isinstance(gram_y, bool) else list(gram_y)
    size = max(len(rows) for rows in row_sets)
    bx, by = x.new_empty(size, x.shape[1]), y.new_empty(size, y.shape[1])
    for rows, with_xx, with_yy in zip(row_sets, grams_x, grams_y, strict=True):
        xc, yc = bx[: len(rows)], by[: len(rows)]
        sums = _gather(x, rows, xc), _gather(y, rows, yc)
        yield _centred_moments(xc, yc, with_xx, with_yy, sums), xc, yc


def _gather(a: torch.Tensor, rows: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Write the rows of a (n, k) at ``rows`` (m,) into ``out`` (m, k); their column sums (k,)."""
    sums = out.new_zeros(out.shape[1])
    for block in row_blocks(*out.shape):
        sums += torch.index_select(a, 0, rows[block], out=out[block]).sum(0)
    return sums


def split_moments(
    x: torch.Tensor,
    y: torch.Tensor,
    *row_sets: torch.Tensor,
    gram_x: bool | Sequence[bool] = False,
    gram_y: bool | Sequence[bool] = False,
) -> list[Moments]:
    """The moments of (x, y) over each of ``row_sets`` (index tensors); see ``centred_row_sets``."""
    return [m for m, _, _ in centred_row_sets(x, y, *row_sets, gram_x=gram_x, gram_y=gram_y)]


def pooled(a: Moments, b: Moments) -> Moments:
    """The moments of the union of two disjoint row sets (Chan et al.'s exact update), without
    the tail statistics."""
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
    return Moments(m.n, m.mean_y, m.mean_x, m.xy.T, m.vy, m.vx, m.yy, m.xx, m.fourth_y, m.fourth_x, m.peak_y, m.peak_x)


def correlations(m: Moments) -> torch.Tensor:
    """(p, k) Pearson correlations; a constant column correlates 0 with everything."""
    scale = torch.sqrt(torch.outer(m.vx, m.vy))
    return torch.where(scale > 0, m.xy / torch.where(scale > 0, scale, 1), 0).clamp(-1, 1)


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
