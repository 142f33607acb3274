"""The claim that motivates AdaSSL, measured: as the conditional uncertainty of the one-to-many
dynamics grows, how do InfoNCE, h-InfoNCE, AdaSSL-V, the oracle and SimVAE recover the latents?

    python benchmarks/adassl_uncertainty.py [--generator jump] [--steps 2000] [--seeds 0 1 2] [--workers 2]

Prints held-out affine R^2, MCC and DCI disentanglement (gbt importances, gated on informativeness),
the mean over seeds with its range when there are several. The oracle runs only where the generator
returns its latent action.
"""

from __future__ import annotations

import argparse
import itertools
from concurrent.futures import ProcessPoolExecutor

import torch

from generators import PRESETS, LatentDynamics
from identifiability import ExperimentSpec, run_experiment

# Off the sphere the InfoNCE baseline is its Gaussian form, the contrastive base AdaSSL uses there.
METHODS = ("plane-kde-ldm", "h-infonce", "adassl-v", "adassl-oracle", "simvae")


def one(job):
    torch.set_num_threads(1)
    method, uncertainty, seed, generator, steps = job
    config = ExperimentSpec.from_settings(generator=generator, objective=method, latent_dim=4, uncertainty=uncertainty,
                                          steps=steps, eval_samples=4000, dci=True, seed=seed, device="cpu")
    result = run_experiment(config)
    return method, uncertainty, seed, (result.r2.score, result.mcc.score, result.dci_score)


def cell(values: list[tuple[float, float, float]]) -> str:
    """'R^2 / MCC / D' as means; with several seeds the R^2 range follows in brackets."""
    if not values:
        return "n/a"
    means = [sum(v[i] for v in values) / len(values) for i in range(3)]
    text = "{:.2f} / {:.2f} / {:.2f}".format(*means)
    r2 = [v[0] for v in values]
    return text + (f" [{min(r2):.2f}, {max(r2):.2f}]" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", default="jump")
    parser.add_argument("--levels", type=float, nargs="+", default=[0.0, 0.3, 0.6, 0.9])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    methods = [m for m in args.methods if m != "adassl-oracle" or args.generator in PRESETS and LatentDynamics(args.generator).action_dim is not None]
    jobs = [(m, u, s, args.generator, args.steps) for u, m, s in itertools.product(args.levels, methods, args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(one, jobs))
    seeds = ", ".join(map(str, args.seeds))
    print(f"## {args.generator}, d = 4, 3-layer mixing, {args.steps} steps x batch 512, seeds {seeds} "
          "(R^2 / MCC / DCI-D, held out)")
    print("| uncertainty | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for u in args.levels:
        print(f"| {u} | " + " | ".join(cell([v for m2, u2, _, v in rows if (m2, u2) == (m, u)]) for m in methods) + " |")


if __name__ == "__main__":
    main()
