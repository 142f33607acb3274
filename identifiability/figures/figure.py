"""A figure of the theory's empirical case: the runs it needs (a sweep file per budget), the table
it draws from their records, the plot and its caption; ``make`` writes all four.

Figures register by name (``register``); nothing re-trains to draw a picture: ``make`` runs only the
sweep's runs the results store does not hold yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from identifiability._core import SettingError, check_choice  # noqa: E402
from identifiability.claims.budgets import BUDGETS as CLAIM_BUDGETS  # noqa: E402
from identifiability.records import OK, Store, to_csv  # noqa: E402
from identifiability.sweeps import SweepReport, load_sweep, run_sweep  # noqa: E402

from .style import STYLE  # noqa: E402

Rows = list[dict[str, Any]]
BUDGETS = tuple(CLAIM_BUDGETS)  # one vocabulary for claims and figures: "fast" (a laptop) and "full"
SWEEPS = Path(__file__).parent / "sweeps"


@dataclass(frozen=True)
class Figure:
    """One figure.

    Attributes:
        name: its name (``identifiability figs NAME``).
        summary: what it shows, one sentence.
        table: (records of its sweep's runs, budget) -> rows, the numbers the plot draws (a figure
            without a sweep gets no records and computes its rows).
        plot: rows -> a matplotlib figure.
        caption: (rows, budget) -> the caption: what is plotted, n, seeds, budget.
        sweep: whether ``sweeps/NAME.BUDGET.toml`` names its runs.
    """

    name: str
    summary: str
    table: Callable[[Rows, str], Rows]
    plot: Callable[[Rows], Any]
    caption: Callable[[Rows, str], str]
    sweep: bool = True


FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    """Add ``figure`` to ``FIGURES`` under its name."""
    if figure.name in FIGURES:
        raise ValueError(f"a figure named {figure.name!r} is registered already")
    FIGURES[figure.name] = figure
    return figure


def sweep_file(name: str, budget: str) -> Path:
    return SWEEPS / f"{name}.{budget}.toml"


def records(figure: Figure, budget: str, store: Store, *, workers: int = 1, scheduler: str | None = None,
            progress: bool = False) -> tuple[Rows, SweepReport | None]:
    """The successful records of the figure's runs at ``budget``, running those ``store`` lacks."""
    if not figure.sweep:
        return [], None
    specs = load_sweep(sweep_file(figure.name, budget))
    report = run_sweep(specs, store, workers=workers, scheduler=scheduler, progress=progress)
    latest = store.latest()
    return [latest[s.key] for s in specs if s.key in latest and latest[s.key]["status"] == OK], report


@dataclass(frozen=True)
class Rendered:
    """What ``make`` wrote, the sweep behind it (None for a figure without runs) and its wall time."""

    paths: list[Path]
    sweep: SweepReport | None
    seconds: float


def make(name: str, budget: str = "fast", out: str | Path = "figures", *, store: str | Path | None = None,
         workers: int = 1, scheduler: str | None = None, progress: bool = False) -> Rendered:
    """Run what figure ``name`` needs at ``budget`` (into ``store``, default ``out/BUDGET.jsonl``),
    then write ``out/NAME.png``, ``.pdf``, ``.csv`` (its table) and ``.txt`` (its caption)."""
    began = time.perf_counter()
    figure = FIGURES.get(name)
    if figure is None:
        raise SettingError("name", f"must be one of {', '.join(FIGURES)} or all, got {name!r}")
    check_choice("budget", budget, BUDGETS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    found, report = records(figure, budget, Store(store or out / f"{budget}.jsonl"), workers=workers,
                            scheduler=scheduler, progress=progress)
    rows = figure.table(found, budget)
    if not rows:
        raise ValueError(f"figure {name!r}: no successful runs to draw (see `identifiability report --failed`)")
    return Rendered(write(figure, rows, budget, out), report, time.perf_counter() - began)


def write(figure: Figure, rows: Rows, budget: str, out: str | Path) -> list[Path]:
    """The figure's four files from its rows, in ``out`` (made if missing)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{figure.name}.{ext}" for ext in ("png", "pdf", "csv", "txt")]
    with plt.rc_context(STYLE):
        drawn = figure.plot(rows)
        drawn.savefig(paths[0], dpi=200)
        drawn.savefig(paths[1])
    plt.close(drawn)
    paths[2].write_text(to_csv(rows))
    paths[3].write_text(figure.caption(rows, budget) + "\n")
    return paths
