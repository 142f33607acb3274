"""Latent distribution matching: F_LDM = < log P_theta(z, z') > + H[z, z'], or the MI variant
F_MI = < log P_theta(z, z') > + H[z] + H[z'] (F_MI - F_LDM = I[z; z']), with
log P_theta(z, z') = log P_theta(z) + log P_theta(z' | z)."""

from __future__ import annotations

import torch

from .base import Objective, consecutive_pairs
from .entropy import EntropyEstimator
from .latent_models import LatentModel, Sphere


class LDM(Objective):
    """Loss -F of latent distribution matching with two dials.

    Args:
        latent_model: P_theta(z' | z) (``Plane``, ``Sphere``, ``KalmanPredictive``, ...).
        entropy: the estimator of H (``LogDet``, ``KDE``, ``KNN``, ``StopGradient``, ``FlowExact``).
        mi: use F_MI (marginal entropies of both views) instead of F_LDM (joint entropy).
        ema: for the stop-gradient family, the decay of an EMA target encoder the trainer keeps
            (None: the target is the online encoder itself, as in SimSiam).

    It requires the log-volume where its entropy estimator does (``FlowExact``) and the target
    where it has an EMA; its geometry is the sphere's when the latent model is ``Sphere``.
    """

    def __init__(self, latent_model: LatentModel, entropy: EntropyEstimator, mi: bool = False, ema: float | None = None):
        super().__init__()
        if ema is not None and not 0 <= ema < 1:
            raise ValueError(f"ema must lie in [0, 1), got {ema}")
        self.latent_model, self.entropy, self.mi, self.ema = latent_model, entropy, mi, ema
        self.requires = frozenset({"log_volume"} if entropy.needs_log_volume else set()) | (
            frozenset({"target"}) if ema is not None else frozenset()
        )
        self.geometry = "sphere" if isinstance(latent_model, Sphere) else "plane"
        self.pairwise = entropy.pairwise

    def terms(
        self, z: torch.Tensor, log_volume: torch.Tensor | None = None, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(alignment, entropy) in nats for z (n, T, d) and, for FlowExact, log_volume (n, T); the
        second view of each pair from ``target`` where given (the EMA encoder's encodings)."""
        pairs = consecutive_pairs(z, target)
        volumes = None if log_volume is None else consecutive_pairs(log_volume[..., None])[..., 0]  # (m, 2)
        model = self.latent_model
        conditional = model.target_log_prob if self.entropy.detaches_target else model.log_prob
        alignment = (model.marginal_log_prob(pairs[:, 0]) + conditional(pairs[:, 0], pairs[:, 1])).mean()
        def h(view: slice | int) -> torch.Tensor:
            lv = None if volumes is None else volumes[:, view]
            return self.entropy(pairs[:, view], latent_model=model, log_volume=lv)

        entropy = h(0) + h(1) if self.mi else h(slice(None))
        return alignment, entropy

    def forward(
        self, z: torch.Tensor, log_volume: torch.Tensor | None = None, target: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Scalar loss -F."""
        alignment, entropy = self.terms(z, log_volume, target)
        return -(alignment + entropy)

    def extra_repr(self) -> str:
        return f"entropy={self.entropy!r}, mi={self.mi}, ema={self.ema}"
