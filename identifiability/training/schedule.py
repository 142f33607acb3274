"""Learning-rate schedules: a linear warm-up, then a decay by name, as a factor of the base rate.

The factor depends on the step alone (a Python float, so no step waits for the host and a resumed
run continues on the same schedule without saving any state of it).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from identifiability._core import SettingError, check_int

DECAYS: dict[str, Callable[[float], float]] = {}


def decay(name: str) -> Callable[[Callable[[float], float]], Callable[[float], float]]:
    """Register a decay under ``name``: a map from the fraction of the run done after the warm-up,
    in [0, 1), to a factor of the base learning rate."""

    def register(function: Callable[[float], float]) -> Callable[[float], float]:
        DECAYS[name] = function
        return function

    return register


@decay("constant")
def _constant(done: float) -> float:
    return 1.0


@decay("cosine")
def _cosine(done: float) -> float:
    """Half a cosine period from 1 to 0 (Loshchilov & Hutter's SGDR without restarts)."""
    return 0.5 * (1.0 + math.cos(math.pi * done))


def check_schedule(name: str, warmup: int, steps: int) -> None:
    """A SettingError unless ``name`` is a registered decay and ``warmup`` fits in ``steps``."""
    if name not in DECAYS:
        raise SettingError("lr_schedule", f"must be one of {sorted(DECAYS)}, got {name!r}")
    check_int("lr_warmup", warmup, low=0, high=steps - 1)


def rate_factor(step: int, steps: int, name: str = "constant", warmup: int = 0) -> float:
    """The factor of the base learning rate at ``step`` (0-based) of ``steps``: (step + 1) / warmup
    during the warm-up, then the decay ``name`` of the fraction of the remaining steps done."""
    if step < warmup:
        return (step + 1) / warmup
    return DECAYS[name]((step - warmup) / (steps - warmup))
