"""Identifiability claims as data, their verdicts, a library from the literature, and pytest helpers."""

from .budgets import BUDGETS, Budget
from .claim import Check, Claim, Control, Verdict
from .equivalence import Equivalent, EquivalenceVerdict, equivalence_p_value
from .recipes import Codes, Fitted, Trained
from .testing import ClaimFailed, assert_control, assert_fails, assert_holds

__all__ = ["BUDGETS", "Budget", "Check", "Claim", "ClaimFailed", "Codes", "Control", "EquivalenceVerdict", "Equivalent",
           "Fitted", "Trained", "Verdict", "assert_control", "assert_fails", "assert_holds", "equivalence_p_value"]
