"""A claim: what an identifiability theorem promises, as data, and the verdict of testing it.

A ``Claim`` names the assumptions it needs (matched against a generator's declared
``assumptions``), an estimator recipe, the equivalence class it promises (a class of
``metrics.profile``) and a threshold on that class's score. ``Claim.verify(generator, budget)``
trains (or fits) the estimator on the generator's data for each seed of the budget, scores the
held-out codes, and returns a ``Verdict``: the score per seed and its interval across seeds, beside
the null of an independent representation, the raw observations and the supervised upper bound (the
same encoder told z at the same budget), never a bare boolean.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from scipy import stats

from foundation import SettingError, check_float, check_seed
from ..metrics.profile import CLASSES, Profile, profile
from ..registry import GENERATORS, Context
from ..specs import Part
from .budgets import Budget, as_budget
from .recipes import Recipe

Target = Callable[[torch.Tensor], torch.Tensor]
# rows the kernel scores (smooth, block) fit on: 500 keeps a kernel score near 0.3 s and its null near 5 s
KERNEL_ROWS = 500


@dataclass(frozen=True)
class Claim:
    """An identifiability claim.

    Attributes:
        name: a short name ("contrastive-inverts-mixing").
        statement: the claim in one sentence.
        reference: where it is stated (paper, theorem).
        assumptions: the generator assumptions it needs (names a generator declares).
        recipe: the estimator (``Trained``: an encoder and objective the toolkit trains; ``Fitted``:
            a scikit-learn-style estimator).
        equivalence: the class of maps it recovers z up to: one of ``metrics.profile.CLASSES``.
        threshold: the class score at or above which the claim holds, on every seed.
        target: what of z the claim says is recovered, (n, d) -> (n, k) (default: z itself), e.g.
            the invariants of a transition.
        blocks: the blocks of the target's columns, for the "block" class.
    """

    name: str
    statement: str
    reference: str
    assumptions: frozenset[str]
    recipe: Recipe
    equivalence: str
    threshold: float
    target: Target | None = None
    blocks: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "assumptions", frozenset(self.assumptions))
        if self.equivalence not in CLASSES:
            raise SettingError("equivalence", f"must be one of {', '.join(CLASSES)}; got {self.equivalence!r}")
        if self.equivalence == "block" and not self.blocks:
            raise SettingError("blocks", "the block class needs the blocks of the latents")
        check_float("threshold", self.threshold, low=0, high=1, low_open=True)

    def but(self, **changes: Any) -> Claim:
        """The claim with some fields changed: a control's recipe or threshold, say."""
        return replace(self, **changes)

    def verify(
        self, generator: Part | str, budget: str | Budget = "fast", *, seeds: Sequence[int] | None = None,
        device: str = "cpu",
    ) -> Verdict:
        """Test the claim on data from ``generator`` at ``budget`` ("fast", "full" or a ``Budget``),
        on the budget's seeds or on ``seeds`` (each a new problem and a new training)."""
        generator = Part(generator) if isinstance(generator, str) else generator
        budget = as_budget(budget)
        if seeds is not None:
            checked = tuple(check_seed("seeds", s) for s in seeds)
            if not checked:
                raise SettingError("seeds", "must hold at least one seed")
            budget = replace(budget, seeds=checked)
        declared = _assumptions(generator)
        codes = self.recipe.codes(generator, budget, device=device)

        def score(z_hat: torch.Tensor, z: torch.Tensor, seed: int, null: bool = False) -> Profile:
            return profile(z_hat, self._target(z), blocks=self.blocks, classes=(self.equivalence,), seed=seed, null=null,
                           max_train=KERNEL_ROWS)

        first = codes[0].estimator
        scored = [score(c.estimator.z_hat, c.estimator.z, s, null=i == 0) for i, (s, c) in enumerate(zip(budget.seeds, codes))]
        raw = [score(c.estimator.x, c.estimator.z, s).scores[self.equivalence] for s, c in zip(budget.seeds, codes)]
        told = [score(c.supervised.z_hat, c.supervised.z, s).scores[self.equivalence] for s, c in zip(budget.seeds, codes)]
        assert scored[0].nulls is not None
        return Verdict(
            claim=self, generator=generator, budget=budget, missing=tuple(sorted(self.assumptions - declared)),
            scores=tuple(p.scores[self.equivalence] for p in scored), null=scored[0].nulls[self.equivalence],
            raw=statistics.fmean(raw), supervised=statistics.fmean(told),
            profile=profile(first.z_hat, self._target(first.z), blocks=self.blocks, seed=budget.seeds[0], max_train=KERNEL_ROWS),
        )

    def _target(self, z: torch.Tensor) -> torch.Tensor:
        return z if self.target is None else self.target(z)


def _assumptions(generator: Part) -> frozenset[str]:
    """What the generator declares of itself (its mechanism is built, nothing is drawn)."""
    data, _ = GENERATORS.build(generator.name, Context(seed=0, problem_seed=0), generator.given)
    return frozenset(data.assumptions)


@dataclass(frozen=True)
class Verdict:
    """The outcome of testing a claim on one generator at one budget.

    Attributes:
        scores: the equivalence class's score of the held-out codes, one per seed.
        null: the score's 95th percentile for a representation independent of z (same n, d).
        raw: the score of the raw observations x as the representation (mean over seeds).
        supervised: the score of the same encoder trained to regress z at the same budget (mean).
        profile: the first seed's codes' distance to every class (``metrics.profile``).
        missing: the claim's assumptions the generator does not declare (the claim does not apply).
    """

    claim: Claim
    generator: Part
    budget: Budget
    scores: tuple[float, ...]
    null: float
    raw: float
    supervised: float
    profile: Profile
    missing: tuple[str, ...] = ()

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores)

    @property
    def interval(self) -> tuple[float, float]:
        """95 % interval of the mean score across seeds (Student's t; the value itself for one seed)."""
        n = len(self.scores)
        if n < 2:
            return self.scores[0], self.scores[0]
        half = stats.t.ppf(0.975, n - 1) * statistics.stdev(self.scores) / math.sqrt(n)
        return self.mean - half, self.mean + half

    @property
    def informative(self) -> bool:
        """Whether the threshold lies above the null: otherwise chance could meet it."""
        return self.claim.threshold > self.null

    @property
    def holds(self) -> bool:
        """Every seed's score reaches the threshold, and the threshold lies above the null."""
        return self.informative and min(self.scores) >= self.claim.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim.name, "generator": self.generator.to_dict(), "budget": self.budget.name,
            "equivalence": self.claim.equivalence, "threshold": self.claim.threshold, "scores": list(self.scores),
            "interval": list(self.interval), "null": self.null, "raw": self.raw, "supervised": self.supervised,
            "holds": self.holds, "missing": list(self.missing), "profile": self.profile.to_dict(),
        }

    def __str__(self) -> str:
        claim, (low, high) = self.claim, self.interval
        settings = ", ".join(f"{k}={v}" for k, v in self.generator.given.items())
        applies = f"lacks {', '.join(self.missing)}: the claim does not apply" if self.missing else "has every assumption"
        outcome = "HOLDS" if self.holds else ("uninformative: threshold at or below the null" if not self.informative else "DOES NOT HOLD")
        seeds = ", ".join(f"{s:.3f}" for s in self.scores)
        return "\n".join([
            f"claim      {claim.name}: {claim.statement} ({claim.reference})",
            f"data       {self.generator.name}({settings}) {applies}",
            f"budget     {self.budget.name}: seeds {', '.join(map(str, self.budget.seeds))}, {claim.recipe.describe(self.budget)}",
            f"{claim.equivalence:<10} {self.mean:.3f} [{low:.3f}, {high:.3f}] (seeds {seeds}), threshold {claim.threshold}: {outcome}",
            f"baselines  null (95%) {self.null:.3f} | raw x {self.raw:.3f} | supervised {self.supervised:.3f}",
            f"profile    {self.profile.line()} (seed {self.profile.settings['seed']})",
        ])

