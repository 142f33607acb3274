"""Time-contrastive learning (Hyvarinen & Morioka 2016): tell each sample's segment from its code."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from identifiability._core import check_int

from .base import Objective


class TCL(Objective):
    """Cross-entropy of a multinomial logistic regression of each sample's segment u on its codes.

    The regression is linear in the fixed statistics (z_i, z_i^2) of each code component,
    logits_u(z) = sum_i (w_ui z_i + v_ui z_i^2) + b_u, its weights (S, 2 d) and biases (S,) are
    the objective's own (zero at the start: the loss starts at log S); every step of a sequence is
    classified with its sequence's segment.

    Theory: the Bayes-optimal logits are log p(s | u) + log p(u) up to a term common to all
    classes (the Jacobian of g cancels), so TCL at its optimum makes the regression's statistics
    span those of the sources. For s = m_u + a_u s0 with Gaussian s0 (``ica`` with law
    "gaussian"), log p(s_i | u) is linear in (s_i, s_i^2) with natural parameters
    (m_ui / a_ui^2, -1 / (2 a_ui^2)); with S >= 2 d + 1 segments whose parameter differences span
    R^{2d}, (s_i, s_i^2)_i = A (z_j, z_j^2)_j + c for an invertible A, and matching the degrees of
    the polynomials (no z^4, no cross terms) leaves s_i = alpha_i z_pi(i) + beta_i: the sources up
    to a permutation and elementwise *affine* maps (signs included), because the mean is
    modulated too. (A modulated scale alone gives only s_i^2, i.e. sources up to non-monotone
    elementwise maps.) For non-Gaussian s0 (the default Laplace) log p(s_i | u) =
    -sqrt(2) |s_i - m_ui| / a_ui is not linear in any fixed statistics, the theorem's exponential
    family fails and recovery is an empirical question. With one segment the loss is 0 whatever
    the code (no auxiliary information): the negative control.

    Args:
        dim: d, the code's dimension.
        segments: S, the number of segments (classes).
    """

    requires = frozenset({"segment"})

    def __init__(self, dim: int, segments: int) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, low=1)
        self.segments = check_int("segments", segments, low=1)
        self.classifier = nn.Linear(2 * self.dim, self.segments)
        nn.init.zeros_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (..., d) -> segment logits (..., S)."""
        return self.classifier(torch.cat([z, z.square()], -1))

    def forward(self, z: torch.Tensor, segment: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over the n T codes z (n, T, d) of their segments ``segment`` (n,)."""
        if z.ndim != 3 or z.shape[-1] != self.dim:
            raise ValueError(f"TCL takes codes of shape (n, T, {self.dim}), got {tuple(z.shape)}")
        if segment.shape != z.shape[:1] or segment.dtype.is_floating_point or segment.dtype.is_complex:
            raise ValueError(f"TCL takes one integer segment per sequence, shape ({z.shape[0]},), "
                             f"got {segment.dtype} of shape {tuple(segment.shape)}")
        labels = segment[:, None].expand(z.shape[:2])
        return F.cross_entropy(self.logits(z).flatten(0, 1), labels.flatten())

    def extra_repr(self) -> str:
        return f"dim={self.dim}, segments={self.segments}"
