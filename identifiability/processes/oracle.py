"""The physical limit of filtering: the exact Kalman filter on the true latent model.

For a linear-Gaussian process z_{t+1} = A z_t + N(0, Q), z_0 ~ N(0, I), observed as x_t = g(z_t) +
sigma_x eps_t, no estimator of z_t from x_1..x_t does better (to first order in sigma_x) than the
Kalman filter on observations taken in latent coordinates, y_t = z_t + N(0, R), R the observation
noise pulled back through g (``MixedProcess.latent_observation_noise``). ``filter_oracle`` picks the
closed form or the particle filter for a process; ``LatentDynamics.baselines`` offers it as the
baseline "oracle" of every run on a linear-Gaussian process. Its error covariance does not
depend on the data, so the bound is a closed form: a covariance recursion.

Exact for linear g; first order only otherwise: where the pulled-back noise is not small against the
latents' unit variance (rows where g is nearly singular dominate its mean), the posterior is not
Gaussian and the closed form is no bound (measured on gauss_ar1, d = 4, 3 layers: at sigma_x = 0.1 it
gave 0.30, below a trained filter's 0.52). There ``particle_filter_r2`` estimates the bound: a
bootstrap particle filter on the true model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .mixing import MixedProcess


@dataclass(frozen=True)
class OracleR2:
    """The R^2 of the Bayes filter on the true model, from x_t alone (``per_frame``) and from x_1..x_T
    (``filtered``), with how it was computed (``method``). The exact Kalman filter's closed form is
    the best R^2 any estimator can reach; a particle filter's is a Monte-Carlo lower estimate of it,
    with its smallest effective sample size as a fraction of its particles and the standard error of
    each number over the sequences it ran on (None for a closed form)."""

    per_frame: float
    filtered: float
    method: str
    effective_sample_size: float | None = None
    standard_errors: tuple[float, float] | None = None

    @property
    def exact(self) -> bool:
        """Whether the numbers are the bound itself (a closed form), not an estimate of it."""
        return self.standard_errors is None

    def to_dict(self) -> dict[str, object]:
        return {"per_frame": self.per_frame, "filtered": self.filtered, "method": self.method, "exact": self.exact,
                "effective_sample_size": self.effective_sample_size,
                "standard_errors": None if self.standard_errors is None else list(self.standard_errors)}


def filter_oracle(
    process: MixedProcess, x: torch.Tensor, z: torch.Tensor, *, rows: int = 2000, sequences: int = 500,
    particles: int = 1000, seed: int = 0,
) -> OracleR2:
    """The Bayes filter's (per-frame, filtered) R^2 on the true model of a linear-Gaussian ``process``
    (its ``linear_gaussian`` (A, Q)) from held-out sequences x (n, T, ...) with latents z (n, T, d):
    the exact Kalman filter's closed form where g adds no non-Gaussianity (no observation noise, or a
    linear g; the pulled-back noise averaged over the first ``rows`` latents), else a bootstrap
    particle filter with ``particles`` particles on the first ``sequences`` sequences, from ``seed``."""
    model = process.linear_gaussian
    if model is None:
        raise ValueError(f"{process!r} is not linear-Gaussian: it has no Kalman filter on its true model")
    if not process.observation_noise or "linear_mixing" in process.assumptions:
        r = process.latent_observation_noise(z[:rows, 0].cpu())
        return OracleR2(*oracle_r2(*model, r, process.seq_len), method="exact Kalman filter")
    per_frame, filtered, ess, errors = particle_filter_r2(
        x[:sequences].flatten(2), z[:sequences], *model, process.mixing, process.observation_noise,
        particles=particles, seed=seed,
    )
    return OracleR2(per_frame, filtered, method=f"particle filter ({particles} particles)", effective_sample_size=ess,
                    standard_errors=errors)


def filtered_covariances(a: torch.Tensor, q: torch.Tensor, r: torch.Tensor, steps: int) -> torch.Tensor:
    """Error covariances of the Kalman filter's state after each of ``steps`` observations, (steps,
    d, d), for transition A, process noise Q, observation noise R (each (d, d)) and prior N(0, I)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    a, q, r = (m.double() for m in (a, q, r))
    predicted = torch.eye(a.shape[0], dtype=torch.float64)
    out = []
    for t in range(steps):
        if t:
            predicted = a @ out[-1] @ a.T + q
        gain = torch.linalg.solve(predicted + r, predicted).T  # P S^{-1} (P, S symmetric)
        out.append(predicted - gain @ predicted)
    return torch.stack(out)


def oracle_r2(a: torch.Tensor, q: torch.Tensor, r: torch.Tensor, steps: int) -> tuple[float, float]:
    """(per-frame, filtered) population R^2 of the exact filter, mean over latents: after the first
    observation alone, and after ``steps`` of them. The latents' stationary variance is 1 (the
    process starts at N(0, I) and is stationary), so R^2 = 1 - the error variance."""
    cov = filtered_covariances(a, q, r, steps).diagonal(dim1=-2, dim2=-1)
    return float(1 - cov[0].mean()), float(1 - cov[-1].mean())


def particle_filter_r2(
    x: torch.Tensor, z: torch.Tensor, a: torch.Tensor, q: torch.Tensor, observe: Callable[[torch.Tensor], torch.Tensor],
    noise: float, particles: int = 1000, seed: int = 0,
) -> tuple[float, float, float, tuple[float, float]]:
    """The Bayes filter on the true model where g makes the posterior non-Gaussian: a bootstrap
    particle filter on sequences x (n, T, D) with latents z (n, T, d) for z_0 ~ N(0, I), z' = A z +
    N(0, Q), x = observe(z) + N(0, noise^2 I). Returns the (per-frame, filtered) R^2 of its posterior
    means, 1 - the mean squared error (the latents' variance is 1): after the first observation, and
    after all T; the smallest effective sample size over steps, as a fraction of ``particles``; and
    the two R^2s' standard errors over the n sequences.

    A Monte-Carlo estimate of the bound (the posterior mean is the best estimator in squared error),
    biased low where the effective sample size is small: a posterior much narrower than the prior
    (little noise, large d) leaves few particles near it. Resampling is systematic, every step; the
    loop runs over time, batched over sequences and particles."""
    n, steps, d = z.shape
    gen = torch.Generator(device=x.device).manual_seed(seed)
    a, chol = a.to(x.device, torch.float64), torch.linalg.cholesky(q.to(x.device, torch.float64))
    state = torch.randn(n, particles, d, generator=gen, device=x.device, dtype=torch.float64)
    means, ess = [], []
    for t in range(steps):
        if t:
            state = _systematic_resample(state, weights, gen)
            state = state @ a.T + torch.randn(state.shape, generator=gen, device=x.device, dtype=torch.float64) @ chol.T
        predicted = observe(state.reshape(n * particles, d)).reshape(n, particles, -1).double()
        log_w = -0.5 * (predicted - x[:, t, None].double()).square().sum(-1) / noise**2
        weights = torch.softmax(log_w, -1)
        means.append((weights[..., None] * state).sum(1))
        ess.append((1 / weights.square().sum(-1)).mean() / particles)
    errors = [(m - z[:, t].double()).square().mean(-1) for t, m in ((0, means[0]), (steps - 1, means[-1]))]  # (n,) each
    standard_errors = (float(errors[0].std() / n**0.5), float(errors[1].std() / n**0.5)) if n > 1 else (float("nan"),) * 2
    return float(1 - errors[0].mean()), float(1 - errors[1].mean()), float(torch.stack(ess).min()), standard_errors


def _systematic_resample(state: torch.Tensor, weights: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Particles (n, P, d) drawn by systematic resampling of their weights (n, P): one uniform per row."""
    n, particles = weights.shape
    offsets = (torch.rand(n, 1, generator=gen, device=weights.device, dtype=weights.dtype)
               + torch.arange(particles, device=weights.device, dtype=weights.dtype)) / particles
    cumulative = weights.cumsum(-1)
    index = torch.searchsorted(cumulative, offsets).clamp_(max=particles - 1)
    return state.gather(1, index[..., None].expand(-1, -1, state.shape[-1]))
