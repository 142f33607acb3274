"""Supervised references: the encoder told the true latents, what a budget reaches when told z."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .base import Objective, Readout
from .kalman_filter import KalmanFilterLDM


def _check_shapes(z: torch.Tensor, latents: torch.Tensor) -> None:
    if z.shape != latents.shape:
        raise ValueError(f"codes {tuple(z.shape)} and latents {tuple(latents.shape)} differ in shape")


class Supervised(Objective):
    """Mean squared error of the codes z_hat (n, T, d) against the true latents (n, T, d).

    Not an estimator (it reads z): a verdict shows it as a reference, what the same encoder reaches
    when told z at the same budget (not a bound: a self-supervised objective may train faster).
    """

    requires = frozenset({"latents"})

    def forward(self, z: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        _check_shapes(z, latents)
        return (z - latents).pow(2).sum(-1).mean()


class SupervisedFilter(Objective):
    """The reference of a filter's state: the encodings y (n, T, d) run through the Kalman filter of
    ``KalmanFilterLDM`` (same parametrisation and recursion), and the filtered means regressed on the
    true latents z_t at every step, encoder and filter together; its readout "state" is the filter's. What
    the same encoder and filter reach when told z, where a per-frame regression is capped by the
    per-frame oracle."""

    requires = frozenset({"latents"})

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.kalman = KalmanFilterLDM(dim)

    def forward(self, z: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        _check_shapes(z, latents)
        return (self.kalman.predictions(z)[2] - latents.to(z.dtype)).pow(2).sum(-1).mean()

    def readouts(
        self, encoder: nn.Module, x: torch.Tensor, z: torch.Tensor, fresh: Callable[[int], torch.Tensor]
    ) -> dict[str, Readout]:
        """"state": the filtered mean at the last step of each held-out sequence (the filter as trained)."""
        with torch.no_grad():
            return {"state": Readout(self.kalman.filtered(encoder(x)), z[:, -1], x[:, -1].flatten(1))}
