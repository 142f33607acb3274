"""Reference scores that say what a number means on a given problem."""

from __future__ import annotations

import torch

from ._inputs import ArrayLike, as_matrix
from .mcc import mcc


def random_orthogonal(d: int, gen: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(d, d) orthogonal matrix drawn from the Haar measure (QR of a Gaussian, signs fixed)."""
    q, r = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=dtype))
    return q * torch.sign(torch.diagonal(r))


def rotation_baseline(z: ArrayLike, *, draws: int = 16, seed: int = 0, **mcc_settings) -> float:
    """Mean MCC of z against Q z for Haar-random orthogonal Q.

    This is what an estimator that identifies z only up to a rotation scores (about 0.73 at
    d = 5 on the sphere), so an MCC near it is no evidence of permutation identifiability.

    Args:
        z: (n, d) true latents.
        draws: random rotations averaged over.
        seed: fixes the rotations.
    """
    zt = as_matrix(z, "z")
    gen = torch.Generator().manual_seed(seed)
    scores = [mcc(zt @ random_orthogonal(zt.shape[1], gen).to(zt.device), zt, **mcc_settings).score for _ in range(draws)]
    return sum(scores) / draws
