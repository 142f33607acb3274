"""Mean correlation coefficient: correlations of matched learned and true latents."""

from __future__ import annotations

from typing import Literal

import torch
from scipy.optimize import linear_sum_assignment

from ._inputs import ArrayLike
from .moments import Moments, canonical_directions, correlations, moments, pooled, projected, split_moments
from .ranks import rank_columns
from .result import MCCResult, MetricResult
from .scoring import Scores, score_metric

Method = Literal["pearson", "spearman"]


def _matching(abs_corr: torch.Tensor) -> torch.Tensor:
    """(d,) learned index matched to each true latent (-1 if none) by a maximum-weight matching
    of the (d_hat, d) absolute correlations (rectangular when d_hat != d)."""
    rows, cols = linear_sum_assignment(abs_corr.cpu().numpy(), maximize=True)
    match = torch.full((abs_corr.shape[1],), -1, dtype=torch.long)
    match[torch.as_tensor(cols)] = torch.as_tensor(rows)
    return match.to(abs_corr.device)


def _matched(abs_corr: torch.Tensor, match: torch.Tensor) -> torch.Tensor:
    """(d,) |corr| of each true latent with its matched learned dimension; 0 where unmatched."""
    picked = abs_corr.gather(0, match.clamp_min(0)[None, :])[0]
    return torch.where(match >= 0, picked, 0)


def _mcc(zh: torch.Tensor, zt: torch.Tensor, train: torch.Tensor, test: torch.Tensor, method: Method) -> Scores:
    if method == "spearman":  # ranks are taken within each row set, so each is its own copy
        fit, held_out, everything = (
            moments(rank_columns(zh[rows]), rank_columns(zt[rows])) for rows in (train, test, slice(None))
        )
    else:
        fit, held_out = split_moments(zh, zt, train, test)
        everything = pooled(fit, held_out)
    match = _matching(correlations(fit).abs())
    everything = correlations(everything).abs()
    return Scores(
        per_latent=_matched(correlations(held_out).abs(), match),
        in_sample=float(_matched(everything, _matching(everything)).mean()),
        extras={"matching": tuple(match.tolist())},
    )


def mcc(
    z_hat: ArrayLike,
    z: ArrayLike,
    *,
    method: Method = "pearson",
    test_size: float = 0.5,
    seed: int = 0,
    null: bool = False,
    bootstrap: int = 0,
) -> MCCResult:
    """Mean absolute correlation between true latents and their matched learned dimensions.

    The matching (Hungarian, maximum weight) is chosen on a seeded train split and the matched
    correlations are measured on the held-out rest, so noise cannot pick its own best partners.
    The mean runs over the d true latents: when d_hat < d the unmatched ones count 0. Constant
    learned dimensions correlate 0. Spearman ranks each split separately, ties averaged.

    Args:
        z_hat: (n, d_hat) learned representation, numpy or torch, any device and float dtype.
        z: (n, d) true latents.
        method: "pearson" (identifiable up to permutation and scaling) or "spearman" (up to
            permutation and monotone elementwise maps).
        test_size: the held-out fraction.
        seed: fixes the split (and the bootstrap draws).
        null: attach the Monte-Carlo chance level for these shapes.
        bootstrap: resamples for a 95% percentile interval; the matching is refitted in each.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', got {method!r}")
    return score_metric(
        f"mcc_{method}", _mcc, z_hat, z, test_size=test_size, seed=seed, null=null, bootstrap=bootstrap,
        result_type=MCCResult, method=method,
    )


def _weak_mcc(zh: torch.Tensor, zt: torch.Tensor, train: torch.Tensor, test: torch.Tensor) -> Scores:
    fit, held_out = split_moments(zh, zt, train, test, gram_x=True, gram_y=True)
    everything = pooled(fit, held_out)
    d = zt.shape[1]

    def canonical_correlations(directions: tuple[torch.Tensor, torch.Tensor], rows: Moments) -> torch.Tensor:
        values = correlations(projected(rows, *directions)).diagonal().abs()
        return torch.cat([values, values.new_zeros(d - len(values))])

    return Scores(
        per_latent=canonical_correlations(canonical_directions(fit), held_out),
        in_sample=float(canonical_correlations(canonical_directions(everything), everything).mean()),
    )



def weak_mcc(
    z_hat: ArrayLike, z: ArrayLike, *, test_size: float = 0.5, seed: int = 0, null: bool = False, bootstrap: int = 0
) -> MetricResult:
    """MCC after an affine alignment: canonical correlation analysis fitted on the train split
    pairs affine combinations of z_hat with affine combinations of z; the score is the mean of
    their held-out correlations over the d true latents (missing pairs count 0). Equal to 1 for
    any invertible affine map of z, so it tests affine, not permutation, identifiability.
    Arguments as in ``mcc``.
    """
    return score_metric(
        "weak_mcc", _weak_mcc, z_hat, z, test_size=test_size, seed=seed, null=null, bootstrap=bootstrap
    )
