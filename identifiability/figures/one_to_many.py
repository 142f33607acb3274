"""Figure 4, one-to-many uncertainty (AdaSSL's case): affine R^2, MCC and DCI disentanglement of
InfoNCE, BYOL, AdaSSL-V, AdaSSL-S, SimVAE and the oracle against the uncertainty of the transitions
on jump, sparse_resample and hetero."""

from __future__ import annotations

from identifiability.records import summarise

from .figure import Figure, Rows, register
from .style import COLOURS, baseline, figure, series, values

METHODS = {"plane-kde-ldm": "InfoNCE (Gaussian)", "byol": "BYOL", "adassl-v": "AdaSSL-V", "adassl-s": "AdaSSL-S",
           "simvae": "SimVAE", "adassl-oracle": "oracle (true action)"}
PROCESSES = ("jump", "sparse_resample", "hetero")
SCORES = ("affine_r2", "mcc", "dci")
# what each score must beat to mean anything: the raw observations' score and the null's 95th percentile
# (DCI's null gates the score itself: it is NaN, not drawn, where the code is not informative beyond chance)
REFERENCES = {"affine_r2": ("raw_x.affine_r2", "affine_r2.null"), "mcc": ("raw_x.mcc", "mcc.null"), "dci": ("raw_x.dci", None)}
LABELS = {"affine_r2": "affine R$^2$", "mcc": "MCC (Pearson)", "dci": "DCI disentanglement"}


def table(records: Rows, budget: str) -> Rows:
    rows = summarise(records, ("process", "objective", "process.uncertainty"), SCORES)
    order = list(METHODS)
    return sorted(rows, key=lambda r: (PROCESSES.index(r["process"]) if r["process"] in PROCESSES else 9,
                                       order.index(r["objective"]) if r["objective"] in order else 99, r["process.uncertainty"]))


def plot(rows: Rows):
    processes = [g for g in PROCESSES if any(r["process"] == g for r in rows)]
    fig, axes = figure(len(SCORES), len(processes), width=2.6 * len(processes), height=2.0)
    for col, process in enumerate(processes):
        for row, score in enumerate(SCORES):
            ax = axes[row, col]
            for i, (method, name) in enumerate(METHODS.items()):
                mine = sorted((r for r in rows if r["process"] == process and r["objective"] == method and score in r),
                              key=lambda r: r["process.uncertainty"])
                if mine:
                    x = [r["process.uncertainty"] for r in mine]
                    series(ax, x, values(mine, score), values(mine, f"{score}_low"), values(mine, f"{score}_high"),
                           label=name, colour=COLOURS[i])
            # the references: one value per uncertainty (the same data for every method), from InfoNCE's rows
            cells = sorted((r for r in rows if r["process"] == process and r["objective"] == "plane-kde-ldm"),
                           key=lambda r: r["process.uncertainty"])
            raw, null = REFERENCES[score]
            if cells:
                x = [r["process.uncertainty"] for r in cells]
                baseline(ax, x, values(cells, raw), label="raw x", style=":")
                if null is not None:
                    baseline(ax, x, values(cells, null), label="null (95th pct.)")
            ax.set(ylim=(-0.05, 1.05), ylabel=LABELS[score] if col == 0 else None,
                   xlabel="uncertainty" if row == len(SCORES) - 1 else None, title=process if row == 0 else None)
    labelled = {}
    for ax in axes[0]:  # every method once, the oracle too (it is missing where it is not defined)
        labelled.update(zip(ax.get_legend_handles_labels()[1], ax.get_legend_handles_labels()[0]))
    fig.legend(labelled.values(), labelled.keys(), loc="outside lower center", ncols=min(4, len(labelled)))  # two rows: one overflowed the width
    return fig


def _loses(rows: Rows) -> list[str]:
    """Method, process, uncertainty cells where a method's affine R^2 is not above InfoNCE's."""
    base = {(r["process"], r["process.uncertainty"]): r["affine_r2"] for r in rows if r["objective"] == "plane-kde-ldm"}
    return [f"{METHODS.get(r['objective'], r['objective'])} on {r['process']} at {r['process.uncertainty']:g}"
            for r in rows if r["objective"] in ("adassl-v", "adassl-s")
            and (r["process"], r["process.uncertainty"]) in base and r["affine_r2"] <= base[(r["process"], r["process.uncertainty"])]]


def caption(rows: Rows, budget: str) -> str:
    seeds = max(r["runs"] for r in rows)
    loses = _loses(rows)
    where = ("AdaSSL does not beat InfoNCE's affine R^2 at: " + "; ".join(loses) + ".") if loses else "AdaSSL beats InfoNCE's affine R^2 everywhere."
    return (f"One-to-many uncertainty ({budget} budget). Held-out affine R^2 (top), Pearson MCC (middle) and DCI "
            "disentanglement (bottom; tree importances, not drawn where the code is not informative beyond chance) against "
            "the uncertainty of the transitions, on jump (rotations of coordinate planes), sparse_resample (latents "
            "redrawn) and hetero (state-dependent noise), d = 4. The oracle is AdaSSL told the true latent action "
            "(not defined on hetero). Grey dotted: the raw observations' score; grey dashed: the null's 95th percentile; "
            f"a method below the dotted line has learned less than x shows. Mean over {seeds} seeds; bands: 95% interval. {where} "
            f"{sum(r['runs'] for r in rows)} runs.")


FIGURE = register(Figure("one_to_many", "InfoNCE, BYOL, AdaSSL-V/S, SimVAE and the oracle against the one-to-many uncertainty on jump, sparse_resample and hetero.",
                         table, plot, caption))
