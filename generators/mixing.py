"""Invertible MLP mixing maps g: R^d -> R^d (Hyvarinen & Morioka; Zimmermann et al. 2021)."""

from __future__ import annotations

import torch

from .random import as_generator


def _random_columns(count: int, dim: int, gen: torch.Generator) -> torch.Tensor:
    """(count, dim, dim) matrices with U[-1, 1] columns scaled to unit L2 norm."""
    w = torch.rand(count, dim, dim, generator=gen, dtype=torch.float64) * 2 - 1
    return w / w.norm(dim=-2, keepdim=True)


def well_conditioned_matrices(
    n_matrices: int,
    dim: int,
    seed: int,
    *,
    quantile: float = 0.25,
    n_reference: int = 10_000,
) -> tuple[torch.Tensor, float]:
    """Square random matrices whose condition numbers lie below a threshold.

    The threshold is the ``quantile`` of the condition numbers of ``n_reference`` draws, and each
    matrix is redrawn until it falls below it (the recipe of Hyvarinen & Morioka's TCL/PCL code).

    Returns:
        (n_matrices, dim, dim) float64 matrices and the threshold.
    """
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile must lie in (0, 1], got {quantile}")
    gen = as_generator(seed)
    reference = torch.linalg.cond(_random_columns(n_reference, dim, gen))
    threshold = float(torch.quantile(reference, quantile))
    accepted: list[torch.Tensor] = []
    while len(accepted) < n_matrices:
        candidates = _random_columns(64, dim, gen)
        accepted.extend(candidates[torch.linalg.cond(candidates) <= threshold])
    return torch.stack(accepted[:n_matrices]), threshold


class MLPMixing:
    """g(z) = W_L a(... a(W_1 z)): square, well-conditioned weights, leaky-ReLU ``a`` between layers.

    ``n_layers = 0`` is the identity; ``n_layers = 1`` is linear mixing. The weights are fixed by
    ``seed`` and stored in float64; calls run in the input's dtype and device.
    """

    def __init__(
        self, dim: int, n_layers: int = 3, *, slope: float = 0.2, seed: int = 0, quantile: float = 0.25
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        if n_layers < 0:
            raise ValueError(f"n_layers must be non-negative, got {n_layers}")
        if not 0 < slope <= 1:
            raise ValueError(f"slope must lie in (0, 1] for the map to be invertible, got {slope}")
        self.dim, self.n_layers, self.slope = dim, n_layers, slope
        if n_layers:
            self.weights, self.threshold = well_conditioned_matrices(n_layers, dim, seed, quantile=quantile)
        else:
            self.weights, self.threshold = torch.empty(0, dim, dim, dtype=torch.float64), 1.0
        self._inverses = torch.linalg.inv(self.weights)

    @property
    def condition_numbers(self) -> torch.Tensor:
        """(n_layers,) condition numbers of the weight matrices."""
        return torch.linalg.cond(self.weights)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """(..., d) latents -> (..., d) observations."""
        weights = self.weights.to(z)
        for i, w in enumerate(weights):
            z = z @ w.T
            if i < self.n_layers - 1:
                z = torch.nn.functional.leaky_relu(z, self.slope)
        return z

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """(..., d) observations -> (..., d) latents; ``inverse(g(z)) == z``."""
        inverses = self._inverses.to(x)
        for i in reversed(range(self.n_layers)):
            if i < self.n_layers - 1:
                x = torch.where(x > 0, x, x / self.slope)
            x = x @ inverses[i].T
        return x

    def __repr__(self) -> str:
        return f"MLPMixing(dim={self.dim}, n_layers={self.n_layers}, slope={self.slope})"
