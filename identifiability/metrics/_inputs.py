"""Validation and splitting shared by every metric."""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def as_matrix(a: ArrayLike, name: str, device: torch.device | None = None) -> torch.Tensor:
    """``a`` as an (n, k) float64 tensor, without mutating or aliasing the caller's data."""
    if isinstance(a, (list, tuple)):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(a).__name__}")
    if isinstance(a, np.ndarray):
        if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
        a = torch.from_numpy(a)
    elif not isinstance(a, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(a).__name__}")
    if a.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n samples, k dimensions), got shape {tuple(a.shape)}")
    a = a.detach().to(device=device if device is not None else a.device, dtype=torch.float64)
    # A sum is non-finite whenever an element is, and costs one pass without a mask allocation.
    if not torch.isfinite(a.sum()) and not torch.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def as_pair(z_hat: ArrayLike, z: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated (n, d_hat) and (n, d) float64 tensors on ``z_hat``'s device."""
    zh = as_matrix(z_hat, "z_hat")
    zt = as_matrix(z, "z", device=zh.device)
    if zh.shape[0] != zt.shape[0]:
        raise ValueError(f"z_hat has {zh.shape[0]} samples but z has {zt.shape[0]}")
    return zh, zt


def split_indices(n: int, test_size: float, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random partition of range(n) into (train, test) index tensors, each sorted
    (scores ignore row order, and gathering rows in memory order is about 1.7x faster)."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    n_test = round(n * test_size)
    if n_test < 2 or n - n_test < 2:
        raise ValueError(f"{n} samples are too few to split with test_size={test_size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(device)
    return perm[n_test:].sort().values, perm[:n_test].sort().values


def require_varying(a: torch.Tensor, name: str) -> None:
    """Raise if a column of ``a`` is constant (its R^2 or correlation is undefined)."""
    constant = (a.amax(dim=0) == a.amin(dim=0)).nonzero().flatten()  # aminmax over rows is 4x slower
    if constant.numel():
        raise ValueError(f"{name} has constant column(s) {constant.tolist()}: scores for them are undefined")


def prepare(
    z_hat: ArrayLike, z: ArrayLike, test_size: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validated float64 (z_hat, z) with no constant true latent, and a seeded (train, test) split."""
    zh, zt = as_pair(z_hat, z)
    require_varying(zt, "z")
    return zh, zt, *split_indices(zh.shape[0], test_size, seed, zh.device)
