"""Reference scores that say what a number means on a given problem."""

from __future__ import annotations

from typing import Callable

import torch

from identifiability._core import check_int, check_seed

from ._inputs import ArrayLike, as_matrix, column_range
from .mcc import mcc
from .r2 import affine_r2
from .result import MetricResult


def random_orthogonal(d: int, gen: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(d, d) orthogonal matrix drawn from the Haar measure (QR of a Gaussian, signs fixed)."""
    q, r = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=dtype))
    return q * torch.sign(torch.diagonal(r))


def rotation_baseline(z: ArrayLike, *, draws: int = 16, seed: int = 0, **mcc_settings) -> float:
    """Mean MCC of z against Q z for Haar-random orthogonal Q.

    This is what an estimator that identifies z only up to a rotation scores (about 0.89, 0.73,
    0.60, 0.47 at d = 2, 5, 10, 20 for Gaussian z), so an MCC near it is no evidence of
    permutation identifiability.

    Args:
        z: (n, d) true latents.
        draws: random rotations averaged over.
        seed: fixes the rotations.
        mcc_settings: passed to ``mcc`` (method, test_size, seed of the split).
    """
    draws, seed = check_int("draws", draws, low=1), check_seed("seed", seed)
    zt, _ = column_range(as_matrix(z, "z"), "z")
    gen = torch.Generator().manual_seed(seed)
    rotations = [random_orthogonal(zt.shape[1], gen).to(zt.device) for _ in range(draws)]
    return sum(mcc(zt @ q, zt, **mcc_settings).score for q in rotations) / draws


def raw_observation_baseline(
    x: ArrayLike, z: ArrayLike, metrics: tuple[Callable[..., MetricResult], ...] = (affine_r2, mcc)
) -> dict[str, MetricResult]:
    """The scores of the observations x (n, D) themselves against z (n, d): what an encoder
    must beat before it has learned anything (the standard 3-layer leaky-ReLU mixing leaves
    affine R^2 around 0.6-0.7 in x)."""
    return {metric.__name__: metric(x, z) for metric in metrics}
