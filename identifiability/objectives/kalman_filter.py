"""Kalman-predictive LDM on sequences: a sampling-free Bayesian filter over the encodings (seed 001)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import Objective
from .entropy import EntropyEstimator, LogDet
from .latent_models import KalmanPredictive


class KalmanFilterLDM(Objective):
    """The encodings y_t = f(x_t) are pseudo-observations of a linear-Gaussian state model
    s_{t+1} = A s_t + b + N(0, Q), y_t = s_t + N(0, R), s_0 ~ N(0, I). A Kalman filter runs the
    predict / update recursion; the loss is the negative log-likelihood of each stop-gradient
    encoding under its one-step prediction N(A m_{t-1} + b, A P A^T + Q + R) (the plug-in of the
    conditional entropy), minus the marginal log-density log N(y_t; 0, I) and the entropy estimate
    of the encodings' marginal, averaged over the T steps (n samples each).

    The covariance recursion does not depend on the data, so P_t is one (d, d) matrix per step
    shared by every sequence, and only the means are batched: a loop over time, never over samples.

    Args:
        dim: d.
        entropy: the marginal entropy estimator (log-det by default).
        learn_noise: learn Q (else Q = I).
    """

    def __init__(
        self, dim: int, entropy: EntropyEstimator | None = None, rho_max: float = 0.999, learn_noise: bool = True
    ) -> None:
        super().__init__()
        self.latent_model = KalmanPredictive(dim, rho_max, learn_noise=learn_noise)
        self.entropy = entropy if entropy is not None else LogDet()
        self.raw_obs_chol = nn.Parameter(torch.full((dim,), -2.0))  # diagonal R, softplus-parametrised
        self.requires = frozenset({"log_volume"}) if self.entropy.needs_log_volume else frozenset()


    @property
    def observation_noise(self) -> torch.Tensor:
        """R, (d, d) diagonal."""
        return torch.diag(nn.functional.softplus(self.raw_obs_chol) ** 2 + 1e-6)

    def filter(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Filtered means (n, T, d) and one-step negative log-likelihoods (n, T) of y (n, T, d)."""
        n, steps, d = y.shape
        y = y.float() if y.dtype in (torch.float16, torch.bfloat16) else y
        model = self.latent_model
        a, b, q, r = model.transition, model.bias, model.noise, self.observation_noise
        target = y.detach()
        mean = y.new_zeros(n, d)
        cov = torch.eye(d, dtype=y.dtype, device=y.device)
        means, nlls = [], []
        for t in range(steps):
            if t:
                mean = mean @ a.T + b
                cov = a @ cov @ a.T + q
            chol = torch.linalg.cholesky_ex(cov + r)[0]  # positive definite by construction; no host check
            white = torch.linalg.solve_triangular(chol, (target[:, t] - mean).T, upper=False).T
            nlls.append(0.5 * (white**2).sum(-1) + chol.diagonal().log().sum() + 0.5 * d * math.log(2 * math.pi))
            gain = torch.cholesky_solve(cov, chol).T  # K = P S^{-1}
            mean = mean + (y[:, t] - mean) @ gain.T
            cov = cov - gain @ (cov + r) @ gain.T
            means.append(mean)
        return torch.stack(means, 1), torch.stack(nlls, 1)

    def filtered(self, z: torch.Tensor) -> torch.Tensor:
        """The filtered mean at the last step, (n, d)."""
        return self.filter(z)[0][:, -1]

    def forward(self, z: torch.Tensor, log_volume: torch.Tensor | None = None) -> torch.Tensor:
        """Scalar loss for encodings z (n, T, d)."""
        _, nll = self.filter(z)
        # H[z, z'] = H[z] + H[z' | z]: the conditional part is the stop-gradient likelihood above
        # (the plug-in), the marginal part an estimate from the encodings with its own kernel, held
        # in scale by the marginal N(0, I). An estimate under the transition kernel would grow
        # without bound as predictions worsen (measured: the loss ran to -1e22). The marginal is
        # estimated per step and averaged: T estimates on n samples cost T n^2, one on n T, (n T)^2.
        steps = range(z.shape[1])
        entropy = sum(
            self.entropy(z[:, t], log_volume=None if log_volume is None else log_volume[:, t]) for t in steps
        ) / len(steps)
        marginal = self.latent_model.marginal_log_prob(z.reshape(-1, z.shape[-1])).mean()
        return nll.mean() - marginal - entropy
