"""The built-in parts, registered by name: importing this package fills the registries."""

from . import encoders, processes, objectives  # noqa: F401  (registration happens on import)
from .objectives import default_objective

__all__ = ["default_objective"]
