"""Kalman-predictive LDM on sequences: a sampling-free Bayesian filter over the encodings (seed 001)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from identifiability._core import check_choice

from .base import Objective, Readout
from .latent_models import KalmanPredictive, no_half, squared_distances


class KalmanFilterLDM(Objective):
    """The encodings y_t = f(x_t) (n, T, d) are pseudo-observations of a linear-Gaussian state model
    s_{t+1} = A s_t + b + N(0, Q), y_t = s_t + N(0, R), s_0 ~ N(0, I). A Kalman filter runs the
    predict / update recursion, which gives each y_t a predictive law N(m_t, S_t) from y_1..y_{t-1},
    S_t = A P_{t-1} A^T + Q + R, and a filtered state E[s_t | y_1..y_t].

    Two terms, each training its own part:

    - the encoder: latent distribution matching with the filter's predictive law as the transition,
      -E[log N(y_t; m_t, S_t)] - H[y_t | y_<t] - E[log N(y_t; 0, I)] over t >= 1, the conditional
      entropy estimated contrastively under the same kernel (-<log (1/n) sum_j N(y_t^j; m_t^i, S_t)>,
      every other sequence's prediction a centre) and the marginal N(0, I) fixing the scale; the
      filter's parameters are held fixed in it;
    - the filter (A, b, Q, R): the exact sequence likelihood of the encodings, -sum_t log N(y_t;
      m_t, S_t), the encodings held fixed.

    The split is what makes the filter filter: trained by the contrastive term, R goes to its floor
    (a sharper kernel always separates the sequences better) and the filtered state is the last
    encoding (measured on gauss_ar1 with observation noise: filtered R^2 = per-frame R^2 to 0.002);
    fitted by likelihood, R and Q are the noise the codes carry and the filtered state reaches the
    exact filter's R^2 (0.943 against the oracle's 0.944, per frame 0.915). With P = 0 and R = 0 the
    first term is the pair method ``kalman`` on (y_{t-1}, y_t).

    The likelihood moves Adam's parameters slowly (Q from its start at I by about a factor e^2 per
    1000 steps at lr 3e-3), so ``calibrate`` refits the filter to convergence on encodings of fresh
    sequences before its state is scored. The covariance recursion does not depend on the data: P_t
    and S_t are one (d, d) matrix per step shared by every sequence and only the means are batched;
    a loop over time, never over samples, and no host synchronisation.

    With an invertible encoder (``entropy="exact"``) the entropy is exact, H[y_0..y_T] = H[x_0..x_T]
    + sum_t <log-volume of f at x_t>, and the loss is one likelihood: -log p(y_0..y_T) under the filter
    (its prediction-error decomposition) minus the log-volumes, the exact negative log-likelihood of the
    observed sequences under x = f^{-1}(y), y from the state model (up to the constant H[x]); encoder
    and filter both descend it.

    Args:
        dim: d.
        rho_max: bound on A's spectral norm.
        entropy: "contrastive" (any encoder) or "exact" (an encoder with a log-volume).
    """

    def __init__(self, dim: int, rho_max: float = 0.999, entropy: str = "contrastive") -> None:
        super().__init__()
        self.entropy = check_choice("entropy", entropy, ("contrastive", "exact"))
        self.requires = frozenset({"log_volume"}) if entropy == "exact" else frozenset()
        self.latent_model = KalmanPredictive(dim, rho_max, learn_noise=True)
        self.log_obs_std = nn.Parameter(torch.full((dim,), -2.0))  # diagonal R = exp(2 log_obs_std)

    @property
    def observation_noise(self) -> torch.Tensor:
        """R, (d, d) diagonal."""
        return torch.diag(torch.exp(2 * self.log_obs_std) + 1e-6)

    def covariance_recursion(self, steps: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The filter's data-free part for ``steps`` steps: its parameters A (d, d) and b (d,), and, in
        ``like``'s dtype and on its device, the Cholesky factors of the predictive covariances S_t (T, d, d)
        and the Kalman gains K_t (T, d, d)."""
        model = self.latent_model
        a, q, r = model.transition, model.noise, self.observation_noise
        cov = torch.eye(a.shape[0], dtype=like.dtype, device=like.device)
        chols, gains = [], []
        for t in range(steps):
            if t:
                cov = a @ cov @ a.T + q
            chol = torch.linalg.cholesky_ex(cov + r)[0]  # positive definite by construction; no host check
            gain = torch.cholesky_solve(cov, chol).T  # K = P S^{-1}
            cov = cov - gain @ (cov + r) @ gain.T
            chols.append(chol)
            gains.append(gain)
        return a, model.bias, torch.stack(chols), torch.stack(gains)

    def predictions(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The filter on y (n, T, d): predictive means (n, T, d), Cholesky factors of the predictive
        covariances S_t (T, d, d), and filtered means (n, T, d)."""
        y = no_half(y)
        a, b, chols, gains = self.covariance_recursion(y.shape[1], y)
        predicted, filtered = _means(y, a, b, gains)
        return predicted, chols, filtered

    def filter(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Filtered means (n, T, d) and one-step negative log-likelihoods -log N(y_t; m_t, S_t) (n, T)."""
        predicted, chols, filtered = self.predictions(y)
        return filtered, -_log_normal(y.to(predicted.dtype), predicted, chols)

    def filtered(self, z: torch.Tensor) -> torch.Tensor:
        """The filtered mean at the last step, (n, d)."""
        return self.predictions(z)[2][:, -1]

    def readouts(
        self, encoder: nn.Module, x: torch.Tensor, z: torch.Tensor, fresh: Callable[[int], torch.Tensor]
    ) -> dict[str, Readout]:
        """"state": the filtered mean at the last step of each held-out sequence, scored against that
        step's latents, the filter first refitted (``calibrate``, encoder fixed) on the encodings of
        as many fresh sequences."""
        with torch.no_grad():
            self.calibrate(encoder(fresh(x.shape[0])))
            return {"state": Readout(self.filtered(encoder(x)), z[:, -1], x[:, -1].flatten(1))}

    def calibrate(self, y: torch.Tensor, max_iter: int = 200) -> float:
        """Fit the filter (A, b, Q, R) to encodings y (n, T, d) by maximum likelihood (L-BFGS on the
        exact sequence likelihood, y held fixed), in place; returns the final mean negative
        log-likelihood per step."""
        # in float64: L-BFGS's first trial steps can reach noise scales exp(2 * 60) that overflow
        # float32 into a NaN likelihood, which its line search then takes for a descent and
        # extrapolates without end (measured: an encoder of whitened inputs, gauss_ar1, seed 0)
        dtype = next(self.parameters()).dtype
        y = y.detach().double()
        self.double()
        try:
            optimizer = torch.optim.LBFGS(list(self.parameters()), max_iter=max_iter, line_search_fn="strong_wolfe")

            def closure() -> torch.Tensor:
                optimizer.zero_grad()
                loss = self.filter(y)[1].mean()
                loss.backward()
                return loss

            with torch.enable_grad():
                optimizer.step(closure)
            with torch.no_grad():
                loss = float(self.filter(y)[1].mean())
        finally:
            self.to(dtype)
        if not math.isfinite(loss):
            raise ValueError(f"the filter could not be fitted to these encodings (negative log-likelihood {loss})")
        return loss

    def forward(self, z: torch.Tensor, log_volume: torch.Tensor | None = None) -> torch.Tensor:
        """Scalar loss for encodings z (n, T, d), T >= 2, and with exact entropy the encoder's
        log-volumes (n, T); per step."""
        if z.shape[1] < 2:
            raise ValueError(f"the Kalman filter objective needs sequences of T >= 2 steps, got T = {z.shape[1]}")
        if self.entropy == "exact":
            if log_volume is None:
                raise ValueError("the exact-entropy filter needs the encoder's log-volumes (an invertible encoder)")
            return (self.filter(z)[1] - log_volume.reshape(z.shape[:2]).to(z.dtype)).mean()
        y = no_half(z)
        a, b, chols, gains = self.covariance_recursion(z.shape[1], y)
        # one covariance recursion for both terms: the entropy term's gradient reaches the encodings only,
        # the likelihood's the filter only
        m = _means(y, a.detach(), b.detach(), gains.detach())[0][:, 1:]
        chol, observed = chols.detach()[1:], y[:, 1:]
        # whiten both sides by each step's S_t: |L^{-1}(y_i - m_j)|^2 is a distance matrix per step
        w_y = torch.linalg.solve_triangular(chol, observed.permute(1, 2, 0), upper=False).transpose(1, 2)  # (T-1, n, d)
        w_m = torch.linalg.solve_triangular(chol, m.permute(1, 2, 0), upper=False).transpose(1, 2)
        log_norm = chol.diagonal(dim1=-2, dim2=-1).log().sum(-1) + 0.5 * z.shape[-1] * math.log(2 * math.pi)  # (T-1,)
        log_k = -0.5 * squared_distances(w_m, w_y, pairwise=True) - log_norm[:, None, None]  # (T-1, n, n): [t, i, j] log N(y_j; m_i, S_t)
        alignment = log_k.diagonal(dim1=-2, dim2=-1).mean()
        # every sequence's observation a centre for each prediction, as the pair method's KDE
        entropy = -(log_k.logsumexp(2) - math.log(z.shape[0])).mean()
        marginal = self.latent_model.marginal_log_prob(y.reshape(-1, z.shape[-1])).mean()
        fixed_y = y.detach()
        likelihood = -_log_normal(fixed_y, _means(fixed_y, a, b, gains)[0], chols).mean()
        return likelihood - (alignment + entropy + marginal)


def _means(y: torch.Tensor, a: torch.Tensor, b: torch.Tensor, gains: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The filter's means on y (n, T, d) for transition A, bias b and gains K_t (T, d, d): predictive and
    filtered, each (n, T, d); a loop over time, batched over sequences."""
    mean = y.new_zeros(y.shape[0], y.shape[2])
    predicted, filtered = [], []
    for t in range(y.shape[1]):
        if t:
            mean = mean @ a.T + b
        predicted.append(mean)
        mean = mean + (y[:, t] - mean) @ gains[t].T
        filtered.append(mean)
    return torch.stack(predicted, 1), torch.stack(filtered, 1)


def _log_normal(y: torch.Tensor, mean: torch.Tensor, chols: torch.Tensor) -> torch.Tensor:
    """log N(y_t; mean_t, L_t L_t^T) for y, mean (n, T, d) and chols (T, d, d): (n, T)."""
    white = torch.linalg.solve_triangular(chols, (y - mean).permute(1, 2, 0), upper=False)  # (T, d, n)
    d = y.shape[-1]
    return -(0.5 * white.square().sum(1) + chols.diagonal(dim1=-2, dim2=-1).log().sum(-1)[:, None]).T - 0.5 * d * math.log(2 * math.pi)
