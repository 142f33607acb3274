"""AdaSSL (seed 000): a latent variable r absorbs the one-to-many uncertainty of a pair.

The embedding of x is edited by r before the base SSL objective matches it with the embedding of
x'; r is inferred from both views and regularised towards what the first view alone predicts.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from identifiability._core import check_choice, check_float, check_int, on_device

from .base import Objective, consecutive_pairs
from .ldm import LDM
from .networks import mlp


def gaussian_kl(mu_q: torch.Tensor, log_sigma_q: torch.Tensor, mu_p: torch.Tensor, log_sigma_p: torch.Tensor) -> torch.Tensor:
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) of diagonal Gaussians, summed over the last axis."""
    ratio = torch.exp(2 * (log_sigma_q - log_sigma_p))
    return 0.5 * (ratio + (mu_q - mu_p) ** 2 * torch.exp(-2 * log_sigma_p) - 1 - 2 * (log_sigma_q - log_sigma_p)).sum(-1)


def straight_through_bernoulli(logits: torch.Tensor, uniform: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """A mask exactly 0 or 1 in the forward pass whose gradient is that of the relaxed
    sigmoid((logits + logistic noise) / temperature) (the straight-through estimator), the logistic
    noise made from ``uniform`` draws on (0, 1) of the logits' shape."""
    if uniform.shape != logits.shape:
        raise ValueError(f"the uniform draws must have the logits' shape {tuple(logits.shape)}, got {tuple(uniform.shape)}")
    u = uniform.clamp(1e-6, 1 - 1e-6)
    soft = torch.sigmoid((logits + torch.log(u) - torch.log1p(-u)) / temperature)
    return (soft > 0.5).to(soft) + (soft - soft.detach())  # grouped so the forward value is exactly 0 or 1


class AdaSSL(Objective):
    """Loss = base(edit(z, r), z') + regulariser, on consecutive pairs of z (n, T, d).

    Args:
        dim: d.
        base: the SSL objective on (edited z, z'): an LDM preset, contrastive (``infonce``) or
            distillation (``byol``, ``simsiam``).
        variant: "v" (variational: prior p(r | z) and posterior q(r | z, z') diagonal Gaussians,
            r by reparameterisation, regulariser beta KL(q || p) with beta warmed up linearly over
            ``warmup`` steps); "s" (sparse: a proposed r gated by a straight-through Bernoulli mask,
            regulariser ``l0`` times the expected number of open gates).
        editor: for "v", "additive" (z + r) or "mlp" (an MLP of (z, r), initialised to z + r); "s"
            always uses z + (I + U V^T) r with a rank-``rank`` correction initialised to zero (0: none).
        seed: fixes the noise of r and of the mask.
    """

    def __init__(
        self,
        dim: int,
        base: LDM,
        variant: Literal["v", "s"] = "v",
        *,
        editor: Literal["additive", "mlp"] = "additive",
        beta: float = 1.0,
        warmup: int = 500,
        l0: float = 0.05,
        rank: int = 2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_choice("variant", variant, ("v", "s"))
        check_choice("editor", editor, ("additive", "mlp"))
        beta, l0 = check_float("beta", beta, low=0), check_float("l0", l0, low=0)
        warmup, rank = check_int("warmup", warmup, low=1), check_int("rank", rank, low=0)
        self.dim, self.base, self.variant, self.editor = dim, base, variant, editor
        self.beta, self.warmup, self.l0 = beta, warmup, l0
        self.ema, self.requires, self.geometry = base.ema, base.requires, base.geometry
        self.posterior = mlp(2 * dim, 2 * dim)
        self.prior = mlp(dim, 2 * dim)
        if editor == "mlp":
            self.edit_net = mlp(2 * dim, dim, zero_last=True)
        self.u = nn.Parameter(torch.zeros(dim, rank))
        self.v = nn.Parameter(torch.randn(dim, rank, generator=torch.Generator().manual_seed(seed)) / dim**0.5)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        self._gen = torch.Generator().manual_seed(seed)

    def edit(self, z: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """(m, d) embeddings edited by (m, d) latent variables."""
        if self.variant == "s":
            return z + r + (r @ self.v) @ self.u.T
        if self.editor == "mlp":
            return z + r + self.edit_net(torch.cat([z, r], -1))
        return z + r

    def draw_noise(self, shape: tuple[int, int], device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
        """The noise of the edits of a batch of ``shape`` (n, T) sequences: (n (T - 1), d)."""
        return self._draw(shape[0] * (shape[1] - 1), device, dtype)

    def _draw(self, pairs: int, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
        """(pairs, d) from this objective's stream: standard normal (variant "v", r's reparameterisation)
        or uniform on (0, 1) (variant "s", the gates' logistic noise)."""
        gen = self._gen = on_device(self._gen, device)
        draw = torch.randn if self.variant == "v" else torch.rand
        return draw((pairs, self.dim), generator=gen, device=device, dtype=dtype)

    def infer(self, a: torch.Tensor, b: torch.Tensor, noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """r for pairs (a, b) (m, d) each, and the (m,) regulariser; ``noise`` (m, d) as ``draw_noise``
        draws it, else drawn here."""
        noise = self._draw(len(a), a.device, a.dtype) if noise is None else noise
        if noise.shape != a.shape:
            raise ValueError(f"the edits' noise must have the pairs' shape {tuple(a.shape)}, got {tuple(noise.shape)}")
        mu_q, log_sigma_q = self.posterior(torch.cat([a, b], -1)).chunk(2, -1)
        if self.variant == "v":
            mu_p, log_sigma_p = self.prior(a).chunk(2, -1)
            r = mu_q + torch.exp(log_sigma_q) * noise
            return r, gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p)
        mask = straight_through_bernoulli(log_sigma_q, noise)  # the second half gives the gate logits
        return mask * mu_q, torch.sigmoid(log_sigma_q).sum(-1)

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, variant={self.variant!r}, editor={self.editor!r}, beta={self.beta:g}, warmup={self.warmup}, "
                f"l0={self.l0:g}, rank={self.u.shape[1]}")

    def gates(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(m, d) bool: the code dimensions the sparse variant's gate opens for pairs (a, b) (m, d)
        each, the mask's most probable value (its logit above 0)."""
        if self.variant != "s":
            raise ValueError("only the sparse variant (variant='s') has gates")
        return self.posterior(torch.cat([a, b], -1)).chunk(2, -1)[1] > 0

    def forward(self, z: torch.Tensor, target: torch.Tensor | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
        """z (n, T, d), the EMA encoder's encodings where the base distils from them, and the edits'
        ``noise`` (``draw_noise``; drawn here where not given)."""
        pairs = consecutive_pairs(z, target)
        a, b = pairs[:, 0], pairs[:, 1]
        r, penalty = self.infer(a, b, noise)
        loss = self.base(torch.stack([self.edit(a, r), b], 1))
        if self.training:
            self.step += 1
        if self.variant == "s":
            return loss + self.l0 * penalty.mean()
        warmed = (self.step.to(z.dtype) / self.warmup).clamp(max=1)  # a tensor: no host round trip
        return loss + self.beta * warmed * penalty.mean()


class OracleEdit(Objective):
    """The upper bound: the edit is handed the true latent action the process returns
    (``batch.r``: modes, resampling masks or continuous actions), z + h(z, r) with an MLP h
    initialised to 0. It must see z too: a jump rotates z, which no shift L(r) can express
    (measured: an additive oracle scored no better than plain InfoNCE on ``jump``)."""

    def __init__(self, dim: int, base: LDM, action_dim: int) -> None:
        super().__init__()
        self.base, self.ema, self.geometry = base, base.ema, base.geometry
        self.requires = frozenset({"action"}) | base.requires
        self.edit_net = mlp(dim + action_dim, dim, zero_last=True)

    def forward(
        self, z: torch.Tensor, action: torch.Tensor | None = None, target: torch.Tensor | None = None
    ) -> torch.Tensor:
        """z (n, T, d), the true action per transition, (n, T-1) or (n, T-1, k), and the EMA
        encoder's encodings where the base distils from them."""
        if action is None:
            raise ValueError("the oracle needs the process's latent action (a dynamics preset with r: jump, sparse_resample, action)")
        pairs = consecutive_pairs(z, target)
        features = action.reshape(len(pairs), -1).to(z.dtype)
        edited = pairs[:, 0] + self.edit_net(torch.cat([pairs[:, 0], features], -1))
        return self.base(torch.stack([edited, pairs[:, 1]], 1))
