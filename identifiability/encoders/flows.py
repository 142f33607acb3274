"""Flow encoders: bijective on R^D, and injective R^D -> R^d around a dimension change."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from identifiability._core import check_choice, check_float, derive_seed, on_device

from .base import Encoder
from .bijection import Bijection, ZukoBijection
from .log_volume import estimated_log_volume, exact_log_volume, half_log_det_gram
from .whitening import Whitening

LogVolume = Literal["auto", "exact", "estimated"]
Likelihood = Literal["inflated", "manifold"]
EXACT_UP_TO = 32


def _flat(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    return x.reshape(-1, dim), x.shape[:-1]


class BijectiveFlow(Encoder):
    """f = F: R^D -> R^D, a bijection; the log-volume term is log|det J_f(x)|.

    Args:
        dim: D = d.
        bijection: any ``Bijection`` (default: a ``ZukoBijection`` built from ``kwargs``).
    """

    invertible = True

    def __init__(self, dim: int, bijection: Bijection | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.bijection = bijection if bijection is not None else ZukoBijection(dim, **kwargs)
        if self.bijection.dim != dim:
            raise ValueError(f"the bijection acts on R^{self.bijection.dim}, not R^{dim}")
        self.in_dim = self.out_dim = dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.bijection(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.bijection.inverse(z)

    def initialize(self, x: torch.Tensor) -> None:
        """The bijection's data-dependent start (the first layer standardises x)."""
        self.bijection.initialize(x.reshape(-1, self.in_dim))

    def encode_with_log_volume(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if noise is not None:
            raise ValueError("a bijective flow draws no noise: pass none")
        return self.bijection(x)


class InjectiveFlow(Encoder):
    """Pad + bijection + project: the decoder g(z) = F^{-1}(pad(z)), the encoder f(x) = first d
    coordinates of F(x), so f(g(z)) = z exactly and g(R^d) is the learned data manifold.

    Its log-volume term (log p(x) - log p_z(f(x)), what an exact-entropy objective adds to the
    latent model's log-density) comes in two forms:

    - "inflated" (default): the exact likelihood of a full-dimensional model x = F^{-1}(z, u) with
      u ~ N(0, I_{D-d}) the coordinates off the manifold, log|det J_F(x~)| + log N(u; 0, I), at
      x~ = x + inflation * scale * eps, eps ~ N(0, I_D) (noise-inflated data, Horvat & Pfister 2021,
      ``scale`` the data's RMS coordinate spread, set by ``initialize``). The data then have a
      density on R^D, so the likelihood is bounded and its optimum is the inflated data's law; as the
      inflation goes to 0 it tends to the manifold density times a Gaussian across it. One pass, no
      Jacobian: the bijective flow's cost. The codes returned are those of x~ (the likelihood's);
      ``encode`` maps clean x.
    - "manifold": the density on the decoder's manifold, -(1/2) log det(J_g^T J_g) at z = f(x) with J_g
      the D x d Jacobian of the decoder, i.e. log|det| of f along g's tangent space. It is the right
      term only for data on g(R^d): trained by likelihood at D > d, nothing holds g's manifold to the
      data, and f grows steep along tangents the data do not move along, a log-volume without bound
      (measured on gauss_ar1 lifted to D = 8: the log-volume 4 -> 16 nats in 20 steps, NaN at 29).
      For reporting the density of a manifold fixed otherwise.

    At D = d both are the bijection's log|det J_F(x)| of clean x.

    Args:
        in_dim: D.
        out_dim: d <= D.
        bijection: any ``Bijection`` on R^D (default: a ``ZukoBijection`` built from ``kwargs``).
        likelihood: "inflated" or "manifold".
        inflation: the inflated form's noise, relative to the data's spread (> 0 where the data lie on
            a manifold: at 0 their likelihood has no bound either).
        log_volume: the manifold form's computation: "exact" (batched Jacobians and a Cholesky, cost
            ~ d forward passes), "estimated" (a Hutchinson / conjugate-gradient surrogate whose value
            is 0 and whose gradient is unbiased: for training, not for reporting), or "auto": exact up
            to d = 32.
        seed: fixes the inflation's noise (a stream per call, resumed from the state dict) and the
            manifold estimator's probes.
        whiten: put a ``Whitening`` (ridge ``shrinkage`` of the mean eigenvalue) in front of the
            bijection, fitted by ``initialize``: a fixed affine map, its constant log|det| counted in the
            log-volume, that puts the data's principal directions on the bijection's axes (at D > d the
            directions off the data's span come out at the scale of the inflation's noise, not 0).
    """

    invertible = True

    def __init__(
        self, in_dim: int, out_dim: int, bijection: Bijection | None = None, *, likelihood: Likelihood = "inflated",
        inflation: float = 0.05, log_volume: LogVolume = "auto", seed: int = 0, whiten: bool = False, shrinkage: float = 1e-2,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if not 1 <= out_dim <= in_dim:
            raise ValueError(f"an injective flow needs 1 <= d <= D, got d={out_dim}, D={in_dim}")
        if log_volume not in ("auto", "exact", "estimated"):
            raise ValueError(f"log_volume must be auto, exact or estimated, got {log_volume!r}")
        self.likelihood = check_choice("likelihood", likelihood, ("inflated", "manifold"))
        self.inflation = check_float("inflation", inflation, low=0, high=1)
        self.bijection = bijection if bijection is not None else ZukoBijection(in_dim, **kwargs)
        if self.bijection.dim != in_dim:
            raise ValueError(f"the bijection acts on R^{self.bijection.dim}, not R^{in_dim}")
        self.in_dim, self.out_dim = in_dim, out_dim
        self.log_volume = ("exact" if out_dim <= EXACT_UP_TO else "estimated") if log_volume == "auto" else log_volume
        self.seed, self.draws = seed, 0
        if whiten and self.likelihood == "manifold":
            raise ValueError("the manifold likelihood is computed without a whitening: turn whiten off")
        self.whitening = Whitening(in_dim, shrinkage) if whiten else None
        self.register_buffer("scale", torch.ones(()))
        self.register_buffer("whitening_log_det", torch.zeros(()))  # log|det W|, set with the whitening's fit
        if self.likelihood == "manifold":  # the estimator's probes (held for either computation, as log_volume may change)
            self._probe = torch.Generator().manual_seed(seed)

    @property
    def inflated(self) -> bool:
        """Whether the log-volume is taken at noise-inflated data (D > d and the inflated likelihood)."""
        return self.out_dim < self.in_dim and self.likelihood == "inflated"

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """F(x) (..., D) and log|det J_F(x)| (...,), the whitening included where there is one."""
        if self.whitening is None:
            return self.bijection(x)
        y, log_det = self.bijection(self.whitening(x))
        return y, log_det + self.whitening_log_det.to(log_det.dtype)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)[0][..., : self.out_dim]

    def initialize(self, x: torch.Tensor) -> None:
        """The whitening's fit where there is one, the bijection's data-dependent start (its first layer
        standardises what it sees), and the data's RMS coordinate spread, the unit of the inflation."""
        flat = x.reshape(-1, self.in_dim)
        if self.whitening is not None:
            self.whitening.fit(flat)
            self.whitening_log_det.copy_(self.whitening.log_det())
        self.bijection.initialize(flat if self.whitening is None else self.whitening(flat))
        self.scale.copy_(flat.var(0).mean().sqrt().clamp_min(1e-12))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        pad = z.new_zeros(*z.shape[:-1], self.in_dim - self.out_dim)
        x = self.bijection.inverse(torch.cat([z, pad], -1))
        return x if self.whitening is None else self.whitening.inverse(x)

    def draw_noise(self, shape: torch.Size | tuple[int, ...], device: torch.device | str, dtype: torch.dtype) -> torch.Tensor | None:
        """The inflation's standard normal noise shaped as observations of ``shape``, from this call's
        own stream (the seed and a count of calls, kept in the state dict, so a resumed run draws what an
        uninterrupted one would); None at D = d and for the manifold likelihood, which draw none."""
        if not self.inflated:
            return None
        generator = torch.Generator(device).manual_seed(derive_seed(self.seed, "inflation", self.draws))
        self.draws += 1
        return torch.randn(tuple(shape), generator=generator, device=device, dtype=dtype)

    def encode_with_log_volume(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if noise is None:
            noise = self.draw_noise(x.shape, x.device, x.dtype)
        elif not self.inflated:
            raise ValueError("this flow draws no noise (D = d, or the manifold likelihood): pass none")
        elif noise.shape != x.shape or noise.dtype != x.dtype or noise.device != x.device:
            raise ValueError(f"the inflation's noise must be shaped, typed and placed as the observations {tuple(x.shape)}, "
                             f"{x.dtype}, {x.device}; got {tuple(noise.shape)}, {noise.dtype}, {noise.device}")
        if self.out_dim == self.in_dim:
            return self._forward(x)
        if self.inflated:
            y, log_det = self._forward(x + self.inflation * self.scale * noise)
            pad = y[..., self.out_dim:]
            log_pad = -0.5 * pad.square().sum(-1) - 0.5 * pad.shape[-1] * math.log(2 * math.pi)
            return y[..., : self.out_dim], log_det + log_pad
        z = self.encode(x)
        flat, lead = _flat(z, self.out_dim)
        if self.log_volume == "exact":
            return z, self._exact_log_volume(flat).reshape(lead)
        self._probe = on_device(self._probe, z.device)
        return z, estimated_log_volume(self.decode, flat, generator=self._probe).reshape(lead)

    def get_extra_state(self) -> dict[str, int]:
        return {"draws": self.draws}

    def set_extra_state(self, state: dict[str, int]) -> None:
        self.draws = int(state["draws"])

    def _exact_log_volume(self, z: torch.Tensor) -> torch.Tensor:
        """-(1/2) log det(J_g^T J_g) at z (n, d): J_g by the bijection's analytic forward-mode rules
        (the pad's d unit tangents pushed through F^{-1}, one pass), by autodiff where it has none."""
        pad = z.new_zeros(z.shape[0], self.in_dim - self.out_dim)
        units = torch.eye(self.out_dim, self.in_dim, dtype=z.dtype, device=z.device).expand(z.shape[0], -1, -1)
        pushed = self.bijection.inverse_with_tangents(torch.cat([z, pad], -1), units)
        if pushed is None:
            return exact_log_volume(self.decode, z)
        return -half_log_det_gram(pushed[1].mT)

    def extra_repr(self) -> str:
        form = f"inflation={self.inflation:g}" if self.likelihood == "inflated" else f"log_volume={self.log_volume!r}"
        return f"{self.in_dim} -> {self.out_dim}, likelihood={self.likelihood!r}, {form}, whiten={self.whitening is not None}"
