"""Plain baselines: the MLP encoder (the usual non-injective one) and the linear encoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from identifiability._core import check_bool, check_int

from .base import Encoder
from .whitening import Whitening


class MLPEncoder(Encoder):
    """f: R^D -> R^d, a leaky-ReLU MLP, optionally projected onto the unit sphere.

    Args:
        in_dim: D.
        out_dim: d.
        hidden: widths of the hidden layers.
        normalize: L2-normalise the output (for latent models on the sphere).
        whiten: put a ``Whitening`` of the input in front of the first layer, fitted by ``initialize``
            on the start batch (an affine reparametrisation: same functions, better conditioned steps).

    ``hidden`` and ``whiten`` have no defaults here: the registered part ``mlp`` owns them.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int], *, normalize: bool = False, whiten: bool):
        super().__init__()
        in_dim, out_dim = check_int("in_dim", in_dim, low=1), check_int("out_dim", out_dim, low=1)
        hidden = tuple(check_int("hidden", h, low=1) for h in hidden)
        self.in_dim, self.out_dim, self.hidden, self.normalize = in_dim, out_dim, tuple(hidden), normalize
        widths = [in_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(widths[-1], out_dim))
        self.net = nn.Sequential(*layers)
        self.whitening = Whitening(in_dim) if check_bool("whiten", whiten) else None

    def initialize(self, x: torch.Tensor) -> None:
        """Fit the input's whitening to a training batch x (..., D), where there is one."""
        if self.whitening is not None:
            self.whitening.fit(x)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., d)."""
        z = self.net(x if self.whitening is None else self.whitening(x))
        return nn.functional.normalize(z, dim=-1) if self.normalize else z

    def extra_repr(self) -> str:
        return f"{self.in_dim} -> {self.out_dim}, hidden={list(self.hidden)}, normalize={self.normalize}, whiten={self.whitening is not None}"


class LinearEncoder(MLPEncoder):
    """f(x) = W x + b: the linear baseline (an MLP without hidden layers)."""

    def __init__(self, in_dim: int, out_dim: int, normalize: bool = False, whiten: bool = False):
        super().__init__(in_dim, out_dim, (), normalize=normalize, whiten=whiten)
