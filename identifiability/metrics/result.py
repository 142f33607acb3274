"""The small frozen records that every metric returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Null:
    """The score's distribution for a representation independent of z (same n and shapes).

    Attributes:
        mean: the expected chance score.
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
        score: the headline value (held out unless ``settings["in_sample"]``); also ``float(result)``.
        per_latent: the value for each true latent, (d,).
        in_sample: the same score fitted and measured on all samples, for comparison with
            published numbers (optimistic).
        null: chance level, when asked for.
        settings: how the score was computed.
    """

    name: str
    score: float
    per_latent: tuple[float, ...]
    in_sample: float
    null: Null | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return self.score

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True)
class MCCResult(MetricResult):
    """An MCC score with its matching: ``matching[j]`` is the learned dimension paired with true
    latent j, or -1 where none is (d_hat < d)."""

    matching: tuple[int, ...] = ()
