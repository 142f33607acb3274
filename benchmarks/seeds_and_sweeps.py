"""What batching seeds and running sweeps cost, measured in one process against its own reference.

    python benchmarks/seeds_and_sweeps.py [--steps 200] [--runs 32] [--workers 2] [--device cpu]

1. Batched seeds: S = 1, 4, 16 seeds of the default problem (sphere, InfoNCE, MLP 128 x 3, batch
   512), and of a small one, trained as one batched model against the same S runs one after
   another, both with this process's torch threads; the speed-up is sequential time over batched
   time (training only).
2. Sweep overhead: ``--runs`` short runs (20 steps) in one loop in this process (one thread), through
   the local process pool and through a Dask LocalCluster, both with ``--workers`` single-threaded
   workers; the engine's overhead per run is (its wall time - the loop's / workers) / (runs / workers).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from identifiability import ExperimentSpec, run_experiments
from identifiability.experiment import build, initialize
from identifiability.records import Store
from identifiability.sweeps import run_sweep
from identifiability.training import Training, resolve_device, train, train_seeds


def seeds(count: int, steps: int, device: str, **size: object) -> tuple[float, float]:
    """Seconds to train ``count`` seeds one by one, and batched."""
    specs = [ExperimentSpec.from_settings(seed=s, problem_seed=0, steps=steps, device=device, **size) for s in range(count)]
    where = resolve_device(device)

    def prepared(spec: ExperimentSpec):
        parts = build(spec)
        initialize(parts, spec)
        return parts

    alone = [prepared(s) for s in specs]
    began = time.perf_counter()
    for spec, parts in zip(specs, alone):
        train(parts.encoder, parts.objective, parts.data, Training(steps=steps, batch_size=spec.training.batch_size), seed=spec.seed, device=where)
    sequential = time.perf_counter() - began
    together = [prepared(s) for s in specs]
    began = time.perf_counter()
    train_seeds([(p.encoder, p.objective, p.data, s.seed) for p, s in zip(together, specs)],
                Training(steps=steps, batch_size=specs[0].training.batch_size), device=where)
    if where.type == "cuda":
        torch.cuda.synchronize()
    return sequential, time.perf_counter() - began


# The default problem (MLP 128 x 3, batch 512), and a small one where per-step overhead dominates.
SIZES = {"default": {}, "small (MLP 32 x 2, batch 64)": {"hidden": [32, 32], "batch_size": 64}}


def sweeps(runs: int, workers: int) -> dict[str, float]:
    specs = [ExperimentSpec.from_settings(seed=s, steps=20, batch_size=128, eval_samples=1000, device="cpu", objective=o)
             for s in range(runs // 2) for o in ("infonce", "byol")]  # byol does not batch: half the jobs are single runs
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    began = time.perf_counter()
    for spec in specs:
        run_experiments([spec])
    walls = {"one loop": time.perf_counter() - began}
    torch.set_num_threads(threads)
    for name, scheduler in (("process pool", None), ("LocalCluster", "local")):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            report = run_sweep(specs, Store(Path(folder) / "r.jsonl"), workers=workers, scheduler=scheduler, batch_seeds=False)
            walls[name] = time.perf_counter() - began
            assert report.completed == len(specs), report
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", choices=("seeds", "sweeps"), default=None)
    args = parser.parse_args()
    if args.only in (None, "seeds"):
        print(f"## batched seeds, {args.steps} steps on {args.device} ({torch.get_num_threads()} threads)")
        print("| problem | seeds | sequential s | batched s | speed-up |")
        print("|---|---|---|---|---|")
        for name, size in SIZES.items():
            for count in (1, 4, 16):
                sequential, batched = seeds(count, args.steps, args.device, **size)
                print(f"| {name} | {count} | {sequential:.1f} | {batched:.1f} | {sequential / batched:.2f}x |")
    if args.only in (None, "sweeps"):
        walls = sweeps(args.runs, args.workers)
        loop = walls["one loop"]
        print(f"\n## sweep of {args.runs} short runs (20 steps), {args.workers} workers")
        print("| engine | wall s | overhead per run s |")
        print("|---|---|---|")
        for name, wall in walls.items():
            overhead = "-" if name == "one loop" else f"{(wall - loop / args.workers) / (args.runs / args.workers):.2f}"
            print(f"| {name} | {wall:.1f} | {overhead} |")


if __name__ == "__main__":
    main()
