"""Latent models P_theta(z' | z): the alignment dial of latent distribution matching.

Every model gives log p(z'_i | z_i) for a batch of pairs, and the (n, n) matrix log p(z'_j | z_i)
of every query with every target, which the contrastive (KDE) entropy estimator uses as its kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import torch
from scipy.special import ive
from torch import nn

from .networks import mlp


class LatentModel(nn.Module):
    """P_theta(z' | z) on d-dimensional embeddings, defined by a location ``predict(z)`` and a
    log-kernel between locations and targets; ``log_prob`` pairs rows, ``log_prob_matrix`` crosses
    them, from the same kernel."""

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """(n, d) -> (n, d), the location of z' given z."""
        return z

    def kernel(self, loc: torch.Tensor, target: torch.Tensor, pairwise: bool) -> torch.Tensor:
        """log p(target | location): (n,) for paired rows, (n, m) for every pair when ``pairwise``."""
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor, z_next: torch.Tensor) -> torch.Tensor:
        """(n, d), (n, d) -> (n,) log p(z'_i | z_i)."""
        return self.kernel(self.predict(z), z_next, pairwise=False)

    def marginal_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """(n, d) -> (n,) log p(z): flat (zero) unless the model fixes the embeddings' scale."""
        return z.new_zeros(z.shape[0])

    def target_log_prob(self, z: torch.Tensor, z_next: torch.Tensor) -> torch.Tensor:
        """(n, d), (n, d) -> (n,): the alignment of a stop-gradient objective, log p(z'_i | z_i) with
        z' held fixed (no gradient reaches it); ``KalmanGain`` holds it to the filter's update instead."""
        return self.log_prob(z, z_next.detach())

    def log_prob_matrix(self, z: torch.Tensor, z_next: torch.Tensor) -> torch.Tensor:
        """(n, d), (m, d) -> (n, m) log p(z'_j | z_i)."""
        return self.kernel(self.predict(z), z_next, pairwise=True)


def squared_distances(a: torch.Tensor, b: torch.Tensor, pairwise: bool) -> torch.Tensor:
    """|a_i - b_j|^2 for every pair, (..., n, m), when ``pairwise``, else |a_i - b_i|^2 of paired rows, (..., n),
    for a (..., n, d) and b (..., m, d). The pairs by |a|^2 + |b|^2 - 2 a.b, one matrix product, after
    both are moved by b's mean (held fixed: no gradient), so that points far from the origin keep their
    distances' digits; ``torch.cdist(a, b) ** 2`` cost twice as much (its square root's backward,
    measured at n = 256, d = 2) and lost those digits past 25 rows."""
    if not pairwise:
        return ((a - b) ** 2).sum(-1)
    centre = b.detach().mean(-2, keepdim=True)
    a, b = a - centre, b - centre
    cross = a @ b.transpose(-1, -2)
    return (a.square().sum(-1)[..., :, None] + b.square().sum(-1)[..., None, :] - 2 * cross).clamp_min(0)


class Plane(LatentModel):
    """z' | z ~ N(h(z), sigma^2 I): alignment -|z' - h(z)|^2 / (2 sigma^2) (VICReg's invariance term
    where h is the identity, the default; a JEPA-style regression onto the target with a predictor h).
    """

    def __init__(self, sigma: float = 1.0, predictor: nn.Module | None = None) -> None:
        super().__init__()
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma = float(sigma)
        self.predictor = predictor

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        return z if self.predictor is None else self.predictor(z)

    def kernel(self, loc: torch.Tensor, target: torch.Tensor, pairwise: bool) -> torch.Tensor:
        d = loc.shape[-1]
        sq = squared_distances(loc, target, pairwise)
        return -sq / (2 * self.sigma**2) - 0.5 * d * math.log(2 * math.pi * self.sigma**2)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma:g}"


# Polynomials u_k(t) of Debye's uniform expansion of I_nu(nu z) (DLMF 10.41.10), k = 1..4, as
# coefficient lists of powers t^k .. t^{3k}.
_DEBYE = (
    (24, {1: 3, 3: -5}),
    (1152, {2: 81, 4: -462, 6: 385}),
    (414720, {3: 30375, 5: -369603, 7: 765765, 9: -425425}),
    (39813120, {4: 4465125, 6: -94121676, 8: 349922430, 10: -446185740, 12: 185910725}),
)


def log_bessel_i(nu: float, x: float) -> float:
    """log I_nu(x) for nu >= 0, x > 0, to about 1e-12 relative in I, where I itself under- or
    overflows: scipy's scaled ive for small orders, Debye's uniform expansion for nu >= 50 (four
    terms leave u_5 / nu^5 < 1e-9), the power series where ive underflows at small x."""
    if nu >= 50:
        z = x / nu
        root = math.sqrt(1 + z * z)
        t = 1 / root
        eta = root + math.log(z / (1 + root))
        series = 1 + sum(sum(c * t**p for p, c in terms.items()) / scale / nu**k
                         for k, (scale, terms) in enumerate(_DEBYE, start=1))
        return nu * eta - 0.5 * math.log(2 * math.pi * nu) - 0.5 * math.log(root) + math.log(series)
    scaled = float(ive(nu, x))
    if scaled > 1e-290:
        return math.log(scaled) + x
    quarter, term, total = x * x / 4, 1.0, 1.0  # sum_k (x^2/4)^k / (k! (nu + 1)_k)
    for k in range(1, 200):
        term *= quarter / (k * (nu + k))
        total += term
        if term < 1e-17 * total:
            break
    return nu * math.log(x / 2) - math.lgamma(nu + 1) + math.log(total)


@lru_cache(maxsize=256)
def log_vmf_normalizer(d: int, beta: float) -> float:
    """log C_d(beta) of the von Mises-Fisher density C_d(beta) exp(beta mu^T z) on S^{d-1}, in log
    space throughout (exact to 1e-8 relative against mpmath for d up to 10^4, beta 1e-3 to 1e4)."""
    nu = d / 2 - 1
    return nu * math.log(beta) - (d / 2) * math.log(2 * math.pi) - log_bessel_i(nu, beta)


class Sphere(LatentModel):
    """z' | z ~ vMF(h(z) / |h(z)|, beta) on unit-norm embeddings: alignment beta h(z)^T z'.

    Args:
        beta: concentration (1 / temperature).
        predictor: optional map h (e.g. CPC's linear predictor); identity by default.
    """

    def __init__(self, beta: float = 10.0, predictor: nn.Module | None = None) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta}")
        self.beta = float(beta)
        self.predictor = predictor

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        z = nn.functional.normalize(z, dim=-1)
        return z if self.predictor is None else nn.functional.normalize(self.predictor(z), dim=-1)

    def kernel(self, loc: torch.Tensor, target: torch.Tensor, pairwise: bool) -> torch.Tensor:
        target = nn.functional.normalize(target, dim=-1)
        cosine = loc @ target.T if pairwise else (loc * target).sum(-1)
        return self.beta * cosine + log_vmf_normalizer(loc.shape[-1], self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}"


def _standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * (z**2).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


class KalmanPredictive(LatentModel):
    """z' | z ~ N(A z + b, Q) with A, b, Q learned, and z ~ N(0, I): the linear-Gaussian (Kalman)
    transition of a stationary, normalised process.

    The marginal is needed: with Q learned and a flat marginal, scaling the embeddings and Q
    together raises H[z, z'] without bound while the conditional terms cancel (measured: the loss
    ran off and affine R^2 stayed at 0.76 on gauss_ar1, against 0.98 with it).

    A = W * min(1, rho_max / |W|_2) keeps the spectral norm, hence the spectral radius, below
    ``rho_max`` (a stable system); Q = L L^T + eps I with a lower-triangular L of positive diagonal,
    learned, or fixed at (about) I with ``learn_noise=False``. Computed in at least float32, never
    in half precision.
    """

    def __init__(self, dim: int, rho_max: float = 0.999, eps: float = 1e-4, learn_noise: bool = True) -> None:
        super().__init__()
        self.dim, self.rho_max, self.eps = dim, rho_max, eps
        self.weight = nn.Parameter(0.9 * torch.eye(dim))  # slow dynamics to start from
        self.bias = nn.Parameter(torch.zeros(dim))
        if learn_noise:
            self.raw_chol = nn.Parameter(torch.zeros(dim, dim))
        else:  # Q = I (up to eps): fixes the kernel's bandwidth
            self.register_buffer("raw_chol", torch.zeros(dim, dim))

    @property
    def transition(self) -> torch.Tensor:
        """A, (d, d), with spectral norm at most rho_max."""
        norm = torch.linalg.matrix_norm(self.weight, ord=2)
        return self.weight * torch.clamp(self.rho_max / norm, max=1.0)

    @property
    def chol_noise(self) -> torch.Tensor:
        """Cholesky factor of Q, (d, d)."""
        raw = self.raw_chol
        diag = nn.functional.softplus(raw.diagonal() + math.log(math.e - 1)) + math.sqrt(self.eps)
        return torch.tril(raw, -1) + torch.diag(diag)

    @property
    def noise(self) -> torch.Tensor:
        """Q, (d, d)."""
        chol = self.chol_noise
        return chol @ chol.T

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        return no_half(z) @ self.transition.T + self.bias

    def marginal_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return _standard_normal_log_prob(no_half(z))

    def kernel(self, loc: torch.Tensor, target: torch.Tensor, pairwise: bool) -> torch.Tensor:
        chol = self.chol_noise
        # Whiten both sides once: |L^{-1}(z'_j - m_i)|^2 = |w'_j - w_i|^2, a distance matrix.
        w_mean = torch.linalg.solve_triangular(chol, loc.T, upper=False).T
        w_target = torch.linalg.solve_triangular(chol, no_half(target).T, upper=False).T
        log_det = 2 * chol.diagonal().log().sum()
        return -0.5 * (squared_distances(w_mean, w_target, pairwise) + log_det + self.dim * math.log(2 * math.pi))


class KalmanGain(KalmanPredictive):
    """The Kalman transition with the codes as noisy observations of the state, y = s + N(0, R),
    R = sigma_obs^2 I: a stop-gradient objective holds the next state to the filter's posterior given
    the pair, mean t = m + K (y' - m) for the prediction m = A y + b and the Kalman gain
    K = Q (Q + R)^{-1}, in place of a momentum (EMA) target (seed 001, Table 1). R -> 0 gives K = I,
    t = y' and a posterior without spread: the plain stop-gradient form.

    Args:
        dim, rho_max, eps, learn_noise: as ``KalmanPredictive``.
        observation_noise: sigma_obs, fixed: in a stop-gradient objective the target carries no
            gradient, so nothing there could learn R.
    """

    def __init__(self, dim: int, rho_max: float = 0.999, eps: float = 1e-4, learn_noise: bool = True,
                 observation_noise: float = 0.5) -> None:
        super().__init__(dim, rho_max, eps, learn_noise)
        if not observation_noise >= 0:
            raise ValueError(f"observation_noise must be >= 0, got {observation_noise}")
        self.observation_noise = float(observation_noise)

    def gain(self) -> torch.Tensor:
        """K = Q (Q + R)^{-1}, (d, d)."""
        q = self.noise
        r = self.observation_noise**2 * torch.eye(self.dim, dtype=q.dtype, device=q.device)
        return torch.linalg.solve(q + r, q).T  # (Q + R) and Q symmetric: (Q + R)^{-1} Q = K^T

    def target_log_prob(self, z: torch.Tensor, z_next: torch.Tensor) -> torch.Tensor:
        """E[log N(s'; A z + b, Q)] under the filter's posterior of the next state, N(t, P), held fixed:
        t = m + K (z' - m), P = (I - K) Q; = log N(t; A z + b, Q) - tr(Q^{-1} P) / 2. The covariance
        term is what keeps Q's fixed point at the codes' residual covariance less R (without it each
        step's smaller Q shrinks the next target's residual, and Q runs to 0: measured, the loss at
        -1e11 after 2000 steps on gauss_ar1)."""
        m = self.predict(z)
        with torch.no_grad():
            gain = self.gain()
            t = m + (no_half(z_next) - m) @ gain.T
            posterior = (torch.eye(self.dim, dtype=gain.dtype, device=gain.device) - gain) @ self.noise
        spread = torch.cholesky_solve(posterior, self.chol_noise).diagonal().sum()  # tr(Q^{-1} P), differentiable in Q
        return self.kernel(m, t, pairwise=False) - 0.5 * spread

    def extra_repr(self) -> str:
        return f"observation_noise={self.observation_noise:g}"


class NonlinearPredictive(LatentModel):
    """z' | z ~ N(h(z), sigma^2 I) with an MLP predictor h (initialised near the identity), a
    learned (or, with ``learn_noise=False``, unit) noise scale and z ~ N(0, I) (which fixes the scale,
    as for ``KalmanPredictive``): the nonlinear predictive (JEPA-like) model."""

    def __init__(self, dim: int, hidden: Sequence[int] = (64,), learn_noise: bool = True) -> None:
        super().__init__()
        self.net = mlp(dim, dim, hidden, zero_last=True)
        if learn_noise:
            self.log_sigma = nn.Parameter(torch.zeros(()))
        else:  # sigma = 1: fixes the kernel's bandwidth, as ``KalmanPredictive(learn_noise=False)``
            self.register_buffer("log_sigma", torch.zeros(()))

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.net(z)

    def marginal_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return _standard_normal_log_prob(z)

    def kernel(self, loc: torch.Tensor, target: torch.Tensor, pairwise: bool) -> torch.Tensor:
        d = loc.shape[-1]
        sq = squared_distances(loc, target, pairwise)
        return -sq / (2 * torch.exp(2 * self.log_sigma)) - d * (self.log_sigma + 0.5 * math.log(2 * math.pi))


def no_half(z: torch.Tensor) -> torch.Tensor:
    """z in float32 where it came in half precision (the kernels' solves need it), else z."""
    return z.float() if z.dtype in (torch.float16, torch.bfloat16) else z
