"""Chance levels: a metric's distribution for representations independent of the latents."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import torch

from .result import MetricResult, Null

Metric = Callable[..., MetricResult]


def monte_carlo_null(metric: Metric, n: int, d_hat: int, d: int, **settings: Any) -> Null:
    """The null of ``metric`` for n samples of a d_hat-dimensional representation and d latents.

    Both are drawn as independent standard normals (the null of correlation and least-squares
    scores depends on n and the dimensions, hardly on the marginals), scored with the same
    ``settings``. Cached per (metric, n, d_hat, d, settings): later calls cost nothing.
    """
    return _cached_null(metric, n, d_hat, d, tuple(sorted(settings.items())))


@lru_cache(maxsize=256)
def _cached_null(metric: Metric, n: int, d_hat: int, d: int, settings: tuple[tuple[str, Any], ...]) -> Null:
    # Fewer draws for big problems: the null's spread shrinks like 1/sqrt(n) while each draw grows like n.
    draws = int(min(100, max(16, 2e7 // (n * (d_hat + d)))))
    gen = torch.Generator().manual_seed(0)
    scores = torch.tensor(
        [
            metric(
                torch.randn(n, d_hat, generator=gen, dtype=torch.float64),
                torch.randn(n, d, generator=gen, dtype=torch.float64),
                **dict(settings),
            ).score
            for _ in range(draws)
        ],
        dtype=torch.float64,
    )
    return Null(mean=float(scores.mean()), upper=float(torch.quantile(scores, 0.95)), draws=draws)
