"""Training steps per second of objective presets at batch 512, and the objective's share of a step.

    python benchmarks/objective_speed.py [--batch 512] [--device cpu]

A step is: fresh batch from the generator, MLP encoder (128 x 3), the objective, backward, Adam.
The reference in the same process is the same step with a plain squared-distance loss, so the
ratio is what the objective itself costs.
"""

from __future__ import annotations

import argparse
import time

import torch

from generators import LatentDynamics
from identifiability.encoders import MLPEncoder
from identifiability.objectives import preset


def steps_per_second(objective, data, device: str, batch: int, repeat: int = 30) -> float:
    torch.manual_seed(0)
    encoder = MLPEncoder(data.observed_dim, data.latent_dim, (128, 128, 128)).to(device)
    parameters = [*encoder.parameters(), *(objective.parameters() if isinstance(objective, torch.nn.Module) else [])]
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    gen = torch.Generator(device=device).manual_seed(0)

    def step():
        z = encoder(data.sample(batch, gen, device=device).x)
        loss = objective(z)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return repeat / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    pairs = LatentDynamics("gauss_ar1", 8)
    sequences = LatentDynamics("gauss_ar1", 8, seq_len=8)
    reference = steps_per_second(lambda z: (z[:, 1] - z[:, 0]).pow(2).mean(), pairs, args.device, args.batch)
    print(f"## steps per second, batch {args.batch}, d = 8, {args.device} ({torch.get_num_threads()} threads)")
    print("| objective | steps/s | vs squared-distance step |")
    print("|---|---|---|")
    print(f"| (reference: squared distance) | {reference:.1f} | 1.00 |")
    for name, data in [("infonce", pairs), ("vicreg-ldm", pairs), ("kalman", pairs), ("vicreg", pairs), ("byol", pairs),
                       ("kalman-filter (T = 8)", sequences)]:
        objective = preset(name.split(" ")[0], 8).to(args.device)
        rate = steps_per_second(objective, data, args.device, args.batch)
        print(f"| {name} | {rate:.1f} | {reference / rate:.2f}x slower |")


if __name__ == "__main__":
    main()
