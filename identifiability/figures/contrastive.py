"""Figure 1, contrastive inversion (Zimmermann et al. 2021): InfoNCE's affine R^2 and MCC against
the latent dimension and the mixing depth, on the sphere (vMF pairs, temperature 1 / kappa) and the
box (its Gaussian form), beside the raw observations, the null and the rotation baseline."""

from __future__ import annotations

from matplotlib.ticker import MaxNLocator

from identifiability.records import summarise

from .figure import Figure, Rows, register
from .style import COLOURS, baseline, figure, series, values

PROCESSES = {"sphere": "sphere (InfoNCE)", "box": "box (Gaussian InfoNCE)"}
SCORES = ("affine_r2", "mcc", "rotation_mcc")


def table(records: Rows, budget: str) -> Rows:
    rows = summarise(records, ("process", "process.latent_dim", "process.mixing_layers"), SCORES)
    return sorted(rows, key=lambda r: (r["process"], r["process.latent_dim"], r["process.mixing_layers"]))


def _middle(values_: list[int]) -> int:
    ordered = sorted(set(values_))
    return ordered[len(ordered) // 2]


def plot(rows: Rows):
    fig, axes = figure(2, 2, height=2.3)
    dims = [r["process.latent_dim"] for r in rows]
    depths = [r["process.mixing_layers"] for r in rows]
    fixed = {"process.mixing_layers": _middle(depths), "process.latent_dim": _middle(dims)}
    for col, (axis, label) in enumerate((("process.latent_dim", "latent dimension d"),
                                         ("process.mixing_layers", "mixing depth (layers)"))):
        other = "process.mixing_layers" if axis == "process.latent_dim" else "process.latent_dim"
        for row, (score, name, raw, null) in enumerate((("affine_r2", "affine R$^2$", "raw_x.affine_r2", "affine_r2.null"),
                                                        ("mcc", "MCC (Pearson)", "raw_x.mcc", "mcc.null"))):
            ax = axes[row, col]
            for i, process in enumerate(PROCESSES):
                cut = [r for r in rows if r["process"] == process and r[other] == fixed[other]]
                if not cut:
                    continue
                x = [r[axis] for r in cut]
                series(ax, x, values(cut, score), values(cut, f"{score}_low"), values(cut, f"{score}_high"),
                       label=PROCESSES[process], colour=COLOURS[i])
                baseline(ax, x, values(cut, raw), label=f"raw x, {process}", colour=COLOURS[i], style=":")
                if row == 0 and i == 0:
                    baseline(ax, x, values(cut, null), label="null (95th pct.)")
                if row == 1 and i == 0:
                    baseline(ax, x, values(cut, "rotation_mcc"), label="rotation baseline", style="-.")
            fixed_label = "depth" if other == "process.mixing_layers" else "d"
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set(xlabel=label, ylabel=name, ylim=(-0.05, 1.05), title=f"{name} vs {label.split(' (')[0]} ({fixed_label} = {fixed[other]})")
    axes[0, 1].legend(loc="lower left", ncols=2)
    axes[1, 1].legend(loc="lower left", ncols=2)
    return fig


def caption(rows: Rows, budget: str) -> str:
    runs = sum(r["runs"] for r in rows)
    seeds = max(r["runs"] for r in rows)
    return (f"Contrastive inversion ({budget} budget). Held-out affine R^2 (top) and Pearson MCC (bottom) of InfoNCE "
            "on the sphere (vMF pairs, temperature 1/kappa) and of its Gaussian form on the box, against the latent "
            "dimension (left, at the middle depth) and the mixing depth (right, at the middle dimension). Lines: mean "
            f"over {seeds} seeds, bands: 95% interval; dotted: the raw observations' score; dashed: the null's 95th "
            f"percentile (an independent code); dash-dot: the MCC of a randomly rotated copy of z. {runs} runs.")


FIGURE = register(Figure("contrastive", "InfoNCE's affine R^2 and MCC against latent dimension and mixing depth on the sphere and the box, with raw, null and rotation baselines.",
                         table, plot, caption,
                         # not MCC: a code of the orthogonal class scores a rotation's MCC (the figure draws the
                         # rotation baseline beside it), which moves as training ends at another rotation (by up to
                         # 0.023 from 1000 to 2000 steps, seeds 0-1), not as it converges
                         converges=("affine_r2",)))
