"""Ranks for rank correlations."""

from __future__ import annotations

import torch


def rank_columns(a: torch.Tensor) -> torch.Tensor:
    """(n, k) -> (n, k) float64 ranks 1..n of each column, ties given their average rank."""
    n, k = a.shape
    values, order = a.sort(dim=0)
    starts = torch.ones_like(values, dtype=torch.bool)
    starts[1:] = values[1:] != values[:-1]
    group = starts.cumsum(0) - 1 + torch.arange(k, device=a.device) * n  # tie groups, unique over columns
    position = torch.arange(1, n + 1, device=a.device, dtype=torch.float64)[:, None].expand(n, k).reshape(-1)
    flat = group.reshape(-1)
    total = torch.zeros(n * k, device=a.device, dtype=torch.float64).index_add_(0, flat, position)
    count = torch.zeros(n * k, device=a.device, dtype=torch.float64).index_add_(0, flat, torch.ones_like(position))
    average = (total / count.clamp_min(1))[group]
    return torch.empty_like(average).scatter_(0, order, average)
