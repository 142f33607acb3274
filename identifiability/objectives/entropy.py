"""Entropy estimators H_R: the uniformity dial of latent distribution matching.

Each is called on one batch tensor and returns an estimate in nats: samples (n, k) give the
marginal entropy; pairs (n, 2, d) give the joint entropy H[z, z'].
"""

from __future__ import annotations

import math

import torch
from scipy.special import digamma

from .latent_models import LatentModel


class EntropyEstimator:
    """H of the law behind a batch. ``needs_log_volume``: takes the encoder's log-volume terms;
    ``detaches_target``: the objective holds the second view fixed (stop-gradient family);
    ``pairwise``: builds (n, n) matrices over the batch's n samples."""

    needs_log_volume = False
    detaches_target = False
    pairwise = False

    def __call__(
        self, z: torch.Tensor, *, latent_model: LatentModel | None = None, log_volume: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.estimate(z.flatten(1), latent_model)

    def estimate(self, z: torch.Tensor, latent_model: LatentModel | None) -> torch.Tensor:
        """Entropy of samples z (n, k)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class LogDet(EntropyEstimator):
    """Parametric (Gaussian) entropy (k/2) log(2 pi e) + (1/2) log det(Cov + jitter I).

    Exact for Gaussians; H[A z] = H[z] + log|det A| holds exactly (up to the jitter).
    """

    def __init__(self, jitter: float = 1e-6) -> None:
        self.jitter = jitter

    def estimate(self, z: torch.Tensor, latent_model: LatentModel | None) -> torch.Tensor:
        n, k = z.shape
        centred = z - z.mean(0)
        cov = centred.T @ centred / (n - 1) + self.jitter * torch.eye(k, dtype=z.dtype, device=z.device)
        return 0.5 * k * (1 + math.log(2 * math.pi)) + 0.5 * torch.linalg.slogdet(cov)[1]


class KDE(EntropyEstimator):
    """Kernel-density (resubstitution) entropy: -< log (1/m) sum_j K(z_i, c_j) >.

    On samples (n, k): centres are the other samples (leave-one-out; every sample with
    ``self_term=True``, which biases the estimate down by up to log n) and K is the latent model's
    conditional p(c | z_i) when one is given, else a Gaussian with bandwidth matrix h^2 Sigma,
    Sigma the batch covariance held fixed (no gradient) and h = ``bandwidth`` or Silverman's rule
    (4 / ((k + 2) n))^(1 / (k + 4)); an isotropic kernel would be mis-shaped on anisotropic codes. On pairs (n, 2, d): the contrastive estimator, with the second views as centres and
    K(z_i, z'_j) = p_theta(z'_j | z_i), which makes LDM(Sphere, KDE) InfoNCE (``pooled=False``) or
    with every other embedding of either view as a centre, NT-Xent (``pooled=True``); the
    marginal's constant (the sphere's area, say) is left out.
    """

    pairwise = True

    def __init__(self, bandwidth: float | None = None, pooled: bool = False, self_term: bool = False) -> None:
        self.bandwidth, self.pooled, self.self_term = bandwidth, pooled, self_term

    def __call__(self, z, *, latent_model=None, log_volume=None):
        if z.ndim == 3 and latent_model is not None:
            a, b = z[:, 0], z[:, 1]
            if not self.pooled:
                log_k = latent_model.log_prob_matrix(a, b)
                return -(log_k.logsumexp(1) - math.log(len(a))).mean()
            both = torch.cat([a, b])
            log_k = latent_model.log_prob_matrix(both, both)
            log_k = log_k.masked_fill(torch.eye(len(both), dtype=torch.bool, device=z.device), -math.inf)
            return -(log_k.logsumexp(1) - math.log(len(both) - 1)).mean()
        return super().__call__(z, latent_model=latent_model)

    def estimate(self, z, latent_model):
        n, k = z.shape
        if latent_model is not None:
            log_k = latent_model.log_prob_matrix(z, z)
        else:
            h = self.bandwidth or (4 / ((k + 2) * n)) ** (1 / (k + 4))
            centred = (z - z.mean(0)).detach()
            eye = torch.eye(k, dtype=z.dtype, device=z.device)
            cov = centred.T @ centred / (n - 1)
            chol = torch.linalg.cholesky_ex(cov + 1e-9 * cov.diagonal().mean() * eye)[0]  # jitter scales with z; no info check
            w = torch.linalg.solve_triangular(chol, z.T, upper=False).T  # whitened by the fixed Sigma
            log_norm = 0.5 * k * math.log(2 * math.pi * h**2) + chol.diagonal().log().sum()
            # in place on the fresh (n, n) square, bit for bit -d^2 / (2 h^2) - log_norm: at n = 10^4
            # every out-of-place step allocates (and faults in) another 800 MB
            log_k = torch.cdist(w, w, compute_mode="donot_use_mm_for_euclid_dist").square().div_(-2 * h**2)
            log_k = log_k.sub_(log_norm)
        if self.self_term:
            return -(log_k.logsumexp(1) - math.log(n)).mean()
        own = torch.eye(n, dtype=torch.bool, device=z.device)
        # the kernel's own matrix is fresh and may be masked in place; a latent model's may be saved for its backward
        log_k = log_k.masked_fill(own, -math.inf) if latent_model is not None else log_k.masked_fill_(own, -math.inf)
        return -(log_k.logsumexp(1) - math.log(n - 1)).mean()


class KNN(EntropyEstimator):
    """Kozachenko-Leonenko: psi(n) - psi(k) + log V_m + (m / n) sum_i log eps_i, with eps_i the
    distance to the k-th nearest neighbour and V_m the volume of the unit m-ball. Consistent."""

    pairwise = True

    def __init__(self, k: int = 1) -> None:
        self.k = k

    def estimate(self, z, latent_model):
        n, m = z.shape
        # Direct differences: the |a|^2 + |b|^2 - 2ab shortcut loses the small neighbour distances.
        # Each row holds its own distance, exactly 0, so the (k + 1)-th smallest is the k-th
        # neighbour's (a duplicate row's 0 too), with no second (n, n) matrix to mask the diagonal.
        dist = torch.cdist(z, z, compute_mode="donot_use_mm_for_euclid_dist")
        eps = dist.topk(self.k + 1, dim=1, largest=False).values[:, -1].clamp_min(1e-12)
        log_unit_ball = 0.5 * m * math.log(math.pi) - math.lgamma(0.5 * m + 1)
        const = float(digamma(n) - digamma(self.k)) + log_unit_ball  # a Python number: nothing to copy to the device
        return const + m * eps.log().mean()


class StopGradient(EntropyEstimator):
    """The conditional-entropy plug-in of the BYOL / SimSiam / JEPA family.

    H[z, z'] = H[z] + H[z' | z]: the marginal part by ``base`` (none by default, as in BYOL), the
    conditional part plugged in from the latent model, -< log p_theta(z' | z) > at the target the
    objective aligns to (``LatentModel.target_log_prob``: z' itself, or the Kalman filter's update), as
    a value without gradient. The objective holds the target z' fixed, so the alignment pulls the online
    branch (and the predictor) towards the target and nothing pulls the target towards collapse.
    """

    detaches_target = True

    def __init__(self, base: EntropyEstimator | None = None) -> None:
        self.base = base

    def __call__(self, z, *, latent_model=None, log_volume=None):
        if z.ndim != 3 or latent_model is None:
            raise ValueError("StopGradient estimates H[z, z'] of pairs (n, 2, d) under a latent model")
        marginal = self.base(z[:, 0], latent_model=latent_model) if self.base is not None else z.new_zeros(())
        with torch.no_grad():
            conditional = -latent_model.target_log_prob(z[:, 0], z[:, 1]).mean()
        return marginal + conditional


class FlowExact(EntropyEstimator):
    """Exact change of variables for flow encoders: H[f(x)] = H[x] + < log-volume(x) >.

    The data entropy H[x] does not depend on the encoder and is left out; pairs add both views'
    log-volumes (H[x, x'] is constant too).
    """

    needs_log_volume = True

    def __call__(self, z, *, latent_model=None, log_volume=None):
        if log_volume is None:
            raise ValueError("FlowExact needs the encoder's log-volume terms (an invertible encoder)")
        return log_volume.reshape(len(z), -1).sum(1).mean()


class VarianceCovariance(EntropyEstimator):
    """VICReg's variance and covariance terms, the second-order (Taylor) surrogate of the log-det:
    -(mu * mean_k relu(gamma - std_k) + nu * sum_{k != l} Cov_kl^2 / k) per view (not in nats)."""

    def __init__(self, mu: float = 25.0, nu: float = 1.0, gamma: float = 1.0, eps: float = 1e-4) -> None:
        self.mu, self.nu, self.gamma, self.eps = mu, nu, gamma, eps

    def __call__(self, z, *, latent_model=None, log_volume=None):
        views = [z[:, 0], z[:, 1]] if z.ndim == 3 else [z]
        return sum(self.estimate(v, latent_model) for v in views)

    def estimate(self, z, latent_model):
        n, k = z.shape
        std = torch.sqrt(z.var(0) + self.eps)
        centred = z - z.mean(0)
        cov = centred.T @ centred / (n - 1)
        off = cov - torch.diag(cov.diagonal())
        return -(self.mu * torch.relu(self.gamma - std).mean() + self.nu * (off**2).sum() / k)


class NoEntropy(EntropyEstimator):
    """No uniformity term at all: alignment alone, the collapse control (not an estimator)."""

    def __call__(self, z, *, latent_model=None, log_volume=None):
        return z.new_zeros(())
