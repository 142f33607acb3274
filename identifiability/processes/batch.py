"""The typed batch that every process returns."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from identifiability._core import check_fits, check_int


class Constants:
    """A process's fixed tensors (mixing weights, rotations, segment parameters) on the device and
    in the dtype of the tensors they meet, converted once and kept: copying them from the host on
    every call made the host wait for each batch."""

    def constant(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """The attribute ``name`` on ``like``'s device, in ``like``'s floating dtype where it is a
        floating tensor."""
        value = getattr(self, name)
        dtype = like.dtype if value.is_floating_point() and like.is_floating_point() else value.dtype
        key = (name, like.device, dtype)
        cache = self.__dict__.setdefault("_constants", {})
        if key not in cache:
            cache[key] = value.to(device=like.device, dtype=dtype)
        return cache[key]


def check_draw(n: int, values_per_sample: int, device: torch.device | str) -> int:
    """``n`` as a sample count whose draw fits in memory: ``values_per_sample`` numbers each (the
    latents and observations of every step), float64 with room for intermediate copies."""
    n = check_int("n", n, low=1)
    check_fits({f"n={n}": 4 * 8 * n * values_per_sample}, device)
    return n


@dataclass(frozen=True)
class Batch:
    """Observations beside their ground truth; every tensor's first axis is the sample.

    Attributes:
        x: observations, (n, T, D) or frames (n, T, C, H, W); T = 2 for pairs, 1 for i.i.d. draws.
        z: true latents, (n, T, d).
        u: segment index of each sample, (n,), where the law depends on one.
        r: mode or latent action of each transition: (n, T-1) integer modes, (n, T-1, d) bool
            resampling masks, or (n, T-1, m) continuous actions.
        noise: the noise of each transition, (n, T-1, d).
        nuisance: latent dimensions mixed into x but not part of z, drawn fresh each step, (n, T, k).
    """

    x: torch.Tensor
    z: torch.Tensor
    u: torch.Tensor | None = None
    r: torch.Tensor | None = None
    noise: torch.Tensor | None = None
    nuisance: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.x.shape[:2] != self.z.shape[:2]:
            raise ValueError(f"x {tuple(self.x.shape)} and z {tuple(self.z.shape)} differ in (n, T)")

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device: torch.device | str) -> Batch:
        """The same batch with every tensor moved to ``device``."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{k: v.to(device) for k, v in moved.items() if v is not None})
