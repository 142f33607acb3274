"""The theory figures, each regenerated from the toolkit's own runs (``identifiability figs NAME``)."""

from . import calibration, contrastive, gallery, kalman, ldm_grid, one_to_many, profiles  # noqa: F401  (each module registers its figure)
from .figure import BUDGETS, FIGURES, Figure, Made, make, register, write

__all__ = ["BUDGETS", "FIGURES", "Figure", "Made", "make", "register", "write"]
