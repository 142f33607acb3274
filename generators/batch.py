"""The typed batch that every generator returns."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch


@dataclass(frozen=True)
class Batch:
    """Observations beside their ground truth.

    Attributes:
        x: observations, (n, T, D); T = 2 for pairs.
        z: true latents, (n, T, d).
    """

    x: torch.Tensor
    z: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.shape[:2] != self.z.shape[:2]:
            raise ValueError(f"x {tuple(self.x.shape)} and z {tuple(self.z.shape)} differ in (n, T)")

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device: torch.device | str) -> Batch:
        """The same batch with every tensor moved to ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})
