"""The theory figures, each regenerated from the toolkit's own runs (``identifiability figs NAME``).

Every module of this package but the shared ``figure``, ``plateau`` and ``style`` registers one figure
(``register(Figure(...))``) with its sweep files in ``sweeps/``: a new figure is a new module here.
"""

import importlib
import pkgutil

from .figure import BUDGETS, FIGURES, Figure, Rendered, make, register, write

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in ("figure", "plateau", "style"):
        importlib.import_module(f"{__name__}.{_module}")  # each registers its figure

__all__ = ["BUDGETS", "FIGURES", "Figure", "Rendered", "make", "register", "write"]
