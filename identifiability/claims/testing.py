"""Claims as tests: one helper call checks a claim on every process a Hypothesis strategy draws.

    def test_infonce_inverts_the_mixing(claims_budget):
        assert_holds(CONTRASTIVE, sphere_problems(), claims_budget)

``claims_budget`` is the pytest plugin's fixture (``--claims-budget=fast|full``). Each drawn
process is one verification (every seed of the budget trains); Hypothesis runs without deadline,
derandomised (the same processes on every run, in CI too) and without a database, and on failure
shrinks the process and reports it with the verdict: the scores, the null and the baselines.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ..specs import Part
from .budgets import Budget, as_budget
from .claim import Claim, Control, Verdict


class ClaimFailed(AssertionError):
    """A claim did not hold where it should, or held where its control says it must not."""


def _for_each(processes: st.SearchStrategy[Part], budget: Budget, check) -> None:
    @settings(max_examples=budget.examples, deadline=None, derandomize=True, database=None,
              phases=(Phase.explicit, Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    @given(processes)
    def each(process: Part) -> None:
        check(process)

    each()


def _with_reference(claim: Claim, verdict: Verdict) -> Verdict:
    """The verdict again, with its supervised reference. No check rests on the reference, so the
    helpers here train it only for a verdict they report; the estimator's training is the one just
    made (``recipes`` keeps it), so only the reference trains."""
    return claim.verify(verdict.process, verdict.budget)


def _verdicts(claim: Claim, processes: st.SearchStrategy[Part], budget: str | Budget, problem) -> list[Verdict]:
    """Verify ``claim`` on every process drawn; ``problem(verdict)`` says what is wrong with a
    verdict (None: nothing), raised as ``ClaimFailed`` with the verdict and its reference."""
    verdicts: list[Verdict] = []

    def check(process: Part) -> None:
        verdict = claim.verify(process, as_budget(budget), reference=False)
        verdicts.append(verdict)
        if (message := problem(verdict)) is not None:
            raise ClaimFailed(f"{message}:\n{_with_reference(claim, verdict)}")

    _for_each(processes, as_budget(budget), check)
    return verdicts


def assert_holds(claim: Claim, processes: st.SearchStrategy[Part], budget: str | Budget = "fast") -> list[Verdict]:
    """Check that ``claim`` holds on every process drawn (each must declare the claim's
    assumptions); returns the verdicts. Raises ``ClaimFailed`` with the verdict otherwise."""
    return _verdicts(claim, processes, budget, lambda v: (
        "the strategy drew a process the claim does not apply to" if v.missing
        else None if v.holds else "the claim does not hold"))


def assert_fails(claim: Claim, processes: st.SearchStrategy[Part], budget: str | Budget = "fast") -> list[Verdict]:
    """Check that ``claim`` does not hold on any process drawn; returns the verdicts. Raises
    ``ClaimFailed`` with the verdict where it holds anyway. (A library control is checked by
    ``assert_control``, which also asks why it fails.)"""
    return _verdicts(claim, processes, budget,
                     lambda v: "the claim holds, where the test says it must not" if v.holds else None)


def pass_rate(
    claim: Claim, processes: st.SearchStrategy[Part], seeds: tuple[int, ...], examples: int = 2, budget: str | Budget = "fast"
) -> list[Verdict]:
    """The claim verified on each of ``examples`` processes drawn (as a budget draws them) and each of
    ``seeds`` on its own (one verdict per process and seed, at ``budget``'s training): the share
    that holds is how often one fast test of the claim passes. A verdict that does not hold carries
    its supervised reference; one that holds, none."""
    budget = replace(as_budget(budget), examples=examples)
    drawn: list[Part] = []
    _for_each(processes, budget, drawn.append)
    verdicts = [claim.verify(process, budget, seeds=(seed,), reference=False) for process in drawn for seed in seeds]
    return [v if v.holds else _with_reference(claim, v) for v in verdicts]


def assert_control(control: Control, budget: str | Budget = "fast") -> list[Verdict]:
    """Check a negative control on every process its strategy draws: the claim does not hold, and
    for the reason the control gives (``Control.problem``: the processes lack exactly the violated
    assumptions, the score falls below the threshold above chance, the training had a signal, and
    the violated model's own optimum fails the class). Raises ``ClaimFailed`` otherwise."""
    budget = as_budget(budget)
    return _verdicts(control.claim, control.problems, budget, lambda v: control.problem(v, budget))
