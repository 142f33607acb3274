"""Uniform and von Mises-Fisher laws on the unit sphere S^{d-1} in R^d."""

from __future__ import annotations

import math

import torch

from identifiability._core import MAX_CONCENTRATION, check_float

from .laws import first_accepted


def uniform_sphere(
    n: int, dim: int, gen: torch.Generator, *, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """(n, dim) points drawn uniformly from the unit sphere."""
    g = torch.randn(n, dim, generator=gen, device=gen.device, dtype=dtype)
    return g / g.norm(dim=-1, keepdim=True)


# Candidates per draw of Wood's sampler: it accepts at least 66 % of them (measured for d from 2 to
# 1000 and kappa from 1e-3 to 1e8), so all 32 fail with probability below 1e-14.
VMF_CANDIDATES = 32


def _symmetric_beta_coordinate(shape: tuple[int, ...], dim: int, gen: torch.Generator) -> torch.Tensor:
    """``shape`` draws of t = 2B - 1, B ~ Beta((d-1)/2, (d-1)/2): the law of one coordinate of a
    uniform point on S^{d-1}, in float64, from two uniforms per draw by Ulrich's (1984) polar method,
    t = sqrt(1 - V^(2/(d-2))) cos(2 pi U) (d = 2: cos(2 pi U), the arcsine law). Drawing the point
    itself would take d normals per draw, and torch's float64 normals are ~6x slower than its uniforms.
    """
    u = torch.rand(shape, generator=gen, device=gen.device, dtype=torch.float64)
    angle = torch.cos(2 * math.pi * u)
    if dim == 2:
        return angle
    v = torch.rand(shape, generator=gen, device=gen.device, dtype=torch.float64)
    return torch.sqrt(-torch.expm1(2 / (dim - 2) * torch.log(v))) * angle  # expm1: exact as V^(2/(d-2)) -> 1


def _wood_cosines(n: int, dim: int, kappa: float, gen: torch.Generator) -> torch.Tensor:
    """(n,) cosines w = mu^T z of vMF(mu, kappa) draws, by Wood's (1994) rejection sampler.

    The Beta((d-1)/2, (d-1)/2) proposal is (1 + t) / 2 with t drawn by ``_symmetric_beta_coordinate``
    from uniforms only, so it runs on any device under one generator. Every draw gets
    ``VMF_CANDIDATES`` proposals at once and keeps the first accepted: a fixed shape, so no host
    waits for a count of rejections.
    """
    m1 = dim - 1
    b = m1 / (2 * kappa + math.sqrt(4 * kappa**2 + m1**2))  # rationalised: no cancellation at large kappa
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + m1 * math.log(1 - x0**2)
    t = _symmetric_beta_coordinate((n, VMF_CANDIDATES), dim, gen)
    beta = (1 + t) / 2
    proposal = (1 - (1 + b) * beta) / (1 - (1 - b) * beta)
    log_u = torch.rand(n, VMF_CANDIDATES, generator=gen, device=gen.device, dtype=torch.float64).log()
    accept = kappa * proposal + m1 * torch.log1p(-x0 * proposal) - c >= log_u
    return first_accepted(proposal, accept)


def sample_vmf(mu: torch.Tensor, kappa: float, gen: torch.Generator) -> torch.Tensor:
    """One von Mises-Fisher draw around each mean direction.

    Args:
        mu: (n, d) unit vectors, d >= 2.
        kappa: concentration, > 0.
        gen: the random stream, on ``mu``'s device.

    Returns:
        (n, d) unit vectors z with density proportional to exp(kappa mu^T z), in ``mu``'s dtype.
    """
    n, dim = mu.shape
    if dim < 2:
        raise ValueError(f"the vMF law needs d >= 2, got d = {dim}")
    kappa = check_float("kappa", kappa, low=0, high=MAX_CONCENTRATION, low_open=True)
    mu64 = mu.to(torch.float64)
    w = _wood_cosines(n, dim, kappa, gen)[:, None]
    v = torch.randn(n, dim, generator=gen, device=gen.device, dtype=torch.float64)
    v = v - (v * mu64).sum(-1, keepdim=True) * mu64
    v = v / v.norm(dim=-1, keepdim=True)
    z = w * mu64 + torch.sqrt((1 - w**2).clamp_min(0)) * v
    return z.to(mu.dtype)
