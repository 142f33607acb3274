"""Permutation-contrastive learning (Hyvarinen & Morioka 2017): tell true consecutive pairs of
codes from pairs whose later step is another sequence's."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from identifiability._core import check_choice, check_int

from .base import Objective

Form = Literal["mlp", "laplace"]
FORMS = ("mlp", "laplace")


class PCL(Objective):
    """Binary logistic loss of r(z_t, z_{t+1}) = sum_i B_i(z_{t,i}, z_{t+1,i}) + c telling true
    consecutive pairs (label 1) from permuted ones (label 0).

    The permuted pair of (z_t, z_{t+1}) of sequence k is (z_t of k, z_{t+1} of k + 1): a fixed
    cyclic shift of the batch (``torch.roll``), so no noise is drawn and the loss batches under
    ``torch.func.vmap``. The sequences of a batch are independent, so the permuted pairs follow the
    product of the two steps' marginals and differ from the true ones only by their dependence.
    Every consecutive pair of a sequence (T - 1 of them) is used; the loss is the mean over the
    2 n (T - 1) pairs, log 2 when r = 0.

    B_i, one per component (the objective's own parameters, all components at once by einsum):
        "mlp": a leaky-ReLU MLP R^2 -> R with ``width`` hidden units, its last layer zero at the
            start (B = 0), the paper's general B_i.
        "laplace": the paper's (and its code's) parametric form
            B_i(a, b) = -|w_i a + v_i b + c_i| + alpha_i b^2, started at (w, v, c, alpha) =
            (-1, 1, 0, 0): the log-ratio log p(s' | s) - log p(s') of an AR(1) source with Laplace
            innovations (the -|.| term) and a roughly Gaussian marginal (the b^2 term).

    Theory (Theorem 1 of the paper): for stationary independent sources whose pairs
    (s_{t,i}, s_{t+1,i}) are uniformly dependent (the cross derivative of log p(s_t, s_{t+1}) is
    nonzero) and not quasi-Gaussian (that log-density is not a_1(s) + a_2(s') + b t(s) t(s')), and
    a smooth invertible mixing, the optimum of this regression over h = z and B gives
    z_i = q_i(s_pi(i)) with invertible, hence strictly monotone, scalar q_i: the sources up to a
    permutation and elementwise monotone maps (Spearman's MCC, not Pearson's, is the fitting
    score). Gaussian AR sources are quasi-Gaussian (then only the nonlinear part of g is undone);
    temporally independent sources (autoregression 0) make the two kinds of pair identically
    distributed and the loss log 2 whatever the code: the negative control. This package's ``ica``
    process (AR(1), Laplace innovations, the paper's own simulation) is not uniformly dependent
    in the strict sense (the cross derivative of -|s' - a s| lives on the line s' = a s), as in the
    paper's experiments; recovery there is measured, not guaranteed.

    Args:
        dim: d, the code's dimension.
        form: "mlp" or "laplace" (above).
        width: hidden units of each B_i for "mlp".
    """

    def __init__(self, dim: int, form: Form = "mlp", width: int = 16) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, low=1)
        self.form = check_choice("form", form, FORMS)
        self.width = check_int("width", width, low=1)
        self.bias = nn.Parameter(torch.zeros(()))
        if self.form == "mlp":
            # per component: (2 -> width) leaky ReLU (width -> 1), PyTorch's default Linear init
            bound_in = 1 / math.sqrt(2)
            self.w_in = nn.Parameter(torch.empty(self.dim, 2, self.width).uniform_(-bound_in, bound_in))
            self.b_in = nn.Parameter(torch.empty(self.dim, self.width).uniform_(-bound_in, bound_in))
            self.w_out = nn.Parameter(torch.zeros(self.dim, self.width))
            self.b_out = nn.Parameter(torch.zeros(self.dim))
        else:
            self.w = nn.Parameter(-torch.ones(self.dim))
            self.v = nn.Parameter(torch.ones(self.dim))
            self.c = nn.Parameter(torch.zeros(self.dim))
            self.alpha = nn.Parameter(torch.zeros(self.dim))

    def components(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """B_i(a_i, b_i) for earlier codes a and later codes b (..., d) -> (..., d)."""
        if self.form == "mlp":
            hidden = torch.einsum("...dk,dkh->...dh", torch.stack([a, b], -1), self.w_in) + self.b_in
            return torch.einsum("...dh,dh->...d", F.leaky_relu(hidden, 0.2), self.w_out) + self.b_out
        return -(self.w * a + self.v * b + self.c).abs() + self.alpha * b.square()

    def regression(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """r(a, b) = sum_i B_i(a_i, b_i) + c, (..., d) -> (...): the logit of "a consecutive pair"."""
        return self.components(a, b).sum(-1) + self.bias

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Mean binary logistic loss on the true and permuted consecutive pairs of z (n, T, d)."""
        if z.ndim != 3 or z.shape[0] < 2 or z.shape[1] < 2 or z.shape[-1] != self.dim:
            raise ValueError(f"PCL takes n >= 2 sequences of T >= 2 codes, shape (n, T, {self.dim}), got {tuple(z.shape)}")
        earlier, later = z[:, :-1], z[:, 1:]
        true = self.regression(earlier, later)
        permuted = self.regression(earlier, torch.roll(later, 1, 0))  # sequence k's z_t with k - 1's z_{t+1}
        return (F.softplus(-true).mean() + F.softplus(permuted).mean()) / 2

    def extra_repr(self) -> str:
        return f"dim={self.dim}, form={self.form!r}" + (f", width={self.width}" if self.form == "mlp" else "")
