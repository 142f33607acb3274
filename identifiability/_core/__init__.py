"""The layer below every other, which any layer may import: argument checks, memory estimates and
seeded random streams.

It depends on numpy and torch only, so that ``processes`` and ``identifiability`` validate and
seed alike without importing each other.
"""

from .checks import SEED_RANGE, SettingError, check_bool, check_choice, check_float, check_int, check_seed
from .limits import MAX_CONCENTRATION
from .memory import available_memory, check_fits, format_bytes
from .seeding import Seed, as_generator, derive_seed, on_device

__all__ = [
    "MAX_CONCENTRATION",
    "SEED_RANGE",
    "Seed",
    "SettingError",
    "as_generator",
    "available_memory",
    "check_bool",
    "check_choice",
    "check_fits",
    "check_float",
    "check_int",
    "check_seed",
    "derive_seed",
    "format_bytes",
    "on_device",
]
