"""The one driver behind every metric: validate, split, score, and attach chance level and interval.

A metric is an ``Evaluate`` function of a ``Sample`` (validated data and its split) returning ``Scores``;
the driver runs it once on the data, on independent draws for the null, and on resampled rows for
the bootstrap interval, so all three always measure the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable

import torch

from identifiability._core import SettingError, check_float, check_int, check_seed

from ._inputs import ArrayLike, Sample, prepare, split_indices
from .moments import column_peaks, column_squares
from .result import MetricResult, Null


# A held-out score whose jackknife standard error exceeds this cannot be pinned down to +-0.1 (two
# standard errors) by the data: the result says so in ``warnings``.
SUPPORTED_ERROR = 0.05
# Where upper bounds on the jackknife errors are all below this, the exact jackknife is not run:
# far below the level that draws a warning, and the bounds cost a fraction of it.
BOUND_SUFFICES = 0.01
# A score comparing a column one held-out row of which carries more than this share of the sum of
# squares rests on a few extreme rows whatever its jackknife error: the tails that set the
# population value are not in the sample. Largest share in 1000 held-out rows (median of 20 draws,
# and max): Gaussian 0.011 (0.016), u^9 for uniform u 0.019 (0.024), exp(8 u) 0.052, z^3 0.098,
# exp(z) 0.12, z^5 0.28, z^9 0.47, exp(3 z) 0.56. It shrinks like 1/n for light tails only.
MAX_ROW_SHARE = 0.05


@dataclass(frozen=True)
class Jackknife:
    """The leave-one-out values of per-latent held-out scores (each held-out row left out in turn,
    the fit held fixed) and of their headline (their sum over ``count`` latents, divided by it),
    summarised against the scores themselves so that blocks of rows add up without keeping every
    value: the count of rows, and per latent and for the headline, the sum and the sum of squares of
    the deviations and the largest |deviation| (tensors, no host sync). ``latents`` names the
    columns. Where upper bounds on the standard errors were enough, ``bounds`` stand in for them.
    ``row_share`` is, per latent, the largest share of a compared column's held-out sum of squares
    that one row carries, where the metric reports it.
    """

    reference: torch.Tensor
    latents: tuple[int, ...]
    count: int
    rows: int = 0
    total: torch.Tensor | float = 0.0
    squares: torch.Tensor | float = 0.0
    swing: torch.Tensor | float = 0.0
    bounds: torch.Tensor | None = None
    row_share: torch.Tensor | None = None

    def add(self, values: torch.Tensor) -> Jackknife:
        """With more rows' leave-one-out values of the per-latent scores, (m, len(latents))."""
        deviation = values - self.reference
        headline = deviation.sum(1) / self.count  # (m,): cheap beside the (m, k) block
        total = torch.cat([deviation.sum(0), headline.sum()[None]])
        squares = torch.cat([column_squares(deviation), headline.square().sum()[None]])
        swing = torch.cat([column_peaks(deviation), headline.abs().max()[None]])
        return replace(
            self,
            rows=self.rows + len(deviation),
            total=self.total + total,
            squares=self.squares + squares,
            swing=torch.maximum(torch.as_tensor(self.swing).to(swing), swing),
        )

    @property
    def standard_errors(self) -> torch.Tensor:
        """sqrt((n - 1) / n sum_i (theta_i - mean theta)^2) per latent and, last, of the headline
        (or the bounds on them)."""
        if self.bounds is not None:
            return self.bounds
        n = self.rows
        spread = (torch.as_tensor(self.squares) - torch.as_tensor(self.total).square() / n).clamp_min(0)
        return (spread * (n - 1) / n).sqrt()


@dataclass(frozen=True)
class Scores:
    """One evaluation: held-out ``per_latent`` (d,) whose mean is the headline unless ``score`` is
    given, the ``in_sample`` value, metric-specific ``extras`` (numbers in it get nulls too) and,
    where the metric gives it, the headline's ``jackknife`` over held-out rows."""

    per_latent: torch.Tensor
    in_sample: float
    extras: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    jackknife: Jackknife | None = None

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
    null_of: Callable[[int, int, int, float], dict[str, Null]] | None = None,
    **settings: Any,
) -> MetricResult:
    """Run ``evaluate`` and wrap it in ``result_type`` with its null and bootstrap interval.

    ``null_draws`` fixes the Monte-Carlo draws of the null for metrics that fit models (default:
    from 16 to 100 depending on size); ``null_of(n, d_hat, d, test_size)`` replaces the Monte-Carlo
    null with a metric's own (it must be calibrated against it)."""
    test_size = check_float("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
    seed, bootstrap = check_seed("seed", seed), check_int("bootstrap", bootstrap, low=0)
    level = check_float("level", level, low=0, high=1, low_open=True, high_open=True)
    if not isinstance(null, bool):
        raise SettingError("null", f"must be True or False, got {null!r}")
    data = prepare(z_hat, z, test_size, seed)
    scores = evaluate(data, **settings)
    shape = (data.z_hat.shape[0], data.z_hat.shape[1], data.z.shape[1])
    if not null:
        nulls = {}
    elif null_of is not None:
        nulls = null_of(*shape, test_size)
    else:
        nulls = monte_carlo_null(evaluate, *shape, test_size, draws=null_draws, **settings)
    interval = bootstrap_interval(evaluate, data, draws=bootstrap, level=level, seed=seed, **settings)
    fields = result_type.__dataclass_fields__
    extras = {k: v for k, v in scores.extras.items() if k in fields}
    details = {k: v for k, v in scores.extras.items() if k not in fields}
    extra_nulls = {f"{k}_null": v for k, v in nulls.items() if f"{k}_null" in fields}
    standard_error, warnings = support(name, scores)
    return result_type(
        name=name,
        score=scores.headline,
        per_latent=tuple(scores.per_latent.tolist()),
        in_sample=scores.in_sample,
        null=nulls.get("score"),
        interval=interval,
        standard_error=standard_error,
        warnings=warnings,
        settings={"test_size": test_size, "seed": seed, "bootstrap": bootstrap, **settings, **details},
        **extras,
        **extra_nulls,
    )


def support(name: str, scores: Scores) -> tuple[float | None, tuple[str, ...]]:
    """The headline's jackknife standard error over the held-out rows, and a warning for each
    number (a latent's score or the headline) whose error is too large for the data to pin it
    down: heavy tails, where a few rows decide the score, or too few rows."""
    jackknife = scores.jackknife
    if jackknife is None:
        return None, ()
    errors = jackknife.standard_errors.tolist()
    values = [*jackknife.reference.tolist(), scores.headline]
    labels = [f"latent {j}" for j in jackknife.latents] + ["the mean"]
    swings = None if jackknife.bounds is not None else torch.as_tensor(jackknife.swing).tolist()
    warnings = []
    if jackknife.row_share is not None:
        for label, value, share in zip(labels, values, jackknife.row_share.tolist()):
            if share > MAX_ROW_SHARE:
                warnings.append(
                    f"{name} of {label}, {value:.3f}, is not supported by the data: one held-out row carries "
                    f"{100 * share:.0f}% of the variance of a column it compares, so a few extreme rows of a "
                    f"heavy-tailed column decide it"
                )
    for i, (label, value, error) in enumerate(zip(labels, values, errors)):
        if error > SUPPORTED_ERROR:
            moved = "" if swings is None else f", and leaving out one row moves it by up to {swings[i]:.3f}"
            warnings.append(
                f"{name} of {label}, {value:.3f}, is not supported by the data: its jackknife standard error over "
                f"{jackknife.rows} held-out rows is {error:.3f}{moved}, so it is not pinned down to within 0.1 "
                f"(heavy-tailed columns or too few rows)"
            )
    return errors[-1], tuple(warnings)


def bootstrap_interval(
    evaluate: Evaluate,
    data: Sample,
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
    gen = torch.Generator().manual_seed(seed + 1)
    values = torch.tensor(
        [
            evaluate(data.resplit(resample(data.train, gen), resample(data.test, gen)), **settings).headline
            for _ in range(draws)
        ],
        dtype=torch.float64,
    )
    lo, hi = torch.quantile(values, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64))
    return float(lo), float(hi)


def resample(rows: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """As many rows as ``rows``, drawn from them with replacement."""
    return rows[torch.randint(len(rows), (len(rows),), generator=gen).to(rows.device)]


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
            Sample.of(
                torch.randn(n, d_hat, generator=gen, dtype=torch.float64),
                torch.randn(n, d, generator=gen, dtype=torch.float64),
                train, test,
            ),
            **dict(settings),
        ).numbers()
        for _ in range(draws)
    ]
    values = {k: torch.tensor([r[k] for r in runs], dtype=torch.float64) for k in runs[0]}
    return {k: Null(float(v.mean()), float(torch.quantile(v, 0.95)), draws) for k, v in values.items()}
