"""The LDM paper's ablation grid on ground truth: affine R^2 and MCC of every
{plane, sphere} x {logdet, kde, knn} x {ldm, mi} preset on the sphere and gauss_ar1 problems.

    python benchmarks/ldm_grid.py [--steps 3000] [--workers 2] [--seed 0]

Each run is `identifiability run` at the default budget with one objective; workers run in
parallel, one thread each (oversubscribed threads make training ~10x slower on 2 cores).
"""

from __future__ import annotations

import argparse
import itertools
from concurrent.futures import ProcessPoolExecutor

import torch

from identifiability import ExperimentSpec, run_experiment

GRID = [f"{s}-{e}-{f}" for s, e, f in itertools.product(["plane", "sphere"], ["logdet", "kde", "knn"], ["ldm", "mi"])]


def one(job: tuple[str, str, int, int]) -> tuple[str, str, float, float, float]:
    torch.set_num_threads(1)
    generator, objective, steps, seed = job
    dim = 5 if generator == "sphere" else 4
    spec = ExperimentSpec.from_settings(generator=generator, objective=objective, latent_dim=dim, steps=steps, seed=seed, device="cpu")
    result = run_experiment(spec)
    return generator, objective, result.r2.score, result.mcc.score, result.training.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jobs = [(g, o, args.steps, args.seed) for g in ("sphere", "gauss_ar1") for o in GRID]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(one, jobs))
    print(f"## LDM grid, {args.steps} steps x batch 512, seed {args.seed} (affine R^2 / MCC, held out)")
    print("| objective | sphere R^2 | sphere MCC | gauss_ar1 R^2 | gauss_ar1 MCC |")
    print("|---|---|---|---|---|")
    table = {(g, o): (r2, m) for g, o, r2, m, _ in rows}
    for o in GRID:
        (r_s, m_s), (r_g, m_g) = table["sphere", o], table["gauss_ar1", o]
        print(f"| {o} | {r_s:.3f} | {m_s:.3f} | {r_g:.3f} | {m_g:.3f} |")
    print(f"\ntotal training time {sum(r[4] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
