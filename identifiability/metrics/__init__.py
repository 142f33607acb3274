"""Identifiability metrics: scores of a learned representation against the true latents.

Every metric fits on a seeded train split and scores on the held-out rest, takes numpy or torch
input on any device, and returns a frozen result whose ``.score`` (and ``float()``) is the headline,
with per-latent values, the in-sample variant, and on request its chance level (``null=True``) and
a bootstrap interval (``bootstrap=B``).
"""

from .baselines import random_orthogonal, raw_observation_baseline, rotation_baseline
from .dci import dci, disentanglement_completeness
from .mcc import mcc, weak_mcc
from .r2 import affine_r2, nonlinear_r2
from .result import DCIResult, MCCResult, MetricResult, Null, R2Result

__all__ = [
    "DCIResult",
    "MCCResult",
    "MetricResult",
    "Null",
    "R2Result",
    "affine_r2",
    "dci",
    "disentanglement_completeness",
    "mcc",
    "nonlinear_r2",
    "random_orthogonal",
    "raw_observation_baseline",
    "rotation_baseline",
    "weak_mcc",
]
