"""The small MLPs objectives carry (predictors, priors, posteriors, decoders)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (64,), *, negative_slope: float = 0.2,
        zero_last: bool = False) -> nn.Sequential:
    """(..., in_dim) -> (..., out_dim): Linear layers with leaky ReLUs between them (``negative_slope``
    0 is a ReLU). ``zero_last`` initialises the last layer to 0, so the network starts as the zero map
    (for residual corrections such as z + h(z))."""
    widths = [in_dim, *hidden, out_dim]
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(negative_slope)]
    net = nn.Sequential(*layers[:-1])
    if zero_last:
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
    return net
