"""Training steps per second of objective presets at batch 512, and the objective's share of a step.

    python benchmarks/objective_speed.py [--batch 512] [--device cpu]

A step is one step of the trainer: fresh batch from the process, MLP encoder (128 x 3), the
objective, backward, Adam.
The reference in the same process is the same step with a plain squared-distance loss, so the
ratio is what the objective itself costs.
"""

from __future__ import annotations

import argparse

import torch

from identifiability.processes import LatentDynamics
from identifiability.encoders import MLPEncoder
from identifiability import preset
from identifiability.training import Training, train


class SquaredDistance(torch.nn.Module):
    """The reference loss: mean squared distance of consecutive steps."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z[:, 1:] - z[:, :-1]).pow(2).mean()


def steps_per_second(objective: torch.nn.Module, data, device: str, batch: int, repeat: int = 30) -> float:
    """Through the trainer itself, so every objective gets what it needs (actions, observations,
    an EMA target); a short warm-up run first."""
    torch.manual_seed(0)
    encoder = MLPEncoder(data.observed_dim, data.latent_dim, (128, 128, 128), whiten=False)
    train(encoder, objective, data, Training(steps=5, batch_size=batch), device=device)
    log = train(encoder, objective, data, Training(steps=repeat, batch_size=batch), device=device)
    return repeat / log.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    pairs = LatentDynamics("jump", 8)  # it returns its latent action, for the oracle
    sequences = LatentDynamics("gauss_ar1", 8, seq_len=8)
    reference = steps_per_second(SquaredDistance(), pairs, args.device, args.batch)
    print(f"## steps per second, batch {args.batch}, d = 8, {args.device} ({torch.get_num_threads()} threads)")
    print("| objective | steps/s | vs squared-distance step |")
    print("|---|---|---|")
    print(f"| (reference: squared distance) | {reference:.1f} | 1.00 |")
    settings = {"adassl-oracle": {"action_dim": 1}, "simvae": {"observed_dim": pairs.observed_dim}}
    for name, data in [("infonce", pairs), ("vicreg-ldm", pairs), ("kalman", pairs), ("vicreg", pairs), ("byol", pairs),
                       ("kalman-filter (T = 8)", sequences), ("adassl-v", pairs), ("adassl-s", pairs),
                       ("adassl-v-byol", pairs), ("adassl-oracle", pairs), ("h-infonce", pairs), ("er", pairs),
                       ("simvae", pairs)]:
        key = name.split(" ")[0]
        objective = preset(key, 8, **settings.get(key, {}))
        rate = steps_per_second(objective, data, args.device, args.batch)
        print(f"| {name} | {rate:.1f} | {reference / rate:.2f}x slower |")


if __name__ == "__main__":
    main()
