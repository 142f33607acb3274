"""The entropy + reconstruction (ER) bound (seed 004): I[z; z'] >= H[z'] + < log q(z' | z) >."""

from __future__ import annotations

import torch

from .base import Objective, consecutive_pairs
from .entropy import EntropyEstimator
from .latent_models import LatentModel


class EntropyReconstruction(Objective):
    """Loss -(H[z'] + < log q(z' | z) >): a learned reconstruction q (any latent model's
    conditional, e.g. ``NonlinearPredictive``) and any entropy estimator for the target marginal.

    Unlike LDM it has no marginal model for z and a single marginal entropy: it is a lower bound
    on the mutual information of the pair, which it maximises.
    """

    def __init__(self, latent_model: LatentModel, entropy: EntropyEstimator) -> None:
        super().__init__()
        self.latent_model, self.entropy = latent_model, entropy

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        pairs = consecutive_pairs(z)
        reconstruction = self.latent_model.log_prob(pairs[:, 0], pairs[:, 1]).mean()
        return -(self.entropy(pairs[:, 1], latent_model=None) + reconstruction)
