"""Identifiability claims as data, their verdicts, a library from the literature, and pytest helpers."""

from .budgets import BUDGETS, Budget
from .claim import Claim, Verdict
from .recipes import Codes, Fitted, Trained
from .testing import ClaimFailed, assert_fails, assert_holds

__all__ = ["BUDGETS", "Budget", "Claim", "ClaimFailed", "Codes", "Fitted", "Trained", "Verdict", "assert_fails", "assert_holds"]
