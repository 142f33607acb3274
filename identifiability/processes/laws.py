"""Standardised source laws (zero mean, unit variance), drawn through one ``torch.Generator``."""

from __future__ import annotations

import math
from typing import Literal

import torch

from identifiability._core import check_choice, check_float

Law = Literal["laplace", "uniform", "gennorm", "gaussian"]
LAWS: tuple[str, ...] = ("laplace", "uniform", "gennorm", "gaussian")


def first_accepted(candidates: torch.Tensor, accepted: torch.Tensor) -> torch.Tensor:
    """Rejection sampling with a fixed shape, so that no host has to wait for a count: of the
    candidates (n, M, ...) of each row, the first accepted one (n, ...); the first candidate where
    none is (callers choose M so that this has a probability below 1e-12)."""
    index = accepted.to(torch.int8).argmax(1)  # the first maximum: the first accepted candidate
    shape = (index.shape[0], 1, *candidates.shape[2:])
    return candidates.gather(1, index.reshape(-1, 1, *[1] * (candidates.ndim - 2)).expand(shape)).squeeze(1)


GAMMA_CANDIDATES = 16


def sample_gamma(shape: tuple[int, ...], concentration: float, gen: torch.Generator) -> torch.Tensor:
    """Gamma(concentration, 1) draws in float64 by Marsaglia & Tsang's rejection method.

    torch's own Gamma sampler ignores ``torch.Generator``; this one uses only normal and uniform
    draws, so it is seeded on any device, and draws 16 candidates per sample at once (the method
    accepts at least 95 % of them for a >= 1, so all 16 fail with probability below 1e-20) instead of
    rounds whose size the host would have to read.
    """
    concentration = check_float("concentration", concentration, low=0, low_open=True)
    boost = concentration < 1  # Gamma(a) = Gamma(a + 1) * U^(1/a)
    a = concentration + 1 if boost else concentration
    d = a - 1 / 3
    c = 1 / math.sqrt(9 * d)
    n = math.prod(shape)
    x = torch.randn(n, GAMMA_CANDIDATES, generator=gen, device=gen.device, dtype=torch.float64)
    v = (1 + c * x) ** 3
    log_u = torch.rand(n, GAMMA_CANDIDATES, generator=gen, device=gen.device, dtype=torch.float64).log()
    ok = (v > 0) & (log_u < x**2 / 2 + d - d * v + d * torch.log(v.clamp_min(1e-300)))
    out = first_accepted(d * v, ok)
    if boost:
        out = out * torch.rand(n, generator=gen, device=gen.device, dtype=torch.float64) ** (1 / concentration)
    return out.reshape(shape)


def sample_standard(
    law: Law, shape: tuple[int, ...], gen: torch.Generator, *, beta: float = 2.0, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Draws of ``law`` scaled to zero mean and unit variance.

    Args:
        law: "laplace", "uniform", "gennorm" (generalised Gaussian, density ~ exp(-|s/a|^beta)) or
            "gaussian" (the negative control of nonlinear ICA).
        shape: output shape.
        gen: the random stream; its device is the output's.
        beta: shape of "gennorm" (1: Laplace, 2: Gaussian, large: towards uniform).
    """
    kw = dict(generator=gen, device=gen.device, dtype=torch.float64)
    if law == "gaussian":
        s = torch.randn(shape, **kw)
    elif law == "uniform":
        s = (torch.rand(shape, **kw) * 2 - 1) * math.sqrt(3)
    elif law == "laplace":
        u = torch.rand(shape, **kw) - 0.5
        s = -torch.sign(u) * torch.log1p(-2 * u.abs()) / math.sqrt(2)
    elif law == "gennorm":
        beta = check_float("beta", beta, low=0, low_open=True)
        magnitude = sample_gamma(shape, 1 / beta, gen) ** (1 / beta)
        sign = torch.where(torch.rand(shape, **kw) < 0.5, -1.0, 1.0)
        # Var of gennorm(beta) with unit scale is Gamma(3/beta) / Gamma(1/beta).
        s = sign * magnitude * math.exp(0.5 * (math.lgamma(1 / beta) - math.lgamma(3 / beta)))
    else:
        check_choice("law", law, LAWS)
    return s.to(dtype)
