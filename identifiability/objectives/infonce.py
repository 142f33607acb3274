"""InfoNCE: the sphere latent model with the KDE entropy estimator (Zimmermann et al. 2021)."""

from __future__ import annotations

import torch


class InfoNCE:
    """-< log softmax_j(z_i^T z'_j / tau) at j = i >: alignment of positives against in-batch negatives.

    On unit-norm embeddings this is the vMF latent model exp(z^T z' / tau) with a kernel-density
    entropy estimate whose centres are the other pairs' second views.

    Args:
        temperature: tau > 0; tau = 1 / kappa matches a vMF(kappa) conditional.
    """

    def __init__(self, temperature: float = 0.1) -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = float(temperature)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """Scalar loss of a batch of embedded pairs z: (n, 2, d)."""
        if z.ndim != 3 or z.shape[1] != 2:
            raise ValueError(f"InfoNCE takes pairs of shape (n, 2, d), got {tuple(z.shape)}")
        logits = z[:, 0] @ z[:, 1].T / self.temperature
        return torch.nn.functional.cross_entropy(logits, torch.arange(z.shape[0], device=z.device))

    def __repr__(self) -> str:
        return f"InfoNCE(temperature={self.temperature:g})"
