"""What batching seeds and running sweeps cost, measured in one process against its own reference.

    python benchmarks/seeds_and_sweeps.py [--steps 200] [--counts 1 4 16] [--runs 32] [--workers 2] [--device cpu] [--problems TEXT ...]

1. Batched seeds: S = ``--counts`` seeds of the default problem (sphere, InfoNCE, MLP 128 x 3, batch
   512), of a small one (under InfoNCE; under BYOL, whose EMA targets batch too; under AdaSSL-V and
   SimVAE, whose noise each seed draws from its own stream), and of the flow claims' problem under the
   Kalman LDM's likelihood (the log-volume; at D > d the inflation's noise) (``--problems`` picks by name), trained as
   one batched model against the same S runs one after another, both with this process's torch
   threads; the speed-up is sequential time over batched time (training only). For the batched step
   also: its FLOP rate (the matrix products' floating-point operations of one step, counted by
   ``torch.utils.flop_counter``, over the step's time), that rate as a share of the peak (the best
   rate of a 2048 x 2048 float32 matrix product in this process, same threads, same device), and the
   sampler's share of the step (the S seeds' batch draws, timed alone); where the step runs the seeds in
   cache-sized chunks (``training.seeds.seeds_per_chunk``), the batched time with all of them in one chunk too.
2. Sweep overhead: ``--runs`` short runs (20 steps) in one loop in this process (one thread), through
   the local process pool and through a Dask LocalCluster, both with ``--workers`` single-threaded
   workers; the engine's overhead per run is (its wall time - the loop's / workers) / (runs / workers).
"""

from __future__ import annotations

import argparse
import copy
import math
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from unittest import mock

import torch
from torch.utils.flop_counter import FlopCounterMode

from identifiability import ExperimentSpec, run_experiments
from identifiability.experiment import build, initialize
from identifiability.records import Store
from identifiability.sweeps import run_sweep
from identifiability.training import Training, resolve_device, train, train_seeds
from identifiability.training import seeds as seeds_module


def peak_flop_rate(device: torch.device, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of the best of ``repeats`` float32 (size x size) matrix products on ``device``."""
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    best = math.inf
    for _ in range(repeats + 1):  # the first warms up
        began = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best


@dataclass(frozen=True)
class SeedTimes:
    """Seconds to train S seeds one after another and batched, the batched step's matrix-product FLOPs,
    the seconds its S batch draws take alone (over all steps), and the batched seconds with every seed in
    one chunk (None where the step does not chunk)."""

    sequential: float
    batched: float
    step_flops: float
    sampling: float
    one_chunk: float | None


def seeds(count: int, steps: int, device: str, **size: object) -> SeedTimes:
    """Train ``count`` seeds one by one and batched, and take the batched step apart."""
    specs = [ExperimentSpec.from_settings(seed=s, problem_seed=0, steps=steps, device=device, **size) for s in range(count)]
    where = resolve_device(device)
    training = Training(steps=steps, batch_size=specs[0].training.batch_size)

    def prepared(spec: ExperimentSpec):
        parts = build(spec)
        initialize(parts, spec)
        return parts

    def fresh_members() -> list:
        """Each seed's (encoder, objective, data, seed), newly built and initialised, for ``train_seeds``."""
        return [(p.encoder, p.objective, p.data, s.seed) for p, s in ((prepared(s), s) for s in specs)]

    def synchronised() -> float:
        if where.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()

    alone = [prepared(s) for s in specs]
    began = synchronised()
    for spec, parts in zip(specs, alone):
        train(parts.encoder, parts.objective, parts.data, training, seed=spec.seed, device=where)
    sequential = synchronised() - began
    members = fresh_members()
    began = synchronised()
    train_seeds(members, training, device=where)
    batched = synchronised() - began
    one_chunk = None
    if seeds_module.seeds_per_chunk(members[0][1], count, training.batch_size, training.torch_dtype, where) is not None:
        again = fresh_members()
        with mock.patch.object(seeds_module, "CHUNK_BYTES", math.inf):  # every seed's matrices "fit": one chunk
            began = synchronised()
            train_seeds(again, training, device=where)
            one_chunk = synchronised() - began
    with FlopCounterMode(display=False) as counter:
        train_seeds([(copy.deepcopy(e), copy.deepcopy(o), d, s) for e, o, d, s in members], replace(training, steps=1),
                    device=where)
    generators = [torch.Generator(where).manual_seed(s.seed) for s in specs]
    began = synchronised()
    for _ in range(steps):
        torch.stack([data.sample(training.batch_size, g, device=where).x for (_, _, data, _), g in zip(members, generators)])
    return SeedTimes(sequential, batched, counter.get_total_flops(), synchronised() - began, one_chunk)


# The default problem (MLP 128 x 3, batch 512), a small one where per-step overhead dominates, the small
# one under BYOL, whose EMA targets (one per seed) are stacked too, and under AdaSSL-V and SimVAE on the
# action process, whose noise each seed's objective draws from its own stream outside the batched step.
SMALL = {"encoder.hidden": [32, 32], "batch_size": 64}
# the flow claims' problem (gauss_ar1, d = 3) under the Kalman LDM's likelihood, whose log-volume each seed's
# flow gives with its step (and at D > d draws its inflation noise from its own stream outside the batched step)
FLOW = {"process": "gauss_ar1", "objective": "kalman-flow", "encoder": "flow", "latent_dim": 3}
SIZES = {"default": {}, "small (MLP 32 x 2, batch 64)": SMALL, "small, BYOL (EMA target)": SMALL | {"objective": "byol"},
         "small, AdaSSL-V on action (own noise)": SMALL | {"objective": "adassl-v", "process": "action"},
         "small, SimVAE on action (own noise)": SMALL | {"objective": "simvae", "process": "action"},
         "flow, Kalman LDM (D = d = 3, log-volume)": FLOW,
         "flow, Kalman LDM (D = 32, d = 3: log-volume, inflation noise)": FLOW | {"observed_dim": 32}}


def sweeps(runs: int, workers: int) -> dict[str, float]:
    specs = [ExperimentSpec.from_settings(seed=s, steps=20, batch_size=128, eval_samples=1000, device="cpu", objective=o)
             for s in range(runs // 2) for o in ("infonce", "byol")]  # every run its own job (batch_seeds=False below)
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
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 4, 16], help="seeds trained at once")
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", choices=("seeds", "sweeps"), default=None)
    parser.add_argument("--problems", nargs="+", default=[""], metavar="TEXT",
                        help="only the batched-seeds problems whose name contains one of these texts")
    args = parser.parse_args()
    if args.only in (None, "seeds"):
        seeds(1, 2, args.device)  # warm up: the first step of a process pays for its kernels' setup
        peak = peak_flop_rate(resolve_device(args.device))
        print(f"## batched seeds, {args.steps} steps on {args.device} ({torch.get_num_threads()} threads); "
              f"peak {peak / 1e9:.1f} GFLOP/s (float32 2048^2 matrix product)")
        print("| problem | seeds | sequential s | batched s | speed-up | batched GFLOP/s | of peak | sampler share | one chunk s |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, size in SIZES.items():
            if not any(text in name for text in args.problems):
                continue
            for count in args.counts:
                t = seeds(count, args.steps, args.device, **size)
                rate = t.step_flops * args.steps / t.batched
                print(f"| {name} | {count} | {t.sequential:.1f} | {t.batched:.1f} | {t.sequential / t.batched:.2f}x | "
                      f"{rate / 1e9:.2f} | {rate / peak:.1%} | {t.sampling / t.batched:.0%} | "
                      f"{'-' if t.one_chunk is None else f'{t.one_chunk:.1f}'} |")
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
