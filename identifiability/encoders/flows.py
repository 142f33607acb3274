"""Flow encoders: bijective on R^D, and injective R^D -> R^d around a dimension change."""

from __future__ import annotations

from typing import Any, Literal

import torch

from identifiability._core import on_device

from .base import Encoder
from .bijection import Bijection, ZukoBijection
from .log_volume import estimated_log_volume, exact_log_volume, half_log_det_gram

LogVolume = Literal["auto", "exact", "estimated"]
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

    def encode_with_log_volume(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.bijection(x)


class InjectiveFlow(Encoder):
    """Pad + bijection + project: the decoder g(z) = F^{-1}(pad(z)), the encoder f(x) = first d
    coordinates of F(x), so f(g(z)) = z exactly and g(R^d) is the learned data manifold.

    The log-volume term is -(1/2) log det(J_g^T J_g) at z = f(x), with J_g the D x d Jacobian of the
    decoder (the encoder's ambient Jacobian would see directions off the manifold).

    Args:
        in_dim: D.
        out_dim: d <= D.
        bijection: any ``Bijection`` on R^D (default: a ``ZukoBijection`` built from ``kwargs``).
        log_volume: "exact" (batched Jacobians and a Cholesky, cost ~ d forward passes),
            "estimated" (a Hutchinson / conjugate-gradient surrogate whose value is 0 and whose
            gradient is unbiased: for training, not for reporting), or "auto": exact up to d = 32.
        seed: fixes the probe vectors of the estimator.
    """

    invertible = True

    def __init__(
        self, in_dim: int, out_dim: int, bijection: Bijection | None = None, *, log_volume: LogVolume = "auto",
        seed: int = 0, **kwargs: Any,
    ) -> None:
        super().__init__()
        if not 1 <= out_dim <= in_dim:
            raise ValueError(f"an injective flow needs 1 <= d <= D, got d={out_dim}, D={in_dim}")
        if log_volume not in ("auto", "exact", "estimated"):
            raise ValueError(f"log_volume must be auto, exact or estimated, got {log_volume!r}")
        self.bijection = bijection if bijection is not None else ZukoBijection(in_dim, **kwargs)
        if self.bijection.dim != in_dim:
            raise ValueError(f"the bijection acts on R^{self.bijection.dim}, not R^{in_dim}")
        self.in_dim, self.out_dim = in_dim, out_dim
        self.log_volume = ("exact" if out_dim <= EXACT_UP_TO else "estimated") if log_volume == "auto" else log_volume
        self._probe = torch.Generator().manual_seed(seed)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.bijection(x)[0][..., : self.out_dim]

    def initialize(self, x: torch.Tensor) -> None:
        """The bijection's data-dependent start (the first layer standardises x)."""
        self.bijection.initialize(x.reshape(-1, self.in_dim))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        pad = z.new_zeros(*z.shape[:-1], self.in_dim - self.out_dim)
        return self.bijection.inverse(torch.cat([z, pad], -1))

    def encode_with_log_volume(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        flat, lead = _flat(z, self.out_dim)
        if self.out_dim == self.in_dim:
            return z, self.bijection(x)[1]
        if self.log_volume == "exact":
            return z, self._exact_log_volume(flat).reshape(lead)
        self._probe = on_device(self._probe, z.device)
        return z, estimated_log_volume(self.decode, flat, generator=self._probe).reshape(lead)

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
        return f"{self.in_dim} -> {self.out_dim}, log_volume={self.log_volume!r}"
