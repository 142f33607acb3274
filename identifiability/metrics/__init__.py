"""Identifiability metrics: scores of a learned representation against the true latents."""

from .baselines import random_orthogonal, rotation_baseline
from .mcc import mcc
from .null import monte_carlo_null
from .r2 import affine_r2
from .result import MCCResult, MetricResult, Null

__all__ = [
    "MCCResult",
    "MetricResult",
    "Null",
    "affine_r2",
    "mcc",
    "monte_carlo_null",
    "random_orthogonal",
    "rotation_baseline",
]
