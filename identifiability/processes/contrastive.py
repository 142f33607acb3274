"""Positive pairs of Zimmermann et al. (2021): z from a marginal, z' | z from a conditional, x = g(z)."""

from __future__ import annotations

from typing import Literal

import torch

from identifiability._core import MAX_CONCENTRATION, Seed, as_generator, check_choice, check_float, check_int, check_seed, derive_seed

from .batch import Batch, check_draw
from .laws import Law, first_accepted, sample_standard
from .mixing import MixedProcess
from .sphere import sample_vmf, uniform_sphere

Space = Literal["sphere", "box", "real"]
# Candidate steps per coordinate on a truncating box: a step of scale <= 1 from a wall stays inside
# with probability at least 0.34, so all 64 leave with probability below 1e-11 (then the first
# candidate is kept, outside); larger scales make truncation a poor choice, reflect instead.
TRUNCATION_CANDIDATES = 64
_VALID = {
    "sphere": ({"uniform"}, {"vmf"}),
    "box": ({"uniform"}, {"gaussian", "laplace", "gennorm"}),
    "real": ({"gaussian", "laplace", "uniform"}, {"gaussian", "laplace", "gennorm"}),
}


def reflect_into_unit_box(y: torch.Tensor) -> torch.Tensor:
    """Fold values into [0, 1] by reflection at the walls; a symmetric kernel folded this way
    keeps the uniform law on the box stationary."""
    y = torch.remainder(y, 2.0)
    return torch.where(y > 1, 2 - y, y)


class ContrastivePairs(MixedProcess):
    """Pairs (x, x') = (g(z), g(z')) with z from ``marginal`` on ``space`` and z' | z from ``conditional``.

    Args:
        latent_dim: d (at least 2 on the sphere).
        space: "sphere" (S^{d-1}), "box" ([0, 1]^d) or "real" (R^d).
        marginal: law of z: "uniform" on the sphere and box; "gaussian", "laplace" or "uniform"
            (standardised) on R^d.
        conditional: law of z' - z: "vmf" on the sphere (concentration ``kappa``, exact sampling by
            Wood's algorithm); "gaussian", "laplace" or "gennorm" (shape ``beta``) with standard
            deviation ``scale`` on the box and R^d.
        boundary: on the box, "reflect" folds z' back at the walls (the uniform marginal stays
            exact); "truncate" redraws coordinates that leave it (z' then is only close to uniform).
        mixing_layers, observed_dim, seed: as in ``NonlinearICA``.
    """

    def __init__(
        self,
        latent_dim: int = 5,
        kappa: float = 10.0,
        mixing_layers: int = 3,
        seed: int = 0,
        *,
        space: Space = "sphere",
        marginal: str = "uniform",
        conditional: str | None = None,
        scale: float = 0.1,
        beta: float = 2.0,
        boundary: Literal["reflect", "truncate"] = "reflect",
        observed_dim: int | None = None,
    ) -> None:
        check_choice("space", space, _VALID)
        conditional = conditional or ("vmf" if space == "sphere" else "gaussian")
        marginals, conditionals = _VALID[space]
        check_choice("marginal", marginal, sorted(marginals))
        check_choice("conditional", conditional, sorted(conditionals))
        check_choice("boundary", boundary, ("reflect", "truncate"))
        self.latent_dim = check_int("latent_dim", latent_dim, low=2 if space == "sphere" else 1)
        self.kappa = check_float("kappa", kappa, low=0, high=MAX_CONCENTRATION, low_open=True)
        self.scale = check_float("scale", scale, low=0, low_open=True)
        self.beta = check_float("beta", beta, low=0, low_open=True)
        self.seed = check_seed("seed", seed)
        self.space, self.marginal, self.conditional, self.boundary = space, marginal, conditional, boundary
        self.mixing = self.make_mixing(latent_dim, mixing_layers, observed_dim=observed_dim, seed=derive_seed(seed, "mixing"))

    @property
    def latent_geometry(self) -> str:  # type: ignore[override]
        """Where z lives: "sphere" (unit vectors) or "plane" (the box and R^d)."""
        return "sphere" if self.space == "sphere" else "plane"

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Names of the properties this process satisfies, for claims to check."""
        mixing = self.mixing.assumptions
        return (f"{self.space}_latents", f"{self.marginal}_marginal", f"{self.conditional}_conditional", *mixing)

    def _marginal(self, n: int, gen: torch.Generator) -> torch.Tensor:
        if self.space == "sphere":
            return uniform_sphere(n, self.latent_dim, gen)
        if self.space == "box":
            return torch.rand(n, self.latent_dim, generator=gen, device=gen.device, dtype=torch.float64)
        return sample_standard(self.marginal, (n, self.latent_dim), gen)  # type: ignore[arg-type]

    def _step(self, z: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        law: Law = self.conditional  # type: ignore[assignment]
        if self.space == "sphere":
            return sample_vmf(z, self.kappa, gen)
        step = lambda shape: self.scale * sample_standard(law, shape, gen, beta=self.beta)  # noqa: E731
        if self.space == "real":
            return z + step(z.shape)
        if self.boundary == "reflect":
            return reflect_into_unit_box(z + step(z.shape))
        # truncation: TRUNCATION_CANDIDATES steps per coordinate at once, the first that stays inside
        candidates = z.reshape(-1, 1) + step((z.numel(), TRUNCATION_CANDIDATES))
        return first_accepted(candidates, (candidates >= 0) & (candidates <= 1)).reshape(z.shape)

    def sample(
        self, n: int, seed: Seed, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> Batch:
        """n pairs: ``x`` (n, 2, D) and ``z`` (n, 2, d), on ``device`` in ``dtype``."""
        check_draw(n, 2 * (self.latent_dim + self.observed_dim), device)
        gen = as_generator(seed, device)
        z = self._marginal(n, gen)
        z = torch.stack([z, self._step(z, gen)], dim=1).to(dtype)
        return Batch(x=self.mixing(z), z=z)

    def __repr__(self) -> str:
        law = f"kappa={self.kappa:g}" if self.space == "sphere" else f"{self.conditional}, scale={self.scale:g}"
        return (
            f"ContrastivePairs(latent_dim={self.latent_dim}, space={self.space!r}, {law}, "
            f"mixing_layers={self.mixing.n_layers}, seed={self.seed})"
        )
