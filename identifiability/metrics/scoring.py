"""The one driver behind every metric: validate, split, score, and attach chance level and interval.

A metric is an ``Evaluate`` function of (z_hat, z, train rows, test rows) returning ``Scores``;
the driver runs it once on the data, on independent draws for the null, and on resampled rows for
the bootstrap interval, so all three always measure the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import torch

from ._inputs import ArrayLike, prepare, split_indices
from .result import MetricResult, Null


@dataclass(frozen=True)
class Scores:
    """One evaluation: held-out ``per_latent`` (d,) whose mean is the headline unless ``score`` is
    given, the ``in_sample`` value, and metric-specific ``extras`` (numbers in it get nulls too)."""

    per_latent: torch.Tensor
    in_sample: float
    extras: dict[str, Any] = field(default_factory=dict)
    score: float | None = None

    @property
    def headline(self) -> float:
        return float(self.per_latent.mean()) if self.score is None else self.score

    def numbers(self) -> dict[str, float]:
        """The headline and every scalar extra, by name."""
        return {"score": self.headline} | {k: float(v) for k, v in self.extras.items() if isinstance(v, float)}


Evaluate = Callable[..., Scores]


def score_metric(
    name: str,
    evaluate: Evaluate,
    z_hat: ArrayLike,
    z: ArrayLike,
    *,
    test_size: float,
    seed: int,
    null: bool,
    bootstrap: int,
    level: float = 0.95,
    result_type: type[MetricResult] = MetricResult,
    null_draws: int | None = None,
    **settings: Any,
) -> MetricResult:
    """Run ``evaluate`` and wrap it in ``result_type`` with its null and bootstrap interval.

    ``null_draws`` fixes the Monte-Carlo draws of the null for metrics that fit models (default:
    from 16 to 100 depending on size)."""
    zh, zt, train, test = prepare(z_hat, z, test_size, seed)
    scores = evaluate(zh, zt, train, test, **settings)
    shape = (zh.shape[0], zh.shape[1], zt.shape[1])
    nulls = monte_carlo_null(evaluate, *shape, test_size, draws=null_draws, **settings) if null else {}
    interval = bootstrap_interval(evaluate, zh, zt, train, test, draws=bootstrap, level=level, seed=seed, **settings)
    fields = result_type.__dataclass_fields__
    extras = {k: v for k, v in scores.extras.items() if k in fields}
    details = {k: v for k, v in scores.extras.items() if k not in fields}
    extra_nulls = {f"{k}_null": v for k, v in nulls.items() if f"{k}_null" in fields}
    return result_type(
        name=name,
        score=scores.headline,
        per_latent=tuple(scores.per_latent.tolist()),
        in_sample=scores.in_sample,
        null=nulls.get("score"),
        interval=interval,
        settings={"test_size": test_size, "seed": seed, "bootstrap": bootstrap, **settings, **details},
        **extras,
        **extra_nulls,
    )


def bootstrap_interval(
    evaluate: Evaluate,
    zh: torch.Tensor,
    zt: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    *,
    draws: int,
    level: float,
    seed: int,
    **settings: Any,
) -> tuple[float, float] | None:
    """Percentile interval of the headline over ``draws`` resamples (None when draws == 0).

    Train and test rows are resampled with replacement separately, so no row is both fitted and
    scored, and everything fitted (the regression, the matching) is refitted inside each resample.
    """
    if draws == 0:
        return None
    if draws < 0 or not 0 < level < 1:
        raise ValueError(f"need bootstrap >= 0 and 0 < level < 1, got {draws} and {level}")
    gen = torch.Generator().manual_seed(seed + 1)
    values = torch.tensor(
        [
            evaluate(
                zh, zt,
                train[torch.randint(len(train), (len(train),), generator=gen).to(train.device)],
                test[torch.randint(len(test), (len(test),), generator=gen).to(test.device)],
                **settings,
            ).headline
            for _ in range(draws)
        ],
        dtype=torch.float64,
    )
    lo, hi = torch.quantile(values, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64))
    return float(lo), float(hi)


def monte_carlo_null(
    evaluate: Evaluate, n: int, d_hat: int, d: int, test_size: float = 0.5, draws: int | None = None, **settings: Any
) -> dict[str, Null]:
    """Chance levels of every number ``evaluate`` reports, for n samples of an independent
    d_hat-dimensional representation and d latents (both standard normal: the null of correlation
    and regression scores depends on n and the dimensions, hardly on the marginals).

    Cached per (metric, n, d_hat, d, settings): after the first call it costs nothing.
    """
    if draws is None:
        # Fewer draws for big problems: the null's spread shrinks like 1/sqrt(n), each draw grows like n.
        draws = int(min(100, max(16, 2e7 // (n * (d_hat + d)))))
    return _cached_null(evaluate, n, d_hat, d, test_size, draws, tuple(sorted(settings.items())))


@lru_cache(maxsize=256)
def _cached_null(
    evaluate: Evaluate, n: int, d_hat: int, d: int, test_size: float, draws: int, settings: tuple[tuple[str, Any], ...]
) -> dict[str, Null]:
    gen = torch.Generator().manual_seed(0)
    train, test = split_indices(n, test_size, 0, torch.device("cpu"))
    runs = [
        evaluate(
            torch.randn(n, d_hat, generator=gen, dtype=torch.float64),
            torch.randn(n, d, generator=gen, dtype=torch.float64),
            train, test, **dict(settings),
        ).numbers()
        for _ in range(draws)
    ]
    values = {k: torch.tensor([r[k] for r in runs], dtype=torch.float64) for k in runs[0]}
    return {k: Null(float(v.mean()), float(torch.quantile(v, 0.95)), draws) for k, v in values.items()}
