"""InfoNCE: a latent model of positive pairs with the KDE entropy estimator (Zimmermann et al. 2021)."""

from __future__ import annotations

from typing import Literal

import torch


class InfoNCE:
    """-< log softmax_j(s(z_i, z'_j) / tau) at j = i >: positives against in-batch negatives.

    ``similarity="cosine"`` takes s(a, b) = a^T b on unit-norm embeddings: the vMF (sphere) latent
    model exp(z^T z' / tau). ``similarity="euclidean"`` takes s(a, b) = -|a - b|^2: the Gaussian
    (plane) latent model. Either way the negatives are the kernel centres of a density estimate.

    Args:
        temperature: tau > 0; tau = 1 / kappa matches a vMF(kappa) conditional.
        similarity: "cosine" or "euclidean".
    """

    def __init__(self, temperature: float = 0.1, similarity: Literal["cosine", "euclidean"] = "cosine") -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if similarity not in ("cosine", "euclidean"):
            raise ValueError(f"similarity must be cosine or euclidean, got {similarity!r}")
        self.temperature, self.similarity = float(temperature), similarity

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """Scalar loss of a batch of embedded pairs z: (n, 2, d)."""
        if z.ndim != 3 or z.shape[1] != 2:
            raise ValueError(f"InfoNCE takes pairs of shape (n, 2, d), got {tuple(z.shape)}")
        a, b = z[:, 0], z[:, 1]
        if self.similarity == "cosine":
            logits = a @ b.T
        else:
            logits = 2 * a @ b.T - (a * a).sum(1, keepdim=True) - (b * b).sum(1)
        target = torch.arange(z.shape[0], device=z.device)
        return torch.nn.functional.cross_entropy(logits / self.temperature, target)

    def __repr__(self) -> str:
        return f"InfoNCE(temperature={self.temperature:g}, similarity={self.similarity!r})"
