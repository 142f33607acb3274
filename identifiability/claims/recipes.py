"""Estimator recipes a claim names: trained by the toolkit, or fitted scikit-learn style.

A recipe gives, for each seed of a budget, the held-out codes of the estimator and (where asked for)
of its supervised reference (the same model told z at the same budget; a reference, not a bound: an
estimator may beat it at a fixed budget), and the estimator's training log: the claim scores both codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

import torch
from sklearn.linear_model import LinearRegression

from identifiability._core import SettingError, check_int, derive_seed

from ..experiment import ExperimentResult, held_out, run_experiments
from ..objectives.base import Readout
from ..training import TrainingLog
from ..registry import PROCESSES, Context
from ..records import CODE
from ..specs import Evaluation, ExperimentSpec, Part, Training
from .budgets import Budget


@dataclass(frozen=True)
class Codes:
    """One seed's held-out codes: the estimator's and, where asked for, the supervised reference's
    (None where not); and the estimator's training ``log`` (None for a fitted estimator)."""

    estimator: Readout
    supervised: Readout | None
    log: TrainingLog | None = None


class Recipe(Protocol):
    def codes(self, process: Part, budget: Budget, *, device: str = "cpu", reference: bool = True) -> list[Codes]: ...

    def describe(self, budget: Budget) -> str: ...


@dataclass(frozen=True)
class Trained:
    """An encoder and an objective by name (with settings), trained for ``fast_steps`` or ``full_steps``.

    The supervised reference trains the same encoder with the ``supervised`` objective (regress z)
    at the same budget (``reference``, by default ``supervised``). Seeds of one budget train together
    where the parts allow it. ``readout`` names what is scored: the per-frame code, or a readout the
    objective offers (``Objective.readouts``: "state", a filter's state at the last step of each
    sequence, scored against that step's latents), of the estimator and of the reference alike (a
    filter's reference is ``supervised-filter``, the same encoder and filter trained to regress z_t
    from the filtered state).
    """

    encoder: Part
    objective: Part
    fast_steps: int
    full_steps: int
    batch_size: int = 512
    lr: float = 3e-3
    lr_schedule: str = "constant"  # the claims' thresholds were measured at a constant rate
    readout: str = CODE
    reference: Part = Part("supervised")

    def __post_init__(self) -> None:
        check_int("fast_steps", self.fast_steps, low=1)
        check_int("full_steps", self.full_steps, low=1)

    def specs(self, process: Part, budget: Budget, device: str = "cpu") -> list[ExperimentSpec]:
        """The runs behind one verification: one per seed (each seed its own problem)."""
        training = Training(steps=self.full_steps if budget.name == "full" else self.fast_steps, batch_size=self.batch_size, lr=self.lr,
                            lr_schedule=self.lr_schedule)
        return [ExperimentSpec(process=process, encoder=self.encoder, objective=self.objective, training=training,
                               evaluation=Evaluation(eval_samples=budget.eval_samples), seed=seed, device=device)
                for seed in budget.seeds]

    def codes(self, process: Part, budget: Budget, *, device: str = "cpu", reference: bool = True) -> list[Codes]:
        specs = self.specs(process, budget, device)
        runs = _runs(tuple(specs))
        references = _runs(tuple(replace(spec, objective=self.reference) for spec in specs)) if reference else (None,) * len(runs)
        missing = [r for r in (*runs, *references) if r is not None and self.readout not in (r.held_out or {})]
        if missing:
            raise SettingError("readout", f"{missing[0].spec.objective.name!r} offers no readout {self.readout!r} "  # type: ignore[union-attr]
                                          f"(it offers: {', '.join(missing[0].held_out or {})})")
        return [Codes(r.held_out[self.readout], None if s is None else s.held_out[self.readout], r.training)  # type: ignore[index]
                for r, s in zip(runs, references)]

    def describe(self, budget: Budget) -> str:
        steps = self.full_steps if budget.name == "full" else self.fast_steps
        scored = "" if self.readout == CODE else f", its {self.readout} scored"
        return f"{self.encoder.name} + {self.objective.name}, {steps} steps x batch {self.batch_size}{scored}"


@lru_cache(maxsize=32)
def _runs(specs: tuple[ExperimentSpec, ...]) -> tuple[ExperimentResult, ...]:
    """The results of runs, with every readout's held-out codes, kept for the process: a claim and
    its control that train the same estimator (a different target, class or readout of it) or the
    same supervised reference (the same encoder, process and budget) train it once."""
    return tuple(run_experiments(list(specs), keep_codes=True))


@dataclass(frozen=True)
class Fitted:
    """An estimator fitted outside the trainer, scikit-learn style: ``make(seed)`` gives an object
    with ``fit(x)`` and ``transform(x)``, fitted on ``fast_samples`` or ``full_samples`` draws of the first step's
    observations (flattened); the supervised reference is ``supervised(seed)``, fitted as
    ``fit(x, z)`` and read with ``predict`` (default: least squares, the linear model told z)."""

    name: str
    make: Callable[[int], Any]
    fast_samples: int
    full_samples: int
    supervised: Callable[[int], Any] = lambda seed: LinearRegression()  # noqa: E731

    def codes(self, process: Part, budget: Budget, *, device: str = "cpu", reference: bool = True) -> list[Codes]:
        samples = self.full_samples if budget.name == "full" else self.fast_samples
        out = []
        for seed in budget.seeds:
            data, _ = PROCESSES.build(process.name, Context(seed=seed, problem_seed=seed), process.given)
            train = data.sample(samples, derive_seed(seed, "train"))
            held = held_out(data, seed, budget.eval_samples)
            x, z = train.x[:, 0].flatten(1).numpy(), train.z[:, 0].numpy()
            x_held, z_held = held.x[:, 0].flatten(1), held.z[:, 0]
            estimator = self.make(seed).fit(x)
            told = self.supervised(seed).fit(x, z) if reference else None
            out.append(Codes(
                Readout(torch.as_tensor(estimator.transform(x_held.numpy())), z_held, x_held),
                None if told is None else Readout(torch.as_tensor(told.predict(x_held.numpy())), z_held, x_held),
            ))
        return out

    def describe(self, budget: Budget) -> str:
        return f"{self.name}, fitted on {self.full_samples if budget.name == 'full' else self.fast_samples} samples"
