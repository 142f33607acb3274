"""The Kalman filter against the pair method, per observed frame: a training step on the same number of
frames (the filter on sequences of T steps, the pair method on pairs), through the trainer.

    python benchmarks/filter_speed.py [--frames 2048] [--device cpu]

Both use the MLP encoder (128 x 3) on gauss_ar1 (d = 8); the filter's recursion is a loop over the T
steps only (batched over sequences, no host synchronisation), the pair method one step on T = 2.
"""

from __future__ import annotations

import argparse

import torch

from identifiability.processes import LatentDynamics
from identifiability import preset

from objective_speed import steps_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=2048)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    pairs = LatentDynamics("gauss_ar1", 8)
    reference = steps_per_second(preset("kalman", 8), pairs, args.device, args.frames // 2) * args.frames
    print(f"## frames per second, {args.frames} frames a step, d = 8, {args.device} ({torch.get_num_threads()} threads)")
    print("| objective | frames/s | vs the pair method |")
    print("|---|---|---|")
    print(f"| kalman (pairs, reference) | {reference:.0f} | 1.00 |")
    for steps in (4, 8, 16, 32):
        rate = steps_per_second(preset("kalman-filter", 8), LatentDynamics("gauss_ar1", 8, seq_len=steps), args.device,
                                args.frames // steps) * args.frames
        print(f"| kalman-filter (T = {steps}) | {rate:.0f} | {rate / reference:.2f}x |")


if __name__ == "__main__":
    main()
