"""Identifiability metrics: scores of a learned representation against the true latents.

Every metric fits on a seeded train split and scores on the held-out rest, takes numpy or torch
input on any device, and returns a frozen result whose ``.score`` (and ``float()``) is the headline,
with per-latent values, the in-sample variant, and on request its chance level (``null=True``) and
a bootstrap interval (``bootstrap=B``). ``profile`` scores one representation for every class of
maps at once (permutation, monotone, orthogonal, affine, smooth, block) and names the finest reached.
"""

from .baselines import random_orthogonal, raw_observation_baseline, rotation_baseline
from .dci import dci, disentanglement_completeness
from .mcc import mcc, weak_mcc
from .profile import CLASSES, Profile, profile
from .r2 import affine_r2, nonlinear_r2
from .result import DCIResult, MCCResult, MetricResult, Null, R2Result
from .spectrum import participation_ratio

__all__ = [
    "CLASSES",
    "DCIResult",
    "MCCResult",
    "MetricResult",
    "Null",
    "Profile",
    "R2Result",
    "affine_r2",
    "dci",
    "disentanglement_completeness",
    "mcc",
    "nonlinear_r2",
    "participation_ratio",
    "profile",
    "random_orthogonal",
    "raw_observation_baseline",
    "rotation_baseline",
    "weak_mcc",
]
