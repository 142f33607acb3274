"""How long until the sphere problem is identified? Wall time and steps to affine R^2 0.95 and 0.99.

    python benchmarks/time_to_identify.py [--dims 5 10 20 40] [--seeds 0 1 2] [--recipes before cosine whitened fast wide batch batch4k wide_batch]
                                          [--kappa 10 | --information-of 10] [--workers 2] [--every 500] [--steps N]
                                          [--device cpu] [--out DIR]

Zimmermann et al.'s problem (``identifiability run --latent-dim d``: z uniform on S^{d-1}, vMF pairs
at kappa 10 or ``--kappa``, a 3-layer MLP mixing, InfoNCE at the matched temperature, an MLP encoder 128-128-128, whitened where the recipe says)
trained under each recipe for the steps listed per d (or ``--steps``); every ``--every`` steps a probe scores the
encoder's affine R^2 on 2000 held-out samples of the problem (outside the timed training). A recipe's
schedule spans its whole run, so "time to 0.99" is the first look at or above 0.99 within that run.

Prints one row per (recipe, d): per seed, the training seconds (and steps) to R^2 0.95 and 0.99
("-" where the run never got there) and the final R^2, and what one pair tells about z at each d
(I(z; z') in nats: at a fixed kappa it falls with d, and per dimension faster). ``--information-of D``
instead sets kappa at each d so that one pair tells as much about z per dimension of the sphere as at
d = D and the default kappa (kappa 21.3 at d = 20 and 43.9 at d = 40 for D = 10); InfoNCE's matched
temperature 1 / kappa follows, as the theory asks, so such a run changes the data and the loss
together. It writes every curve (R^2 against training
seconds) to ``DIR/time_to_identify.json`` and a figure ``DIR/time_to_identify.png``. Each run is one
process with one thread, ``--workers`` at once (on a 2-core machine one thread per run is as fast as
two: the step is too small to split); the whole grid takes about 50 minutes on 2 cores (12 minutes a
recipe), and a line per look and per finished run goes to stderr. ``--device cuda`` runs the jobs one after another in
this process (``--workers`` is ignored there).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from identifiability import ExperimentSpec, run_experiment
from identifiability._core import MAX_CONCENTRATION
from identifiability.experiment import build, held_out
from identifiability.metrics import affine_r2
from identifiability.sweeps import worker_context
from identifiability.training import Probe, resolve_device

# Steps per latent dimension: the default run's 3000 at d = 5, more at d = 10, 20 and 40.
STEPS = {5: 3000, 10: 20_000, 20: 30_000, 40: 40_000}
RECIPES = {
    "before": {"lr": 3e-3, "lr_schedule": "constant", "whiten": False},  # the default until this benchmark
    "cosine": {"lr": 3e-3, "lr_schedule": "cosine", "whiten": False},  # a cosine decay
    "whitened": {"lr": 3e-3, "lr_schedule": "cosine", "whiten": True},  # and the input whitened: the default
    "fast": {"lr": 1e-2, "lr_schedule": "cosine", "lr_warmup": 500, "whiten": True},  # a larger rate, warmed up
    "wide": {"lr": 3e-3, "lr_schedule": "cosine", "whiten": True, "hidden": [256, 256, 256]},  # the default, twice as wide
    "batch": {"lr": 3e-3, "lr_schedule": "cosine", "whiten": True, "batch_size": 2048},  # the default, 4x the negatives
    "batch4k": {"lr": 3e-3, "lr_schedule": "cosine", "whiten": True, "batch_size": 4096},  # the default, 8x the negatives
    "wide_batch": {"lr": 3e-3, "lr_schedule": "cosine", "whiten": True, "batch_size": 2048, "hidden": [256, 256, 256]},  # both
}
THRESHOLDS = (0.95, 0.99)
HELD_OUT = 2000


def curve(job: tuple[str, int, float, int, int, int, str]) -> dict:
    """One run's (steps, seconds, R^2) at every look, and its final R^2."""
    torch.set_num_threads(1)
    recipe, dim, kappa, seed, every, steps, device = job
    spec = ExperimentSpec.from_settings(latent_dim=dim, kappa=kappa, seed=seed, steps=steps, device=device, eval_samples=HELD_OUT,
                                        **RECIPES[recipe])
    held = held_out(build(spec).data, spec.problem, HELD_OUT)
    looks: list[tuple[int, float, float]] = []

    def look(encoder: torch.nn.Module, done: int, seconds: float) -> None:
        with torch.no_grad():
            looks.append((done, seconds, affine_r2(encoder(held.x[:, 0]), held.z[:, 0]).score))
        print(f"    {recipe}, d = {dim}, kappa {kappa:.3g}, seed {seed}: R^2 {looks[-1][2]:.3f} at {done} steps, {seconds:.0f} s",
              file=sys.stderr, flush=True)  # runs take up to hours: every look as it comes

    result = run_experiment(spec, probe=Probe(every, look))
    return {"recipe": recipe, "dim": dim, "kappa": kappa, "seed": seed, "steps": steps, "looks": looks,
            "final": result.code["affine_r2"].score, "seconds": result.training.seconds}


def pair_information(dim: int, kappa: float) -> float:
    """I(z; z') in nats for z uniform on S^{d-1} and z' | z ~ vMF(z, kappa): log |S^{d-1}| minus the vMF
    entropy, -log C_d(kappa) - kappa A_d(kappa), with A_d = I_{d/2} / I_{d/2-1} (d = 3: log(kappa / sinh kappa)
    + kappa coth kappa - 1)."""
    from scipy.special import gammaln, ive  # ive(nu, k) = I_nu(k) e^-k: no overflow at large kappa

    nu = dim / 2 - 1
    log_area = math.log(2) + dim / 2 * math.log(math.pi) - gammaln(dim / 2)
    log_c = nu * math.log(kappa) - dim / 2 * math.log(2 * math.pi) - (math.log(ive(nu, kappa)) + kappa)
    return float(log_area + log_c + kappa * ive(dim / 2, kappa) / ive(nu, kappa))


def kappa_for(dim: int, nats_per_dimension: float) -> float:
    """The kappa at which one pair on S^{d-1} tells ``nats_per_dimension`` about z per dimension of the
    sphere (d - 1): I(z; z') grows with kappa, from 0 to without bound."""
    from scipy.optimize import brentq

    return float(brentq(lambda kappa: pair_information(dim, kappa) / (dim - 1) - nats_per_dimension, 1e-6, 1e8, xtol=1e-9))


def first_at(looks: list[list[float]], threshold: float) -> tuple[int, float] | None:
    """(steps, seconds) of the first look at or above ``threshold``, or None."""
    return next(((int(s), t) for s, t, r in looks if r >= threshold), None)


def table(runs: list[dict]) -> str:
    lines = [f"{'recipe':<10}{'d':>3}{'kappa':>7}{'steps':>7}   " + "   ".join(f"{'to ' + str(t):<30}" for t in THRESHOLDS) + "final R^2"]
    for recipe in dict.fromkeys(r["recipe"] for r in runs):
        for dim in sorted({r["dim"] for r in runs if r["recipe"] == recipe}):
            group = sorted((r for r in runs if r["recipe"] == recipe and r["dim"] == dim), key=lambda r: r["seed"])
            cells = []
            for threshold in THRESHOLDS:
                hits = [first_at(r["looks"], threshold) for r in group]
                cells.append(" ".join("-" if h is None else f"{h[1]:.0f}s/{h[0] / 1000:g}k" for h in hits))
            finals = " ".join(f"{r['final']:.3f}" for r in group)
            lines.append(f"{recipe:<10}{dim:>3}{group[0]['kappa']:>7.3g}{group[0]['steps']:>7}   " + "   ".join(f"{c:<30}" for c in cells) + finals)
    return "\n".join(lines)


def figure(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted({r["dim"] for r in runs})
    fig, axes = plt.subplots(1, len(dims), figsize=(4.2 * len(dims), 3.4), squeeze=False)
    colours = {name: f"C{i}" for i, name in enumerate(RECIPES)}  # one per recipe, however many
    for ax, dim in zip(axes[0], dims):
        for r in (r for r in runs if r["dim"] == dim):
            seconds = [t for _, t, _ in r["looks"]]
            # 1 - R^2 on a log axis: the last digits of R^2 are where the recipes differ
            ax.semilogy(seconds, [max(1 - v, 1e-4) for _, _, v in r["looks"]], color=colours[r["recipe"]],
                        label=r["recipe"] if r["seed"] == min(q["seed"] for q in runs) else None, alpha=0.8)
        for threshold in THRESHOLDS:
            ax.axhline(1 - threshold, color="black", lw=0.6, ls=":")
        steps = max(r["steps"] for r in runs if r["dim"] == dim)
        kappa = next(r["kappa"] for r in runs if r["dim"] == dim)
        ax.set(title=f"sphere, d = {dim}, kappa {kappa:.3g} ({steps} steps)", xlabel="training seconds (1 thread)", ylabel="1 - affine R$^2$")
        ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 10, 20], choices=sorted(STEPS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", default=["before", "cosine", "whitened", "fast"], choices=list(RECIPES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=500, help="steps between looks")
    parser.add_argument("--steps", type=int, default=None, help="steps for every d (default: the table STEPS)")
    concentration = parser.add_mutually_exclusive_group()
    concentration.add_argument("--kappa", type=float, default=None, help="the pairs' concentration at every d (default: the problem's)")
    concentration.add_argument("--information-of", type=int, default=None, metavar="D",
                               help="kappa at each d such that a pair tells as much about z per dimension as at d = D and the default kappa")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("time_to_identify"))
    args = parser.parse_args()
    if args.kappa is not None and not 1 / MAX_CONCENTRATION <= args.kappa <= MAX_CONCENTRATION:
        parser.error(f"--kappa must lie in [{1 / MAX_CONCENTRATION:g}, {MAX_CONCENTRATION:g}] (its inverse is InfoNCE's temperature), got {args.kappa}")
    if args.information_of is not None and not 2 <= args.information_of <= max(STEPS):
        parser.error(f"--information-of takes a sphere of d from 2 to {max(STEPS)}, got {args.information_of}")
    kappa = args.kappa or build(ExperimentSpec.from_settings(latent_dim=min(args.dims))).data.kappa  # the given or the problem's
    kappas = {dim: kappa for dim in args.dims}
    if args.information_of is not None:
        per_dimension = pair_information(args.information_of, kappa) / (args.information_of - 1)
        kappas = {dim: kappa_for(dim, per_dimension) for dim in args.dims}
    jobs = [(recipe, dim, kappas[dim], seed, args.every, args.steps or STEPS[dim], args.device)
            for dim in args.dims for recipe in args.recipes for seed in args.seeds]
    jobs.sort(key=lambda job: -job[5])  # the longest first, so the workers finish together
    runs = []
    with contextlib.ExitStack() as stack:
        if resolve_device(args.device).type == "cuda":
            finished = map(curve, jobs)
        else:
            finished = stack.enter_context(ProcessPoolExecutor(args.workers, mp_context=worker_context())).map(curve, jobs)
        for run in finished:  # a line per finished run: the whole grid takes about 50 minutes on 2 cores
            print(f"  {run['recipe']}, d = {run['dim']}, seed {run['seed']}: R^2 {run['final']:.3f} after "
                  f"{run['seconds']:.0f} s", file=sys.stderr, flush=True)
            runs.append(run)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "time_to_identify.json").write_text(json.dumps(runs))
    figure(runs, args.out / "time_to_identify.png")
    print("seconds / thousands of steps to the first look at or above each R^2 (seeds " + ", ".join(map(str, args.seeds)) + "):")
    print(table(runs))
    print("what one pair tells about z: " + ", ".join(
        f"d = {d} at kappa {k:.3g}: {pair_information(d, k):.2f} nats ({pair_information(d, k) / (d - 1):.2f} a dimension)"
        for d, k in kappas.items()))
    print(f"curves: {args.out / 'time_to_identify.json'}, {args.out / 'time_to_identify.png'}")


if __name__ == "__main__":
    main()
