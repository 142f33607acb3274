"""A claim: what an identifiability theorem promises, as data, and the verdict of testing it.

A ``Claim`` names the assumptions it needs (matched against a process's declared
``assumptions``), an estimator recipe, the equivalence class it promises (a class of
``metrics.profile``) and a threshold on that class's score. ``Claim.verify(process, budget)``
trains (or fits) the estimator on the process's data for each seed of the budget, scores the
held-out codes, and returns a ``Verdict``: the score per seed beside what would explain it without
the theorem (chance, the raw observations), the supervised reference, and the checks the verdict
rests on, never a bare boolean. A ``Control`` is a claim on data (or with a recipe) that violates
one of its assumptions, with the reason it must fail and the evidence that this reason is what fails it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from hypothesis import strategies as st
from scipy import stats

from identifiability._core import SettingError, check_float, check_seed

from ..experiment import held_out
from ..metrics.profile import CLASSES, Profile, profile
from ..registry import PROCESSES, Context
from ..specs import Part
from .budgets import Budget, as_budget
from .recipes import Codes, Recipe

Target = Callable[[torch.Tensor], torch.Tensor]
# rows the kernel scores (smooth, block) fit on: 500 keeps a kernel score near 0.3 s and its null near 5 s
KERNEL_ROWS = 500
# How far above the raw observations' score of the class a claim's score must be on every seed: the
# held-out scores' standard error is near 0.005 at the budgets' 4000 rows, so 0.05 is ten of them.
RAW_MARGIN = 0.05


@dataclass(frozen=True)
class Claim:
    """An identifiability claim.

    Attributes:
        name: a short name ("contrastive-inverts-mixing").
        statement: the claim in one sentence.
        reference: where it is stated (paper, theorem).
        assumptions: the process assumptions it needs (names a process declares).
        recipe: the estimator (``Trained``: an encoder and objective the toolkit trains; ``Fitted``:
            a scikit-learn-style estimator).
        equivalence: the class of maps it recovers z up to: one of ``metrics.profile.CLASSES``.
        threshold: the class score at or above which the claim holds, on every seed.
        target: what of z the claim says is recovered, (n, d) -> (n, k) (default: z itself), e.g.
            the invariants of a transition.
        blocks: the blocks of the target's columns, for the "block" class.
        margin: how far above the raw observations' score of the class every seed's score must lie.
        raw_may_pass: the claim is about not destroying structure the data already show, so raw x
            may meet it (none of the library's claims).
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
    margin: float = RAW_MARGIN
    raw_may_pass: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "assumptions", frozenset(self.assumptions))
        if self.equivalence not in CLASSES:
            raise SettingError("equivalence", f"must be one of {', '.join(CLASSES)}; got {self.equivalence!r}")
        if self.equivalence == "block" and not self.blocks:
            raise SettingError("blocks", "the block class needs the blocks of the latents")
        check_float("threshold", self.threshold, low=0, high=1, low_open=True)
        check_float("margin", self.margin, low=0, high=1)

    def but(self, **changes: Any) -> Claim:
        """The claim with some fields changed: a control's recipe or threshold, say."""
        return replace(self, **changes)

    def verify(
        self, process: Part | str, budget: str | Budget = "fast", *, seeds: Sequence[int] | None = None,
        device: str = "cpu", reference: bool = True,
    ) -> Verdict:
        """Test the claim on data from ``process`` at ``budget`` ("fast", "full" or a ``Budget``),
        on the budget's seeds or on ``seeds`` (each a new problem and a new training); without
        ``reference`` the supervised reference is not trained (no check rests on it: the claim
        tests train it only for a verdict they report)."""
        process = Part(process) if isinstance(process, str) else process
        budget = _with_seeds(as_budget(budget), seeds)
        declared = declared_assumptions(process)
        codes = self.recipe.codes(process, budget, device=device, reference=reference)
        scored = [self.score(c.estimator.z_hat, c.estimator.z, s, null=i == 0) for i, (s, c) in enumerate(zip(budget.seeds, codes))]
        first = codes[0].estimator
        assert scored[0].nulls is not None
        return Verdict(
            claim=self, process=process, budget=budget, missing=tuple(sorted(self.assumptions - declared)),
            scores=tuple(p.scores[self.equivalence] for p in scored), null=scored[0].nulls[self.equivalence],
            raw=tuple(self.score(c.estimator.x, c.estimator.z, s).scores[self.equivalence] for s, c in zip(budget.seeds, codes)),
            reference=None if not reference else tuple(
                self.score(c.supervised.z_hat, c.supervised.z, s).scores[self.equivalence]  # type: ignore[union-attr]
                for s, c in zip(budget.seeds, codes)),
            warnings=tuple(p.class_warnings.get(self.equivalence, ()) for p in scored),
            losses=tuple(_loss_ends(c) for c in codes),
            profile=profile(first.z_hat, self._target(first.z), blocks=self.blocks, seed=budget.seeds[0], max_train=KERNEL_ROWS),
        )

    def score(self, z_hat: torch.Tensor, z: torch.Tensor, seed: int, null: bool = False) -> Profile:
        """The profile of codes ``z_hat`` (n, k) against the claim's target of latents ``z`` (n, d),
        in the claim's class only (with its null where asked)."""
        return profile(z_hat, self._target(z), blocks=self.blocks, classes=(self.equivalence,), seed=seed, null=null,
                       max_train=KERNEL_ROWS)

    def _target(self, z: torch.Tensor) -> torch.Tensor:
        return z if self.target is None else self.target(z)


def _with_seeds(budget: Budget, seeds: Sequence[int] | None) -> Budget:
    if seeds is None:
        return budget
    checked = tuple(check_seed("seeds", s) for s in seeds)
    if not checked:
        raise SettingError("seeds", "must hold at least one seed")
    return replace(budget, seeds=checked)


def _loss_ends(codes: Codes) -> tuple[float, float] | None:
    """The estimator's training loss at its start (the mean of the first 1 % of recorded steps, at
    least one) and at its end (``final_loss``), or None for a fitted estimator."""
    if codes.log is None:
        return None
    losses = codes.log.losses
    return float(losses[: max(1, len(losses) // 100)].mean()), codes.log.final_loss


def declared_assumptions(process: Part) -> frozenset[str]:
    """What the process declares of itself (its mechanism is built, nothing is drawn)."""
    data, _ = PROCESSES.build(process.name, Context(seed=0, problem_seed=0), process.given)
    return frozenset(data.assumptions)


@dataclass(frozen=True)
class Check:
    """One condition a verdict rests on: its name, whether it is met, and what was measured."""

    name: str
    met: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {'yes' if self.met else 'NO'} ({self.detail})"


@dataclass(frozen=True)
class Verdict:
    """The outcome of testing a claim on one process at one budget.

    Attributes:
        scores: the equivalence class's score of the held-out codes, one per seed.
        null: the score's 95th percentile for a representation independent of z (same n, d).
        raw: the score of the raw observations x as the representation, one per seed.
        reference: the score of the supervised reference (the same encoder trained to regress z at
            the same budget; a filter's state regressed, for a filter's claim), one per seed; None
            where it was not trained (``Claim.verify``'s ``reference``).
        warnings: per seed, the class metric's warnings that the data do not support its score.
        losses: per seed, the estimator's training loss at its start and end (None: fitted).
        profile: the first seed's codes' distance to every class (``metrics.profile``).
        missing: the claim's assumptions the process does not declare (the claim does not apply).
    """

    claim: Claim
    process: Part
    budget: Budget
    scores: tuple[float, ...]
    null: float
    raw: tuple[float, ...]
    reference: tuple[float, ...] | None
    warnings: tuple[tuple[str, ...], ...]
    losses: tuple[tuple[float, float] | None, ...]
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
    def margins(self) -> tuple[float, ...]:
        """Per seed, the score minus the raw observations' score of the class."""
        return tuple(s - r for s, r in zip(self.scores, self.raw))

    @property
    def checks(self) -> tuple[Check, ...]:
        """What the verdict rests on: the threshold on every seed, above chance, above the raw
        observations by the claim's margin on every seed (unless raw x may pass), no score the data
        do not support."""
        claim = self.claim
        raw_detail = f"raw x {', '.join(f'{r:.3f}' for r in self.raw)}, margin {claim.margin:g}"
        if any(r >= claim.threshold for r in self.raw):
            raw_detail += "; raw x reaches the class: the data do not test the claim"
        unsupported = sum(bool(w) for w in self.warnings)
        return (
            Check("threshold", min(self.scores) >= claim.threshold, f"least seed {min(self.scores):.3f}, threshold {claim.threshold:g}"),
            Check("above chance", self.informative, f"null (95%) {self.null:.3f}"),
            Check("above raw x", claim.raw_may_pass or min(self.margins) >= claim.margin,
                  raw_detail + ("; raw x may pass this claim" if claim.raw_may_pass else "")),
            Check("supported", not unsupported, f"{unsupported} of {len(self.scores)} seeds' scores unsupported by the data"
                  if unsupported else "no metric warning"),
        )

    @property
    def holds(self) -> bool:
        """The process has the claim's assumptions and every check is met."""
        return not self.missing and all(c.met for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim.name, "process": self.process.to_dict(), "budget": self.budget.name,
            "seeds": list(self.budget.seeds), "equivalence": self.claim.equivalence, "threshold": self.claim.threshold,
            "scores": list(self.scores), "interval": list(self.interval), "null": self.null, "raw": list(self.raw),
            "reference": None if self.reference is None else list(self.reference), "margin": self.claim.margin, "warnings": [list(w) for w in self.warnings],
            "losses": [None if ends is None else list(ends) for ends in self.losses],
            "checks": {c.name: c.met for c in self.checks}, "holds": self.holds, "missing": list(self.missing),
            "profile": self.profile.to_dict(),
        }

    def __str__(self) -> str:
        claim, (low, high) = self.claim, self.interval
        settings = ", ".join(f"{k}={v}" for k, v in self.process.given.items())
        applies = f"lacks {', '.join(self.missing)}: the claim does not apply" if self.missing else "has every assumption"
        outcome = "HOLDS" if self.holds else "DOES NOT HOLD"
        seeds = ", ".join(f"{s:.3f}" for s in self.scores)
        lines = [
            f"claim      {claim.name}: {claim.statement} ({claim.reference})",
            f"data       {self.process.name}({settings}) {applies}",
            f"budget     {self.budget.name}: seeds {', '.join(map(str, self.budget.seeds))}, {claim.recipe.describe(self.budget)}",
            f"{claim.equivalence:<10} {self.mean:.3f} [{low:.3f}, {high:.3f}] (seeds {seeds}), threshold {claim.threshold}: {outcome}",
            f"checks     {' | '.join(map(str, self.checks))}",
            f"baselines  null (95%) {self.null:.3f} | raw x {statistics.fmean(self.raw):.3f} | supervised reference "
            + ("not trained" if self.reference is None else f"{statistics.fmean(self.reference):.3f}"),
        ]
        trained = [(s, ends) for s, ends in zip(self.budget.seeds, self.losses) if ends is not None]
        if trained:
            lines.append("training   loss " + ", ".join(f"{a:.3f} -> {b:.3f} (seed {s})" for s, (a, b) in trained))
        lines += [f"warning    {w}" for ws in self.warnings for w in ws]
        lines.append(f"profile    {self.profile.line()} (seed {self.profile.settings['seed']})")
        return "\n".join(lines)


# An optimum of the violated model: (the built process, a held-out batch of it) -> (codes (n, k), the
# latents (n, d) they are scored against, before the claim's target)
Ideal = Callable[[Any, Any], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Control:
    """A negative control: ``claim`` (the claim, or a variant with a recipe that drops what its
    theorem needs) on ``problems`` that lack the ``violates`` assumptions, which must not hold, and
    the evidence that the violation is what fails it: the training had a signal (its loss fell by at
    least ``loss_drop``; None for a fitted estimator) and ``ideal``, a code the violated model is as
    happy with as with z (an optimum of its objective on these data), does not reach the class
    either, so the control does not fail merely because the training did not get far.

    Attributes:
        name: a short name.
        claim: the claim the control runs.
        problems: processes drawn for it (the claim's mixing depths).
        violates: the assumptions the problems lack (empty where the recipe drops one).
        reason: why the control must fail, in one sentence.
        loss_drop: the least fall of the training loss, start to end, in the loss's units.
        ideal: an optimum of the violated model, scored in the claim's class.
    """

    name: str
    claim: Claim
    problems: st.SearchStrategy[Part]
    violates: tuple[str, ...]
    reason: str
    loss_drop: float | None
    ideal: Ideal | None = None

    def ideal_score(self, process: Part, budget: Budget) -> float:
        """The class score of the ideal code on the budget's first seed's held-out draw (as
        ``experiment.evaluate`` draws it); 0 for a code constant in every column (it carries nothing)."""
        if self.ideal is None:
            raise SettingError("ideal", f"the control {self.name!r} names no ideal code")
        seed = budget.seeds[0]
        data, _ = PROCESSES.build(process.name, Context(seed=seed, problem_seed=seed), process.given)
        held = held_out(data, seed, budget.eval_samples, dtype=torch.float64)
        code, z = self.ideal(data, held)
        if not bool((code.amax(0) > code.amin(0)).any()):
            return 0.0
        return self.claim.score(code, z, seed).scores[self.claim.equivalence]

    def problem(self, verdict: Verdict, budget: Budget) -> str | None:
        """What is wrong with a control's verdict (None: nothing): it holds, or it fails for another
        reason than the violation (the process lacks other assumptions, the training had no
        signal, or the violated model's own optimum would pass)."""
        if verdict.holds:
            return "the control holds, so the claim's test cannot tell"
        failed = [c.name for c in verdict.checks if not c.met]
        if "threshold" not in failed:
            return f"the control fails only on {', '.join(failed) or 'its assumptions'}, not on its score"
        if not verdict.informative:
            return "chance meets the threshold: the control fails on nothing"
        if verdict.missing != self.violates:
            return f"the process lacks {verdict.missing}, the control says it violates {self.violates}"
        if self.loss_drop is not None:
            drops = [a - b for a, b in (ends for ends in verdict.losses if ends is not None)]
            if min(drops) < self.loss_drop:
                return f"the training had no signal: its loss fell by {min(drops):.3f} < {self.loss_drop:g}"
        if self.ideal is not None:
            ideal = self.ideal_score(verdict.process, budget)
            if ideal >= self.claim.threshold:
                return f"the violated model's own optimum scores {ideal:.3f} >= {self.claim.threshold:g}: the violation does not fail the class"
        return None
