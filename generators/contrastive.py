"""Positive pairs of Zimmermann et al. (2021): z uniform on the sphere, z' | z ~ vMF(z, kappa)."""

from __future__ import annotations

import torch

from .batch import Batch
from .mixing import MLPMixing
from .random import Seed, as_generator, derive_seed
from .sphere import sample_vmf, uniform_sphere


class ContrastivePairs:
    """Pairs (x, x') = (g(z), g(z')) with z ~ U(S^{d-1}) and z' | z ~ vMF(z, kappa).

    Args:
        latent_dim: d, at least 2.
        kappa: concentration of the positive conditional; larger is closer pairs.
        mixing_layers: depth L of the invertible leaky-ReLU MLP g (0: identity).
        seed: fixes the mechanism g; the sample stream is chosen per call of ``sample``.
    """

    assumptions = ("sphere_latents", "uniform_marginal", "vmf_conditional", "invertible_mixing")

    def __init__(self, latent_dim: int = 5, kappa: float = 10.0, mixing_layers: int = 3, seed: int = 0) -> None:
        if latent_dim < 2:
            raise ValueError(f"latent_dim must be at least 2 on the sphere, got {latent_dim}")
        if not kappa > 0:
            raise ValueError(f"kappa must be positive, got {kappa}")
        self.latent_dim, self.kappa, self.seed = latent_dim, float(kappa), seed
        self.mixing = MLPMixing(latent_dim, mixing_layers, seed=derive_seed(seed, "mixing"))

    @property
    def observed_dim(self) -> int:
        """D, the dimension of x."""
        return self.latent_dim

    def sample(
        self, n: int, seed: Seed, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> Batch:
        """n pairs: ``x`` (n, 2, D) and ``z`` (n, 2, d), on ``device`` in ``dtype``."""
        gen = as_generator(seed, device)
        z = uniform_sphere(n, self.latent_dim, gen)
        z = torch.stack([z, sample_vmf(z, self.kappa, gen)], dim=1).to(dtype)
        return Batch(x=self.mixing(z), z=z)

    def __repr__(self) -> str:
        return (
            f"ContrastivePairs(latent_dim={self.latent_dim}, kappa={self.kappa:g}, "
            f"mixing_layers={self.mixing.n_layers}, seed={self.seed})"
        )
