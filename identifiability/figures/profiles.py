"""Figure 6, the equivalence-class profile: for several estimators on several processes, how close
the codes come to each class of maps (permutation, monotone, orthogonal, affine) and which is the
finest they reach, beside the raw observations' own profile on each process."""

from __future__ import annotations

import numpy as np

from identifiability.metrics.profile import LINEAR_CLASSES, finest_of, reached_of
from identifiability.records import summarise

from .figure import Figure, Rows, register
from .style import figure

TOLERANCE = 0.05  # a class is reached when its score is within this of 1 (as metrics.profile says)


RAW = "raw x"  # the row of the observations themselves, one per process


def _score(cls: str, raw: bool = False) -> str:
    return f"raw_x.profile.{cls}" if raw else f"profile.{cls}"


def table(records: Rows, budget: str) -> Rows:
    estimators = summarise(records, ("objective", "process"), [_score(c) for c in LINEAR_CLASSES])
    raw = summarise(records, ("process",), [_score(c, raw=True) for c in LINEAR_CLASSES])
    out = []
    for r, is_raw in [*((r, False) for r in estimators), *((r | {"objective": RAW}, True) for r in raw)]:
        scores = {c: r.get(_score(c, is_raw)) for c in LINEAR_CLASSES}
        finest = finest_of(reached_of({c: s for c, s in scores.items() if s is not None}, TOLERANCE))
        out.append({"objective": r["objective"], "process": r["process"], "runs": r["runs"], **scores,
                    "finest": ", ".join(finest) or "none"})
    return sorted(out, key=lambda r: (r["process"], r["objective"] != RAW, r["objective"]))


def plot(rows: Rows):
    fig, axes = figure(1, 1, width=4.6, height=0.32 * len(rows) + 1.0)
    ax = axes[0, 0]
    grid = np.array([[r[c] if r[c] is not None else np.nan for c in LINEAR_CLASSES] for r in rows])
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for i, r in enumerate(rows):
        for j, c in enumerate(LINEAR_CLASSES):
            if r[c] is not None:
                ax.text(j, i, f"{r[c]:.2f}", ha="center", va="center", fontsize=6.5,
                        color="black" if r[c] > 0.6 else "white",
                        fontweight="bold" if c in r["finest"].split(", ") else "normal")
    ax.set_xticks(range(len(LINEAR_CLASSES)), LINEAR_CLASSES)
    ax.set_yticks(range(len(rows)), [f"{r['objective']} on {r['process']}" for r in rows])
    for label, r in zip(ax.get_yticklabels(), rows):
        if r["objective"] == RAW:
            label.set_fontstyle("italic")
    ax.grid(False)
    ax.set_title("closeness to each class of maps (bold: finest reached)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="class score")
    return fig


def caption(rows: Rows, budget: str) -> str:
    seeds = max(r["runs"] for r in rows if r["objective"] != RAW)  # a raw-x row pools every run on its process
    reached = "; ".join(f"{r['objective']} on {r['process']}: {r['finest']}" for r in rows)
    return (f"Equivalence-class profile ({budget} budget). Each cell: how close the held-out codes of an estimator "
            "(row) come to the true latents under a class of maps (column), as the class's score, all on the R^2 scale "
            "(permutation: mean squared matched Pearson correlation; monotone: the same with Spearman's; orthogonal: R^2 "
            "of the latents, not whitened, by the best scaled orthogonal map; affine: the smaller of the forward and "
            f"reverse affine R^2), mean over {seeds} seeds. Italic rows: the raw observations x, what a code must beat on "
            f"each process (the mean over every run on it). Bold: the finest classes reached (score within {TOLERANCE} of 1, every coarser class reached "
            f"too). Reached: {reached}.")


FIGURE = register(Figure("profiles", "Which class of maps each of several estimators reaches on several processes (the equivalence-class profile).",
                         table, plot, caption, converges=tuple(_score(c) for c in LINEAR_CLASSES)))
