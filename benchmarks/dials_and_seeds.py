"""Do the dials move the numbers, and which spread does a seed measure? The runs behind issue 18.

    python benchmarks/dials_and_seeds.py [--workers 2] [--steps 3000] [--only NAME ...]

1. ``temperature``: AdaSSL-V on the sphere at kappa 1 and 50, seeds 0 and 1, with its temperature
   matched (1 / kappa, the default) and held at 0.1 (what it was before it reached the base).
2. ``flow``: the injective-flow encoder with plane-kde-ldm on gauss_ar1 (d = 4), seeds 0, 3, 4 (it
   now standardises its first training batch before the first step).
3. ``geometry``: spherical objectives on the box (d = 5): the encoder now normalises where the
   objective reads directions, so the code scored is the code trained.
4. ``spread``: InfoNCE on the sphere at kappa 1 over five problems (problem seed = seed 0..4) and
   over four trainings of one problem (problem seed 0, seeds 0..3).

Every run is ``identifiability run`` at the default budget; workers run in parallel, one thread each.
"""

from __future__ import annotations

import argparse
import statistics
from concurrent.futures import ProcessPoolExecutor

import torch

from identifiability import ExperimentSpec, run_experiment
from identifiability.sweeps import worker_context


def jobs(steps: int) -> dict[str, list[tuple[str, dict]]]:
    def spec(**settings):
        return {"steps": steps, "device": "cpu", **settings}

    temperature = [
        (f"kappa {kappa:g}, {label}, seed {seed}", spec(process="sphere", objective="adassl-v", kappa=kappa, seed=seed, **extra))
        for kappa in (1.0, 50.0) for label, extra in (("matched", {}), ("temperature 0.1", {"temperature": 0.1}))
        for seed in (0, 1)
    ]
    flow = [(f"seed {seed}", spec(process="gauss_ar1", encoder="flow", objective="plane-kde-ldm", latent_dim=4, seed=seed))
            for seed in (0, 3, 4)]
    geometry = [(name, spec(process="box", objective=name))
                for name in ("plane-kde-ldm", "h-infonce", "infonce", "simsiam", "byol", "adassl-v-byol")]
    spread = [(f"problem {seed}", spec(process="sphere", kappa=1.0, seed=seed)) for seed in range(5)]
    spread += [(f"training {seed} of problem 0", spec(process="sphere", kappa=1.0, seed=seed, problem_seed=0))
               for seed in range(1, 4)]
    return {"temperature": temperature, "flow": flow, "geometry": geometry, "spread": spread}


def one(job: tuple[str, str, dict]) -> tuple[str, str, float, float, str]:
    torch.set_num_threads(1)
    group, label, settings = job
    result = run_experiment(ExperimentSpec.from_settings(**settings))
    return group, label, result.code["affine_r2"].score, result.code["mcc"].score, result.problem_fingerprint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--only", nargs="+", default=None)
    args = parser.parse_args()
    groups = {k: v for k, v in jobs(args.steps).items() if args.only is None or k in args.only}
    work = [(group, label, settings) for group, runs in groups.items() for label, settings in runs]
    with ProcessPoolExecutor(args.workers, mp_context=worker_context()) as pool:
        rows = list(pool.map(one, work))
    for group in groups:
        print(f"\n## {group} ({args.steps} steps x batch 512, held-out affine R^2 / MCC)")
        print("| run | R^2 | MCC | problem fingerprint |")
        print("|---|---|---|---|")
        for g, label, r2, m, fp in rows:
            if g == group:
                print(f"| {label} | {r2:.3f} | {m:.3f} | {fp} |")
    spread = {label: r2 for g, label, r2, _, _ in rows if g == "spread"}
    if spread:
        problems = [v for k, v in spread.items() if k.startswith("problem")]
        trainings = [spread["problem 0"]] + [v for k, v in spread.items() if k.startswith("training")]
        for name, values in (("over problems", problems), ("over trainings of problem 0", trainings)):
            print(f"InfoNCE at kappa 1, R^2 {name}: {min(values):.3f} to {max(values):.3f} "
                  f"(sd {statistics.stdev(values):.3f}, {len(values)} runs)")


if __name__ == "__main__":
    main()
