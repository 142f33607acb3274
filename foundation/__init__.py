"""The layer below every other, which any layer may import: argument checks and memory estimates.

It depends on the standard library and torch only, so that ``generators`` and ``identifiability``
validate alike without importing each other.
"""

from .checks import SEED_RANGE, SettingError, check_choice, check_float, check_int, check_seed
from .memory import available_memory, check_fits, format_bytes

__all__ = [
    "SEED_RANGE",
    "SettingError",
    "available_memory",
    "check_choice",
    "check_fits",
    "check_float",
    "check_int",
    "check_seed",
    "format_bytes",
]
