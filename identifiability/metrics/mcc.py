"""Mean correlation coefficient: correlations of matched learned and true latents."""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment

from ._inputs import ArrayLike, prepare
from .linalg import correlation
from .null import monte_carlo_null
from .result import MCCResult


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


def mcc(
    z_hat: ArrayLike, z: ArrayLike, *, test_size: float = 0.5, seed: int = 0, null: bool = False
) -> MCCResult:
    """Mean absolute Pearson correlation between true latents and their matched learned dimensions.

    The matching (Hungarian, maximum weight) is chosen on a seeded train split and the matched
    correlations are measured on the held-out rest, so noise cannot pick its own best partners.
    The mean runs over the d true latents: when d_hat < d the unmatched ones count 0.

    Args:
        z_hat: (n, d_hat) learned representation, numpy or torch, any device.
        z: (n, d) true latents.
        test_size: the held-out fraction.
        seed: fixes the split.
        null: attach the Monte-Carlo chance level for these shapes.
    """
    zh, zt, train, test = prepare(z_hat, z, test_size, seed)
    match = _matching(correlation(zh[train], zt[train]).abs())
    per_latent = _matched(correlation(zh[test], zt[test]).abs(), match)
    everything = correlation(zh, zt).abs()
    in_sample = _matched(everything, _matching(everything)).mean()
    settings = {"test_size": test_size, "seed": seed}
    return MCCResult(
        name="mcc",
        score=float(per_latent.mean()),
        per_latent=tuple(per_latent.tolist()),
        in_sample=float(in_sample),
        null=monte_carlo_null(mcc, zh.shape[0], zh.shape[1], zt.shape[1], **settings) if null else None,
        settings=settings,
        matching=tuple(match.tolist()),
    )
