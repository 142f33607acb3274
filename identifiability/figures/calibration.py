"""Figure 5, metric calibration: how to read a number. What an independent representation scores
(the null: MCC Pearson and Spearman, affine R^2, DCI disentanglement with Lasso, OLS and tree
importances) against n and d; the rotation baseline against d; the raw observations' scores under
the standard mixings. Computed directly, without training."""

from __future__ import annotations

import numpy as np
import torch

from identifiability.metrics import affine_r2, dci, mcc, raw_observation_baseline, rotation_baseline
from identifiability.registry import PROCESSES, Context

from .figure import Figure, Rows, register
from .style import COLOURS, figure

SIZES = {"fast": dict(n=(500, 2000, 10000), d=(2, 5, 10), draws=8, rotation_d=(2, 3, 5, 10, 20), layers=(1, 2, 3, 4, 5)),
         "full": dict(n=(200, 500, 1000, 2000, 5000, 10000, 20000), d=(2, 5, 10, 20), draws=64,
                      rotation_d=(2, 3, 5, 8, 10, 15, 20, 30), layers=(1, 2, 3, 4, 5))}
NULLS = {"MCC (Pearson)": lambda a, b: mcc(a, b).score, "MCC (Spearman)": lambda a, b: mcc(a, b, method="spearman").score,
         "affine R^2": lambda a, b: affine_r2(a, b).score}
DCI = {"DCI-D (Lasso)": "lasso", "DCI-D (OLS)": "ols", "DCI-D (trees)": "gbt"}
DCI_D = 5  # DCI nulls at one d: trees cost ~0.5 s a fit at n = 10^4
PROBLEMS = ("sphere", "box", "real")


def table(records: Rows, budget: str) -> Rows:
    size = SIZES[budget]
    rng = np.random.default_rng(0)
    rows: Rows = []
    for n in size["n"]:
        for d in size["d"]:
            draws = [(rng.normal(size=(n, d)), rng.normal(size=(n, d))) for _ in range(size["draws"])]
            metrics = {**NULLS, **({k: (lambda a, b, imp=v: dci(a, b, importance=imp, null=False).disentanglement)
                                    for k, v in DCI.items()} if d == DCI_D else {})}
            for name, score in metrics.items():
                values = np.array([score(a, b) for a, b in draws])
                rows.append({"panel": "null", "metric": name, "n": n, "d": d, "mean": float(values.mean()),
                             "p95": float(np.quantile(values, 0.95)), "draws": len(values)})
    for d in size["rotation_d"]:
        z = torch.randn(4000, d, generator=torch.Generator().manual_seed(d), dtype=torch.float64)
        rows.append({"panel": "rotation", "metric": "rotation baseline MCC", "n": 4000, "d": d, "mean": rotation_baseline(z)})
    for problem in PROBLEMS:
        for layers in size["layers"]:
            data, _ = PROCESSES.build(problem, Context(seed=0, problem_seed=0), {"latent_dim": 5, "mixing_layers": layers})
            batch = data.sample(4000, 1)
            raw = raw_observation_baseline(batch.x[:, 0], batch.z[:, 0])
            rows.append({"panel": "raw", "process": problem, "mixing_layers": layers, "n": 4000, "d": 5,
                         "affine_r2": raw["affine_r2"].score, "mcc": raw["mcc"].score})
    return rows


def _null_panel(ax, rows: Rows, metrics: list[str], by_d: bool) -> None:
    styles = ["-", "--", ":"]
    for i, metric in enumerate(metrics):
        for j, d in enumerate(sorted({r["d"] for r in rows if r["metric"] == metric})):
            mine = sorted((r for r in rows if r["metric"] == metric and r["d"] == d), key=lambda r: r["n"])
            colour = COLOURS[j] if by_d else COLOURS[i]
            label = (f"{metric}, d = {d}" if by_d else metric).replace("R^2", "R$^2$")
            ax.plot([r["n"] for r in mine], [r["p95"] for r in mine], styles[i % 3] if by_d else "-", marker="o",
                    color=colour, label=label)
    ax.set_xscale("log")


def plot(rows: Rows):
    fig, axes = figure(2, 3, width=8.0, height=2.4)
    nulls = [r for r in rows if r["panel"] == "null"]
    _null_panel(axes[0, 0], nulls, ["MCC (Pearson)", "MCC (Spearman)"], by_d=True)
    axes[0, 0].set(title="MCC of an independent code", xlabel="n", ylabel="95th percentile")
    _null_panel(axes[0, 1], nulls, ["affine R^2"], by_d=True)
    axes[0, 1].set(title="affine R$^2$ of an independent code", xlabel="n", ylabel="95th percentile")
    _null_panel(axes[0, 2], nulls, list(DCI), by_d=False)
    axes[0, 2].set(title=f"DCI-D of a pure-noise code (d = {DCI_D})", xlabel="n", ylabel="95th percentile", ylim=(0, 1))
    rotation = sorted((r for r in rows if r["panel"] == "rotation"), key=lambda r: r["d"])
    axes[1, 0].plot([r["d"] for r in rotation], [r["mean"] for r in rotation], marker="o", color=COLOURS[3], label="rotated z")
    axes[1, 0].set(title="MCC of a randomly rotated z", xlabel="d", ylabel="MCC", ylim=(0, 1))
    raw = [r for r in rows if r["panel"] == "raw"]
    for col, (score, label) in ((1, ("affine_r2", "affine R$^2$")), (2, ("mcc", "MCC (Pearson)"))):
        ax = axes[1, col]
        for i, problem in enumerate(PROBLEMS):
            mine = sorted((r for r in raw if r["process"] == problem), key=lambda r: r["mixing_layers"])
            ax.plot([r["mixing_layers"] for r in mine], [r[score] for r in mine], marker="o", color=COLOURS[i], label=problem)
        ax.set(title=f"raw observations: {label} (d = 5)", xlabel="mixing depth (layers)", ylabel=label, ylim=(0, 1.05))
    for ax in axes.flat:
        ax.legend(fontsize=6)
    return fig


def caption(rows: Rows, budget: str) -> str:
    nulls = [r for r in rows if r["panel"] == "null"]
    draws = nulls[0]["draws"] if nulls else 0
    noise = {r["metric"]: r["mean"] for r in nulls if r["metric"].startswith("DCI") and r["n"] == max(x["n"] for x in nulls)}
    said = ", ".join(f"{k.split('(')[1].rstrip(')')} {v:.2f}" for k, v in noise.items())
    return (f"Metric calibration ({budget} budget): what a number means. Top: the 95th percentile over {draws} draws of "
            "what a code independent of z scores (Gaussian codes and latents, half the rows to fit, half to score), "
            "against n: MCC (Pearson solid, Spearman dashed) and affine R^2 per d; DCI disentanglement of a pure-noise "
            f"code with Lasso, OLS and tree importances (mean at the largest n: {said}). Bottom: the MCC of a randomly "
            "rotated copy of z against d (an estimator that identifies z only up to a rotation scores this), and the "
            "raw observations' affine R^2 and MCC under the standard leaky-ReLU mixing of each depth (d = 5, 4000 "
            "samples): what an encoder must beat before it has learned anything.")


FIGURE = register(Figure("calibration", "Null distributions of MCC, affine R^2 and DCI against n and d, the rotation baseline, and the raw observations' scores: how to read a number.",
                         table, plot, caption, sweep=False))
