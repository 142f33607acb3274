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

from .plateau import Cell, describe, doubled, measure  # noqa: E402
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
        converges: the scores of its trained codes whose distance to the plateau its caption states,
            where the store holds its runs at twice their steps (``plateau``).
    """

    name: str
    summary: str
    table: Callable[[Rows, str], Rows]
    plot: Callable[[Rows], Any]
    caption: Callable[[Rows, str], str]
    sweep: bool = True
    converges: tuple[str, ...] = ("affine_r2",)


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
            progress: bool = False, plateau: bool = False) -> tuple[Rows, SweepReport | None, list[Cell] | None]:
    """The successful records of the figure's runs at ``budget``, running those ``store`` lacks (with
    ``plateau``, each run at twice its steps too), and its cells' distances to the plateau where the
    store holds every run at twice its steps (else None)."""
    if not figure.sweep:
        return [], None, None
    specs = load_sweep(sweep_file(figure.name, budget))
    runs = [*specs, *map(doubled, specs)] if plateau else specs
    report = run_sweep(runs, store, workers=workers, scheduler=scheduler, progress=progress)
    latest = store.latest()
    found = [latest[s.key] for s in specs if s.key in latest and latest[s.key]["status"] == OK]
    return found, report, measure(specs, latest, figure.converges)


@dataclass(frozen=True)
class Rendered:
    """What ``make`` wrote, the sweep behind it (None for a figure without runs), its wall time and its
    cells' distances to the plateau (None where not measured)."""

    paths: list[Path]
    sweep: SweepReport | None
    seconds: float
    plateau: list[Cell] | None = None


def make(name: str, budget: str = "fast", out: str | Path = "figures", *, store: str | Path | None = None,
         workers: int = 1, scheduler: str | None = None, progress: bool = False, plateau: bool = False) -> Rendered:
    """Run what figure ``name`` needs at ``budget`` (into ``store``, default ``out/BUDGET.jsonl``),
    then write ``out/NAME.png``, ``.pdf``, ``.csv`` (its table) and ``.txt`` (its caption). With
    ``plateau`` every run is trained at twice its steps too, and the caption says how far each
    cell's mean moved (it says so whenever the store holds those runs)."""
    began = time.perf_counter()
    figure = FIGURES.get(name)
    if figure is None:
        raise SettingError("name", f"must be one of {', '.join(FIGURES)} or all, got {name!r}")
    check_choice("budget", budget, BUDGETS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    found, report, cells = records(figure, budget, Store(store or out / f"{budget}.jsonl"), workers=workers,
                                   scheduler=scheduler, progress=progress, plateau=plateau)
    rows = figure.table(found, budget)
    if not rows:
        raise ValueError(f"figure {name!r}: no successful runs to draw (see `identifiability report --failed`)")
    return Rendered(write(figure, rows, budget, out, cells), report, time.perf_counter() - began, cells)


def write(figure: Figure, rows: Rows, budget: str, out: str | Path, plateau: list[Cell] | None = None) -> list[Path]:
    """The figure's four files from its rows, in ``out`` (made if missing); the caption ends with
    the ``plateau`` cells' distances where given."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{figure.name}.{ext}" for ext in ("png", "pdf", "csv", "txt")]
    with plt.rc_context(STYLE):
        drawn = figure.plot(rows)
        drawn.savefig(paths[0], dpi=200)
        drawn.savefig(paths[1])
    plt.close(drawn)
    paths[2].write_text(to_csv(rows))
    caption = figure.caption(rows, budget) + ("" if plateau is None else " " + describe(plateau))
    paths[3].write_text(caption + "\n")
    return paths
