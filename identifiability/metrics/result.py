"""The small frozen records that every metric returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Null:
    """A number's distribution for a representation independent of z (same n and shapes).

    Attributes:
        mean: the expected chance value.
        upper: its 95th percentile: a score below it is indistinguishable from chance.
        draws: Monte-Carlo draws behind the two numbers.
    """

    mean: float
    upper: float
    draws: int


@dataclass(frozen=True)
class MetricResult:
    """A score with what is needed to read it.

    Attributes:
        name: the metric, e.g. ``"affine_r2"``.
        score: the headline value, held out; also ``float(result)``.
        per_latent: the held-out value for each true latent, (d,).
        in_sample: the score fitted and measured on all samples, for comparison with published
            numbers (optimistic).
        null: chance level, when asked for (``null=True``).
        interval: bootstrap percentile interval of the score, when asked for (``bootstrap=B``).
        standard_error: the score's jackknife standard error over the held-out rows (the fit held
            fixed), where the metric gives one; for MCC on many rows none of which has a large
            leverage, an upper bound on it (below 0.01) that is cheaper than the jackknife.
        warnings: why the data do not support the score, in words (empty when they do); see
            ``supported``.
        settings: how the score was computed.
    """

    name: str
    score: float
    per_latent: tuple[float, ...]
    in_sample: float
    null: Null | None = None
    interval: tuple[float, float] | None = None
    standard_error: float | None = None
    warnings: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return self.score

    @property
    def supported(self) -> bool:
        """Whether the data pin the score down (no warnings)."""
        return not self.warnings

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True)
class R2Result(MetricResult):
    """Affine R^2 with ``reverse``: the held-out R^2 of z_hat ~ z, averaged over learned dimensions.
    It is low when z_hat has collapsed or extra dimensions that z does not explain; a high forward
    score alone does not show that the map is invertible."""

    reverse: float = float("nan")


@dataclass(frozen=True)
class MCCResult(MetricResult):
    """An MCC score with its matching: ``matching[j]`` is the learned dimension paired with true
    latent j, or -1 where none is (d_hat < d)."""

    matching: tuple[int, ...] = ()


@dataclass(frozen=True)
class DCIResult(MetricResult):
    """Eastwood & Williams's DCI. ``disentanglement`` (D), ``completeness`` (C) and
    ``informativeness`` (I, mean held-out R^2 of the per-factor predictors), the (codes, factors)
    ``importance`` matrix and, with ``null=True``, the chance level of each.

    ``score`` is D when the code is informative (I above its null's 95th percentile) and NaN, with
    the reason in ``warnings``, when it is not: an uninformative code's importances are noise whose D
    can be high (about 0.5 with Lasso on 10 factors), so D is never reported without that check (and
    a 0 would average with real zeros in a table). With ``null=False``, ``score`` is D and
    ``informative`` is None.
    """

    disentanglement: float = float("nan")
    completeness: float = float("nan")
    informativeness: float = float("nan")
    importance: tuple[tuple[float, ...], ...] = ()
    completeness_null: Null | None = None
    informativeness_null: Null | None = None
    informative: bool | None = None
