"""The one contract every objective keeps: a loss on encodings, with what else it needs declared."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Geometry = Literal["sphere", "plane"]
# What an objective may ask the trainer for, besides the encodings z (n, T, d) of a batch.
INPUTS = {
    "log_volume": "the encoder's log-volume terms, (n, T) (an invertible encoder)",
    "action": "the generator's latent action per transition, (n, T - 1, ...)",
    "observations": "the batch's observations x, (n, T, ...)",
    "target": "the batch's encodings by an EMA copy of the encoder, (n, T, d), without gradient",
    "segment": "the segment index of each sequence, (n,) (a segment-modulated generator's auxiliary variable)",
    "latents": "the batch's true latents z, (n, T, d): for supervised baselines only, never for an estimator",
}


class Objective(nn.Module):
    """A scalar loss ``forward(z, **inputs)`` on encodings z (n, T, d).

    Attributes:
        requires: the names in ``INPUTS`` the trainer must pass as keywords, exactly those.
        ema: the decay of the EMA copy of the encoder that gives "target" (where required).
        geometry: "sphere" when the loss reads only the encodings' directions (the encoder then
            normalises its output, so the code scored is the code trained), else "plane".
    """

    requires: frozenset[str] = frozenset()
    ema: float | None = None
    geometry: Geometry = "plane"

    def filtered(self, z: torch.Tensor) -> torch.Tensor | None:
        """The objective's own estimate of the last step's latent state from encodings z (n, T, d),
        where it keeps one (a filter), else None."""
        return None


def consecutive_pairs(z: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """(n, T, d) sequences -> (n (T - 1), 2, d) pairs of consecutive steps; with ``target`` (the
    same shape), the second view of each pair is taken from it."""
    if z.ndim != 3 or z.shape[1] < 2:
        raise ValueError(f"objectives take pairs or sequences of shape (n, T >= 2, d), got {tuple(z.shape)}")
    later = z if target is None else target
    if later.shape != z.shape:
        raise ValueError(f"target {tuple(later.shape)} and encodings {tuple(z.shape)} differ in shape")
    return torch.stack([z[:, :-1], later[:, 1:]], 2).reshape(-1, 2, z.shape[-1])
