"""Is a plateau the objective's or the optimiser's? The trained encoder's loss against the true latents'.

    python benchmarks/loss_gap.py [--latent-dim 40] [--kappa 43.9] [--steps 10000] [--batch-size 2048] [--looks 5]

Trains the sphere problem (``identifiability run``'s defaults but for the settings above: InfoNCE at the
matched temperature, the whitened input, a cosine rate) on one thread, and at ``--looks`` points prints
the held-out affine R^2 and the objective's mean loss on 8 fixed fresh batches, for the encoder's codes
and for the true latents z (whose loss is the theorem's optimum, up to the batch's own noise). A trained
loss still above the latents' at the plateau means the optimisation stops short; one below it, that the
objective at this batch prefers codes other than z.
"""

from __future__ import annotations

import argparse

import torch

from identifiability import ExperimentSpec, run_experiment
from identifiability.experiment import build, held_out
from identifiability.metrics import affine_r2
from identifiability.training import Probe

BATCHES, HELD_OUT = 8, 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latent-dim", type=int, default=40)
    parser.add_argument("--kappa", type=float, default=43.9)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--looks", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = ExperimentSpec.from_settings(latent_dim=args.latent_dim, kappa=args.kappa, steps=args.steps, batch_size=args.batch_size,
                                        whiten=True, lr_schedule="cosine", eval_samples=HELD_OUT)
    parts = build(spec)
    gen = torch.Generator().manual_seed(12345)  # not the run's streams: the same batches at every look
    batches = [parts.data.sample(args.batch_size, gen) for _ in range(BATCHES)]
    held = held_out(parts.data, spec.problem, HELD_OUT)

    def loss(codes: list[torch.Tensor]) -> float:
        return sum(float(parts.objective(c)) for c in codes) / len(codes)

    with torch.no_grad():
        truth = loss([b.z.float() for b in batches])
    print(f"d = {args.latent_dim}, kappa {args.kappa:g}, batch {args.batch_size}: the true latents' loss {truth:.4f}")

    def look(encoder: torch.nn.Module, done: int, seconds: float) -> None:
        with torch.no_grad():  # no graph for the 8 batches' encodings either
            r2 = affine_r2(encoder(held.x[:, 0]), held.z[:, 0]).score
            trained = loss([encoder(b.x.float()) for b in batches])
        print(f"{done:>7} steps, {seconds:5.0f} s: R^2 {r2:.3f}, loss {trained:.4f}, {trained - truth:+.3f} above the latents'", flush=True)

    run_experiment(spec, probe=Probe(max(1, args.steps // args.looks), look))


if __name__ == "__main__":
    main()
