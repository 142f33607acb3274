"""Affine R^2: how much of each true latent a linear map of the representation explains."""

from __future__ import annotations

from ._inputs import ArrayLike, prepare
from .linalg import fit_affine, r2_per_column
from .null import monte_carlo_null
from .result import MetricResult


def affine_r2(
    z_hat: ArrayLike, z: ArrayLike, *, test_size: float = 0.5, seed: int = 0, null: bool = False
) -> MetricResult:
    """Coefficient of determination of the least-squares fit z ~ W z_hat + b.

    W and b are fitted on a seeded random train split and scored on the held-out rest, per true
    latent; the headline is the mean over latents. Held out, a representation independent of z
    scores about -d_hat / n_train (not 0), and in-sample about +d_hat / n: ``null=True`` attaches it.

    Args:
        z_hat: (n, d_hat) learned representation, numpy or torch, any device.
        z: (n, d) true latents.
        test_size: the held-out fraction.
        seed: fixes the split.
        null: attach the Monte-Carlo chance level for these shapes.
    """
    zh, zt, train, test = prepare(z_hat, z, test_size, seed)
    w, b = fit_affine(zh[train], zt[train])
    per_latent = r2_per_column(zt[test], zh[test] @ w + b)
    w_all, b_all = fit_affine(zh, zt)
    in_sample = r2_per_column(zt, zh @ w_all + b_all).mean()
    settings = {"test_size": test_size, "seed": seed}
    return MetricResult(
        name="affine_r2",
        score=float(per_latent.mean()),
        per_latent=tuple(per_latent.tolist()),
        in_sample=float(in_sample),
        null=monte_carlo_null(affine_r2, zh.shape[0], zh.shape[1], zt.shape[1], **settings) if null else None,
        settings=settings,
    )
