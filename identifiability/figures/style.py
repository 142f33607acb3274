"""One style for every figure: colour-blind-safe colours (Okabe & Ito), light grids, intervals as
bands, baselines as thin lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

# Okabe & Ito (2008), safe for the common colour-vision deficiencies; black for oracles
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
BASELINE = "#777777"

STYLE = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.3, "grid.linewidth": 0.5, "lines.linewidth": 1.4, "lines.markersize": 4,
    "savefig.bbox": "tight", "figure.dpi": 100, "legend.frameon": False,
}


def figure(rows: int, cols: int, width: float = 7.0, height: float = 2.4) -> tuple[Any, np.ndarray]:
    """A figure of rows x cols panels (always a 2-d array of axes); drawn inside ``STYLE``
    (``figure.write`` sets it)."""
    return plt.subplots(rows, cols, figsize=(width, height * rows), squeeze=False, layout="constrained")


def series(ax: Any, x: Sequence[float], mean: Sequence[float], low: Sequence[float], high: Sequence[float], *,
           label: str, colour: str, marker: str = "o") -> None:
    """A mean line with markers and its interval as a band."""
    ax.plot(x, mean, marker=marker, color=colour, label=label)
    ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)


def baseline(ax: Any, x: Sequence[float], y: Sequence[float], *, label: str, style: str = "--", colour: str = BASELINE) -> None:
    """A reference level (null, raw observations, rotation, oracle): a thin line without markers."""
    ax.plot(x, y, style, color=colour, linewidth=0.9, label=label)


def values(rows: Sequence[dict[str, Any]], key: str) -> list[float]:
    """The column ``key`` of rows as floats (NaN where missing)."""
    return [float(r[key]) if r.get(key) is not None else float("nan") for r in rows]
