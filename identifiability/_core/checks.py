"""Argument checks that name the argument: one clear line, never a wrong number later."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any


class SettingError(ValueError):
    """A setting with a bad value: ``name`` is the setting, ``reason`` what is wrong with it.

    ``str(error)`` reads "name reason", e.g. "kappa must be positive, got -1.0"; a command line
    can put its own spelling of the name in front of ``reason``.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name} {reason}")
        self.name, self.reason = name, reason


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in [low, high]; bools, floats and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SettingError(name, f"must be an integer, got {value!r}")
    value = int(value)
    if low is not None and value < low or high is not None and value > high:
        raise SettingError(name, f"must lie in {_interval(low, high, False, False)}, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool; numbers and strings such as "yes" are refused."""
    if not isinstance(value, bool):
        raise SettingError(name, f"must be True or False, got {value!r}")
    return value


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the interval [low, high] (open at an end where asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SettingError(name, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise SettingError(name, f"must be a finite number, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise SettingError(name, f"must lie in {_interval(low, high, low_open, high_open)}, got {value:g}")
    return value


def check_choice(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise SettingError(name, f"must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    def show(x: float) -> str:
        return str(x) if isinstance(x, int) else f"{x:g}"

    left = "(-inf" if low is None else f"{'(' if low_open else '['}{show(low)}"
    right = "inf)" if high is None else f"{show(high)}{')' if high_open else ']'}"
    return f"{left}, {right}"


SEED_RANGE = (0, 2**63 - 1)


def check_seed(name: str, value: Any) -> int:
    """``value`` as a seed: an integer in [0, 2^63 - 1]."""
    return check_int(name, value, low=SEED_RANGE[0], high=SEED_RANGE[1])
