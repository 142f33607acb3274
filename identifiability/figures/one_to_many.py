"""Figure 4, one-to-many pairs (AdaSSL's case): affine R^2, MCC and DCI disentanglement of InfoNCE,
BYOL, AdaSSL-V, AdaSSL-S, SimVAE and the oracle on three processes: sparse_resample (the AdaSSL
paper's natural pairs: AdaSSL-S's sparse model holds), action (additive Gaussian uncertainty:
AdaSSL-V's model holds) and jump (neither holds), each at one uncertainty, at a budget where the
losses have plateaued."""

from __future__ import annotations

from identifiability.records import summarise

from .figure import Figure, Rows, register
from .style import COLOURS, baseline, figure, values

METHODS = {"plane-kde-ldm": "InfoNCE (Gaussian)", "byol": "BYOL", "adassl-v": "AdaSSL-V", "adassl-s": "AdaSSL-S",
           "simvae": "SimVAE", "adassl-oracle": "oracle (true action)"}
# each process, and which of AdaSSL's models holds on it (the processes' assumption names, issue 28)
PROCESSES = {"sparse_resample": "sparse_resampling", "action": "additive_uncertainty", "jump": "neither model"}
SCORES = ("affine_r2", "mcc", "dci")
# what each score must beat to mean anything: the raw observations' score and the null's 95th percentile
# (DCI's null gates the score itself: it is NaN, not drawn, where the code is not informative beyond chance)
REFERENCES = {"affine_r2": ("raw_x.affine_r2", "affine_r2.null"), "mcc": ("raw_x.mcc", "mcc.null"), "dci": ("raw_x.dci", None)}
LABELS = {"affine_r2": "affine R$^2$", "mcc": "MCC (Pearson)", "dci": "DCI disentanglement"}
REFERENCE_METHOD = "plane-kde-ldm"  # the row whose raw x and null the panel draws: the same data for every method


def table(records: Rows, budget: str) -> Rows:
    rows = summarise(records, ("process", "objective", "process.uncertainty", "process.latent_dim"), SCORES)
    order, processes = list(METHODS), list(PROCESSES)
    return sorted(rows, key=lambda r: (processes.index(r["process"]) if r["process"] in processes else 9,
                                       order.index(r["objective"]) if r["objective"] in order else 99))


def plot(rows: Rows):
    processes = [p for p in PROCESSES if any(r["process"] == p for r in rows)]
    fig, axes = figure(len(SCORES), len(processes), width=2.8 * len(processes), height=2.0)
    methods = list(METHODS)
    for col, process in enumerate(processes):
        mine = {r["objective"]: r for r in rows if r["process"] == process}
        title = f"{process} ({PROCESSES[process]})"
        for row, score in enumerate(SCORES):
            ax = axes[row, col]
            for i, method in enumerate(methods):
                r = mine.get(method)
                if r is None or score not in r:
                    continue
                mean, low, high = r[score], r[f"{score}_low"], r[f"{score}_high"]
                ax.errorbar([i], [mean], yerr=[[mean - low], [high - mean]], fmt="o", color=COLOURS[i], capsize=2,
                            label=METHODS[method])
            reference = mine.get(REFERENCE_METHOD)
            raw, null = REFERENCES[score]
            if reference is not None:
                span = [-0.5, len(methods) - 0.5]
                baseline(ax, span, values([reference] * 2, raw), label="raw x", style=":")
                if null is not None:
                    baseline(ax, span, values([reference] * 2, null), label="null (95th pct.)")
            ax.set(ylim=(-0.05, 1.05), xlim=(-0.5, len(methods) - 0.5), xticks=range(len(methods)),
                   ylabel=LABELS[score] if col == 0 else None, title=title if row == 0 else None)
            ax.set_xticklabels([METHODS[m].split(" (")[0] for m in methods] if row == len(SCORES) - 1 else [],
                               rotation=45, ha="right")
    labelled = {}
    for ax in axes[0]:  # every method once, the oracle too (it is missing where it is not defined)
        labelled.update(zip(ax.get_legend_handles_labels()[1], ax.get_legend_handles_labels()[0]))
    fig.legend(labelled.values(), labelled.keys(), loc="outside lower center", ncols=min(4, len(labelled)))
    return fig


def _winners(rows: Rows) -> list[str]:
    """Per process: the methods whose affine R^2 interval lies above the raw observations' score, best
    first, or that none does."""
    out = []
    for process in PROCESSES:
        mine = [r for r in rows if r["process"] == process and r["objective"] in METHODS and "affine_r2" in r]
        if not mine:
            continue
        raw = next((r["raw_x.affine_r2"] for r in mine if "raw_x.affine_r2" in r), float("nan"))
        above = sorted((r for r in mine if r["affine_r2_low"] > raw), key=lambda r: -r["affine_r2"])
        named = ", ".join(f"{METHODS[r['objective']]} {r['affine_r2']:.2f}" for r in above)
        out.append(f"on {process} (raw x {raw:.2f}) " + (f"above raw x: {named}" if above else "no method is above raw x"))
    return out


def caption(rows: Rows, budget: str) -> str:
    seeds = max(r["runs"] for r in rows)
    settings = "; ".join(f"{p} at uncertainty {r['process.uncertainty']:g}, d = {r['process.latent_dim']}"
                         for p in PROCESSES for r in rows if r["process"] == p and r["objective"] == REFERENCE_METHOD)
    return (f"One-to-many pairs ({budget} budget). Held-out affine R^2 (top), Pearson MCC (middle) and DCI "
            "disentanglement (bottom; tree importances, not drawn where the code is not informative beyond chance) of "
            "each method on sparse_resample (latents kept or redrawn: AdaSSL-S's sparse model holds), action "
            "(an additive Gaussian action: AdaSSL-V's model holds) and jump (a rotation of each coordinate plane: "
            f"neither holds); {settings}. The oracle is AdaSSL told the true latent action. Grey dotted: the raw "
            "observations' score; grey dashed: the null's 95th percentile; a method below the dotted line has learned "
            f"less than x shows. Mean over {seeds} seeds; bars: 95% interval. By affine R^2, " + "; ".join(_winners(rows))
            + f". {sum(r['runs'] for r in rows)} runs.")


FIGURE = register(Figure("one_to_many", "InfoNCE, BYOL, AdaSSL-V/S, SimVAE and the oracle on one-to-many pairs where "
                         "AdaSSL's sparse model holds, where its additive model holds, and where neither does.",
                         table, plot, caption, converges=("affine_r2", "mcc", "dci")))
