"""The physical limit of filtering: the exact Kalman filter on the true latent model.

For a linear-Gaussian process z_{t+1} = A z_t + N(0, Q), z_0 ~ N(0, I), observed as x_t = g(z_t) +
sigma_x eps_t, no estimator of z_t from x_1..x_t does better (to first order in sigma_x) than the
Kalman filter on observations taken in latent coordinates, y_t = z_t + N(0, R), R the observation
noise pulled back through g (``MixedProcess.latent_observation_noise``). Its error covariance does not
depend on the data, so the bound is a closed form: a covariance recursion.

First order only: where the pulled-back noise is not small against the latents' unit variance (rows
where g is nearly singular dominate its mean), the posterior is not Gaussian and this is no bound
(measured on gauss_ar1, d = 4, 3 layers: at sigma_x = 0.1 the oracle's 0.30 sits below a trained
filter's 0.52). A particle filter on the true model would be the bound there; it is not built.
"""

from __future__ import annotations

import torch


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
