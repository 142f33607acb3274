"""Views of von Kugelgen et al. (2021): a content block both views share, a style block changed on a
random subset, x = g(c, s) and x' = g(c, s')."""

from __future__ import annotations

import math

import torch

from identifiability._core import Seed, as_generator, check_float, check_int, check_seed, derive_seed

from .batch import Batch, check_draw
from .mixing import MAX_OBSERVATION_NOISE, MixedProcess


class ContentStyle(MixedProcess):
    """Pairs whose latents z = (c, s) keep the content c and change the style s on a random subset.

    c ~ N(0, I_{n_c}); s = a C c + sqrt(1 - a^2) e with e ~ N(0, I_{n_s}), a the ``dependence`` and C
    a fixed map with unit rows, so every latent is N(0, 1) and the style is independent of the
    content at a = 0. The second view redraws each style latent from p(s_i | c) with probability
    ``change`` (the subset differs between pairs) and keeps the rest; ``r`` marks the redrawn ones.

    Args:
        latent_dim: d = n_c + n_s.
        content_dim: n_c, the first n_c latents (at least 1, fewer than d).
        change: the probability that a style latent is redrawn in the second view.
        dependence: a in [0, 1), how much of the style is a linear function of the content.
        mixing_layers, observed_dim, observation_noise, seed: as in ``NonlinearICA``.
    """

    seq_len = 2

    def __init__(
        self,
        latent_dim: int = 5,
        content_dim: int = 3,
        *,
        change: float = 0.75,
        dependence: float = 0.0,
        mixing_layers: int = 3,
        observed_dim: int | None = None,
        observation_noise: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.latent_dim = check_int("latent_dim", latent_dim, low=2)
        self.content_dim = check_int("content_dim", content_dim, low=1, high=latent_dim - 1)
        self.change = check_float("change", change, low=0, high=1, low_open=True)
        self.dependence = check_float("dependence", dependence, low=0, high=1, high_open=True)
        self.observation_noise = check_float("observation_noise", observation_noise, low=0, high=MAX_OBSERVATION_NOISE)
        self.seed = check_seed("seed", seed)
        self.mixing = self.make_mixing(latent_dim, mixing_layers, observed_dim=observed_dim, seed=derive_seed(seed, "mixing"))
        gen = as_generator(derive_seed(seed, "style"))
        self.style_draw = torch.randn(self.style_dim, content_dim, generator=gen, dtype=torch.float64)
        self._style_map = self.style_draw / self.style_draw.norm(dim=1, keepdim=True)

    @property
    def style_dim(self) -> int:
        """n_s = d - n_c."""
        return self.latent_dim - self.content_dim

    @property
    def style_map(self) -> torch.Tensor:
        """(n_s, n_c) C: ``style_draw``'s rows at unit norm."""
        return self._style_map

    @property
    def content(self) -> tuple[int, ...]:
        """The columns of z that hold the content."""
        return tuple(range(self.content_dim))

    @property
    def action_dim(self) -> int:  # type: ignore[override]
        """Features per pair of ``batch.r``: which style latents were redrawn."""
        return self.style_dim

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Names of the properties this process satisfies, for claims to check."""
        style = "independent_style" if self.dependence == 0 else "dependent_style"
        return ("content_style", style, *self.mixing.assumptions, *self._noise_assumptions())

    def _style(self, c: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Draws of s | c (n, n_s) for content c (n, n_c)."""
        e = torch.randn(len(c), self.style_dim, generator=gen, device=gen.device, dtype=torch.float64)
        a = self.dependence
        return a * c @ self.style_map.to(c.device).T + math.sqrt(1 - a * a) * e

    def sample(
        self, n: int, seed: Seed, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> Batch:
        """n pairs: ``x`` (n, 2, D), ``z`` (n, 2, d) (content first), ``r`` (n, 1, n_s) the redrawn style latents."""
        check_draw(n, 2 * (self.latent_dim + self.observed_dim), device)
        gen = as_generator(seed, device)
        c = torch.randn(n, self.content_dim, generator=gen, device=gen.device, dtype=torch.float64)
        s = self._style(c, gen)
        redrawn = torch.rand(s.shape, generator=gen, device=gen.device, dtype=torch.float64) < self.change
        s2 = torch.where(redrawn, self._style(c, gen), s)
        z = torch.stack([torch.cat([c, s], -1), torch.cat([c, s2], -1)], 1).to(dtype)
        return Batch(x=self.observe(z, gen), z=z, r=redrawn[:, None])

    def __repr__(self) -> str:
        return (f"ContentStyle(latent_dim={self.latent_dim}, content_dim={self.content_dim}, change={self.change:g}, "
                f"dependence={self.dependence:g}, mixing_layers={self.mixing.n_layers}{self._noise_repr()}, seed={self.seed})")
