"""The one contract every objective keeps: a loss on encodings, with what else it needs declared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Geometry = Literal["sphere", "plane"]
# What an objective may ask the trainer for, besides the encodings z (n, T, d) of a batch.
INPUTS = {
    "log_volume": "the encoder's log-volume terms, (n, T) (an invertible encoder)",
    "action": "the process's latent action per transition, (n, T - 1, ...)",
    "observations": "the batch's observations x, (n, T, ...)",
    "target": "the batch's encodings by an EMA copy of the encoder, (n, T, d), without gradient",
    "segment": "the segment index of each sequence, (n,) (a segment-modulated process's auxiliary variable)",
    "latents": "the batch's true latents z, (n, T, d): for supervised baselines only, never for an estimator",
}


class Objective(nn.Module):
    """A scalar loss ``forward(z, **inputs)`` on encodings z (n, T, d).

    Attributes:
        requires: the names in ``INPUTS`` the trainer must pass as keywords, exactly those.
        ema: the decay of the EMA copy of the encoder that gives "target" (where required).
        geometry: "sphere" when the loss reads only the encodings' directions (the encoder then
            normalises its output, so the code scored is the code trained), else "plane".
        pairwise: the loss builds (n, n) matrices over a batch of n (a contrastive objective's
            logits), so that seeds batched on a CPU run in cache-sized chunks (``training.seeds``).
    """

    requires: frozenset[str] = frozenset()
    ema: float | None = None
    geometry: Geometry = "plane"
    pairwise: bool = False

    def draw_noise(self, shape: tuple[int, int], device: torch.device | str, dtype: torch.dtype) -> torch.Tensor | None:
        """The random numbers one step's loss draws from the objective's own stream for a batch of
        ``shape`` (n, T) sequences, which ``forward(z, noise=...)`` then reads instead of drawing them
        (so a batched step draws each seed's outside ``vmap``); None where the loss draws none. An
        objective that overrides it draws every random number of its loss here."""
        return None

    def readouts(
        self, encoder: nn.Module, x: torch.Tensor, z: torch.Tensor, fresh: Callable[[int], torch.Tensor]
    ) -> dict[str, Readout]:
        """What the trained model estimates besides the per-frame code, by name (a filter's state, say),
        each scored as the code is: from held-out sequences x (n, T, ...) with latents z (n, T, d);
        ``fresh(m)`` draws m new sequences of observations from the training stream (never the
        held-out ones) for a readout that refits a part first. None by default."""
        return {}


@dataclass(frozen=True)
class Readout:
    """Codes read off a trained model beside what they estimate, on the CPU or not: ``z_hat`` (n, k),
    the true latents ``z`` (n, d) and the observations ``x`` (n, D), flattened, of the step they
    estimate."""

    z_hat: torch.Tensor
    z: torch.Tensor
    x: torch.Tensor

    def cpu(self) -> Readout:
        """The same, on the CPU."""
        return Readout(self.z_hat.cpu(), self.z.cpu(), self.x.cpu())


class PlainObjective(Objective):
    """A plain module of one's own as an objective: its loss ``loss(z)`` on encodings z (n, T, d),
    nothing else required, read on the plane."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.loss(z)


def as_objective(module: nn.Module) -> Objective:
    """``module`` if it keeps the ``Objective`` contract, else a ``PlainObjective`` of it (once, where
    a run is built, so that nothing downstream asks which it is)."""
    return module if isinstance(module, Objective) else PlainObjective(module)


def consecutive_pairs(z: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """(n, T, d) sequences -> (n (T - 1), 2, d) pairs of consecutive steps; with ``target`` (the
    same shape), the second view of each pair is taken from it."""
    if z.ndim != 3 or z.shape[1] < 2:
        raise ValueError(f"objectives take pairs or sequences of shape (n, T >= 2, d), got {tuple(z.shape)}")
    later = z if target is None else target
    if later.shape != z.shape:
        raise ValueError(f"target {tuple(later.shape)} and encodings {tuple(z.shape)} differ in shape")
    return torch.stack([z[:, :-1], later[:, 1:]], 2).reshape(-1, 2, z.shape[-1])
