"""Figure 6, the equivalence-class profile: for several estimators on several processes, how close
the codes come to each class of maps (permutation, monotone, orthogonal, affine) and which is the
finest they reach."""

from __future__ import annotations

import numpy as np

from identifiability.metrics.profile import LINEAR_CLASSES
from identifiability.store import summarise

from .figure import Figure, Rows, register
from .style import figure

TOLERANCE = 0.05  # a class is reached when its score is within this of 1 (as metrics.profile says)


def _score(cls: str) -> str:
    return f"metrics.profile.scores.{cls}"


def table(records: Rows, budget: str) -> Rows:
    rows = summarise(records, ("objective", "generator"), [_score(c) for c in LINEAR_CLASSES])
    out = []
    for r in sorted(rows, key=lambda r: (r["generator"], r["objective"])):
        scores = {c: r.get(_score(c)) for c in LINEAR_CLASSES}
        reached = [c for c in LINEAR_CLASSES if scores[c] is not None and scores[c] >= 1 - TOLERANCE]
        out.append({"objective": r["objective"], "generator": r["generator"], "runs": r["runs"], **scores,
                    "finest": reached[0] if reached else "none"})
    return out


def plot(rows: Rows):
    fig, axes = figure(1, 1, width=4.6, height=0.32 * len(rows) + 1.0)
    ax = axes[0, 0]
    grid = np.array([[r[c] if r[c] is not None else np.nan for c in LINEAR_CLASSES] for r in rows])
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for i, r in enumerate(rows):
        for j, c in enumerate(LINEAR_CLASSES):
            if r[c] is not None:
                ax.text(j, i, f"{r[c]:.2f}", ha="center", va="center", fontsize=6.5,
                        color="black" if r[c] > 0.6 else "white", fontweight="bold" if c == r["finest"] else "normal")
    ax.set_xticks(range(len(LINEAR_CLASSES)), LINEAR_CLASSES)
    ax.set_yticks(range(len(rows)), [f"{r['objective']} on {r['generator']}" for r in rows])
    ax.grid(False)
    ax.set_title("closeness to each class of maps (bold: finest reached)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="class score")
    return fig


def caption(rows: Rows, budget: str) -> str:
    seeds = max(r["runs"] for r in rows)
    reached = "; ".join(f"{r['objective']} on {r['generator']}: {r['finest']}" for r in rows)
    return (f"Equivalence-class profile ({budget} budget). Each cell: how close the held-out codes of an estimator "
            "(row) come to the true latents under a class of maps (column), as the class's score (permutation: Pearson "
            "MCC; monotone: Spearman MCC; orthogonal: R^2 of the best scaled orthogonal map of the whitened latents; "
            "affine: the smaller of the forward and reverse affine R^2), "
            f"mean over {seeds} seeds. Bold: the finest class reached (score within {TOLERANCE} of 1). Reached: {reached}.")


FIGURE = register(Figure("profiles", "Which class of maps each of several estimators reaches on several processes (the equivalence-class profile).",
                         table, plot, caption))
