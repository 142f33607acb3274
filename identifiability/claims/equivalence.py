"""Findings that two estimators reach the same score: a two one-sided test over paired seeds."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np
from scipy import stats

from identifiability._core import SettingError, check_float

from ..specs import Part
from .budgets import Budget
from .claim import Claim, Verdict


def equivalence_p_value(differences: np.ndarray, margin: float) -> float:
    """The p-value of the two one-sided t-tests (TOST) of paired differences (n,) against |mean| >= margin:
    small where the mean difference lies within (-margin, margin) beyond chance. Needs n >= 2."""
    if len(differences) < 2:
        raise SettingError("seeds", f"an equivalence test needs at least 2 paired seeds, got {len(differences)}")
    if np.ptp(differences) == 0:  # no spread: equivalent exactly when inside the margin
        return 0.0 if abs(float(differences[0])) < margin else 1.0
    above = stats.ttest_1samp(differences, -margin, alternative="greater").pvalue
    below = stats.ttest_1samp(differences, margin, alternative="less").pvalue
    return float(max(above, below))


@dataclass(frozen=True)
class EquivalenceVerdict:
    """Both claims' verdicts on the same problem and seeds, and the TOST of their paired scores."""

    first: Verdict
    second: Verdict
    margin: float
    p_value: float
    alpha: float

    @property
    def differences(self) -> tuple[float, ...]:
        return tuple(a - b for a, b in zip(self.first.scores, self.second.scores))

    @property
    def holds(self) -> bool:
        return self.p_value < self.alpha

    def __str__(self) -> str:
        diffs = ", ".join(f"{d:+.3f}" for d in self.differences)
        return (f"{self.first.claim.name} - {self.second.claim.name}: {statistics.fmean(self.differences):+.3f} "
                f"(seeds {diffs}), margin {self.margin:g}, TOST p = {self.p_value:.3g} at alpha {self.alpha:g}: "
                f"{'EQUIVALENT' if self.holds else 'NOT SHOWN EQUIVALENT'}\n{self.first}\n{self.second}")


@dataclass(frozen=True)
class Equivalent:
    """A finding that ``first`` and ``second`` (one class, two recipes) score alike: verified on the same
    problems and seeds, their paired class scores differ by less than ``margin`` by a TOST at ``alpha``.

    Attributes:
        name, statement, reference: as a claim's.
        first, second: the two claims (their recipes differ; class and target the same).
        margin: the equivalence margin, in the class score's units.
        alpha: the test's level.
    """

    name: str
    statement: str
    reference: str
    first: Claim
    second: Claim
    margin: float
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.first.equivalence != self.second.equivalence:
            raise SettingError("second", f"scores {self.second.equivalence}, the first {self.first.equivalence}: not comparable")
        check_float("margin", self.margin, low=0, high=1, low_open=True)
        check_float("alpha", self.alpha, low=0, high=1, low_open=True, high_open=True)

    def verify(self, process: Part, budget: str | Budget = "full", *, device: str = "cpu") -> EquivalenceVerdict:
        first = self.first.verify(process, budget, device=device)
        second = self.second.verify(process, budget, device=device)
        differences = np.array(first.scores) - np.array(second.scores)
        return EquivalenceVerdict(first, second, self.margin, equivalence_p_value(differences, self.margin), self.alpha)
