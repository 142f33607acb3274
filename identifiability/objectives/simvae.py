"""SimVAE (seed 003): the views of one item as draws of a hierarchical latent-variable model,
fitted by an ELBO instead of a discriminative SSL loss."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from identifiability._core import check_float, check_int, on_device

from .base import Objective
from .networks import mlp


class SimVAE(Objective):
    """Loss = -ELBO per item of J views x_1..x_J (the T steps of a batch), with

        y ~ N(0, (1 - s^2) I),  z_j | y ~ N(y, s^2 I),  x_j | z_j ~ N(g(z_j), diag sigma_x^2),

    so every z_j is N(0, I) and two views of one item correlate 1 - s^2 per coordinate; y is
    integrated out in closed form. The posterior of each view is q(z_j | x_j) = N(f(x_j),
    diag sigma_q^2(f(x_j))): the encoder's output is its mean (the representation that is scored),
    a small head on that mean gives its scale. One reparameterised draw per view and step.

    Args:
        dim: d.
        observed_dim: D, the number of entries of one flattened observation x_j.
        view_variance: s^2 in (0, 1]; 1 makes the views independent (a plain VAE).
        learn_view_variance: fit s^2 by the ELBO too (it must then start below 1).
        decoder: g, (..., d) -> (..., D); default a leaky-ReLU MLP with ``hidden`` widths.
        hidden: the default decoder's hidden widths.
        noise_scale: the initial sigma_x, learned per observed entry unless ``learn_noise`` is off.
        seed: fixes the posterior draws.
    """

    requires = frozenset({"observations"})

    def __init__(
        self,
        dim: int,
        observed_dim: int,
        *,
        view_variance: float = 0.1,
        decoder: nn.Module | None = None,
        hidden: Sequence[int] = (128, 128),
        learn_view_variance: bool = False,
        noise_scale: float = 0.1,
        learn_noise: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_int("dim", dim, low=1)
        check_int("observed_dim", observed_dim, low=1)
        check_float("view_variance", view_variance, low=0, high=1, low_open=True)
        check_float("noise_scale", noise_scale, low=0, low_open=True)
        if learn_view_variance and view_variance == 1:
            raise ValueError("a learned view_variance must start inside (0, 1), got 1")
        self.dim, self.observed_dim = dim, observed_dim
        logit = torch.tensor(math.inf if view_variance == 1 else math.log(view_variance / (1 - view_variance)))
        if learn_view_variance:
            self.view_logit = nn.Parameter(logit)
        else:
            self.register_buffer("view_logit", logit)
        self.decoder = mlp(dim, observed_dim, hidden) if decoder is None else decoder
        self.posterior_scale = mlp(dim, dim, zero_last=True)
        nn.init.constant_(self.posterior_scale[-1].bias, math.log(0.1))
        log_noise = torch.full((observed_dim,), math.log(noise_scale))
        if learn_noise:
            self.log_noise = nn.Parameter(log_noise)
        else:
            self.register_buffer("log_noise", log_noise)
        self._gen = torch.Generator().manual_seed(seed)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z_1..z_J) with y integrated out: z (..., J, d) -> (...).

        Per coordinate the J values are N(0, C) with C = s^2 I + (1 - s^2) 1 1^T, whose
        determinant and inverse have closed forms (a rank-one update of a scaled identity).
        """
        j, d = z.shape[-2:]
        logit = self.view_logit.to(z.dtype)
        log_s2 = -nn.functional.softplus(-logit)  # log sigmoid: exact at s^2 = 1 (logit +inf)
        s2, a = log_s2.exp(), torch.sigmoid(-logit)  # a = 1 - s^2, the variance of the shared content y
        log_det = (j - 1) * log_s2 + torch.log(s2 + j * a)
        quadratic = (z.square().sum(-2) - a * z.sum(-2).square() / (s2 + j * a)) / s2  # (..., d)
        return -0.5 * (quadratic.sum(-1) + d * (log_det + j * math.log(2 * math.pi)))

    @property
    def view_variance(self) -> float:
        """s^2, the variance of a view's latent around the item's content."""
        return float(torch.sigmoid(self.view_logit.detach()))

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) summed over views and entries: x (..., J, D), z (..., J, d) -> (...)."""
        residual = (x - self.decoder(z)) * torch.exp(-self.log_noise)
        return -(0.5 * residual.square() + self.log_noise + 0.5 * math.log(2 * math.pi)).sum((-2, -1))

    def elbo(
        self, x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor, samples: int = 1,
        generator: torch.Generator | None = None, noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """ELBO estimates log p(x, z) - log q(z | x) at ``samples`` draws z ~ q per item.

        Args:
            x: (n, J, D) flattened views.
            mean, log_scale: (n, J, d) the posterior's parameters per view.
            generator: the stream of the draws (this objective's own by default);
            noise: the standard normal draws themselves, (samples, n, J, d), in its place.
        Returns:
            (samples, n); each row's expectation is the ELBO, log p(x) - KL(q || p(z | x)).
        """
        eps = self._normal((samples, *mean.shape), mean.device, mean.dtype, generator) if noise is None else noise
        if eps.shape[1:] != mean.shape:
            raise ValueError(f"the posterior draws must have shape (samples, {', '.join(map(str, mean.shape))}), got {tuple(eps.shape)}")
        z = mean + torch.exp(log_scale) * eps
        log_q = -(0.5 * eps.square() + log_scale + 0.5 * math.log(2 * math.pi)).sum((-2, -1))
        return self.log_likelihood(x, z) + self.log_prior(z) - log_q

    def draw_noise(self, shape: tuple[int, int], device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
        """The posterior draw of one step's ELBO for a batch of ``shape`` (n, J) views: (1, n, J, d)."""
        return self._normal((1, *shape, self.dim), device, dtype)

    def _normal(self, shape: tuple[int, ...], device: torch.device | str, dtype: torch.dtype,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal draws from ``generator``, else from this objective's own stream."""
        gen = on_device(self._gen if generator is None else generator, device)
        if generator is None:
            self._gen = gen
        return torch.randn(shape, generator=gen, device=device, dtype=dtype)

    def forward(self, z: torch.Tensor, observations: torch.Tensor | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Scalar loss -ELBO / J from the encodings z (n, J, d) of the observations (n, J, ...), at the
        posterior draw ``noise`` (``draw_noise``; drawn here where not given)."""
        if observations is None:
            raise ValueError("SimVAE reconstructs its views: pass the observations the encodings came from")
        if z.ndim != 3 or observations.shape[:2] != z.shape[:2]:
            raise ValueError(f"need z (n, J, d) and observations (n, J, ...) with matching (n, J), got "
                             f"{tuple(z.shape)} and {tuple(observations.shape)}")
        x = observations.flatten(2).to(z.dtype)
        if x.shape[-1] != self.observed_dim:
            raise ValueError(f"observations have {x.shape[-1]} entries per view, the decoder makes {self.observed_dim}")
        return -self.elbo(x, z, self.posterior_scale(z), noise=noise).mean() / z.shape[1]

    def extra_repr(self) -> str:
        return f"dim={self.dim}, observed_dim={self.observed_dim}, view_variance={self.view_variance:.3g}"
