"""Samples per second of every process family at n = 10^5 and 10^6.

    python benchmarks/generator_speed.py [--device cpu] [--sizes 100000 1000000]

Targets on CPU: NonlinearICA (d = 10, L = 3) at least 10^6 samples/s; contrastive pairs with exact
vMF at d = 10 at least 10^5 pairs/s. Rates are reported beside a reference run in the same process:
drawing the same number of standard normals, the cheapest possible source of the same size.
"""

from __future__ import annotations

import argparse
import time

import torch

from identifiability.processes import ContrastivePairs, LatentDynamics, NonlinearICA, VideoSequences


def rate(fn, n: int, device: str) -> float:
    fn(min(n, 1000))  # warm-up: mechanism caches, allocator
    start = time.perf_counter()
    fn(n)
    if device == "cuda":
        torch.cuda.synchronize()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    cases = {
        "NonlinearICA d=10 L=3 laplace": NonlinearICA(10, "laplace", mixing_layers=3),
        "NonlinearICA d=10 L=3 gennorm(0.7)": NonlinearICA(10, "gennorm", beta=0.7, mixing_layers=3),
        "ContrastivePairs sphere vMF d=10": ContrastivePairs(10, kappa=10.0),
        "ContrastivePairs box truncated d=10": ContrastivePairs(10, space="box", boundary="truncate", scale=0.1),
        "LatentDynamics jump d=10 T=2": LatentDynamics("jump", 10),
        "LatentDynamics gauss_ar1 d=10 T=5": LatentDynamics("gauss_ar1", 10, seq_len=5),
        "VideoSequences 2 blobs 16x16 T=5": VideoSequences(2, 16, seq_len=5),
    }
    print(f"## processes on {args.device} ({torch.get_num_threads()} threads): samples (sequences) per second")
    print("| process | " + " | ".join(f"n={n:.0e}" for n in args.sizes) + " | vs randn(n, d) at the largest n |")
    print("|---|" + "---|" * (len(args.sizes) + 1))
    for name, g in cases.items():
        rates = []
        # 10^6 sequences of 5 two-channel 16 x 16 frames would be 10 GB: video stops at 10^5.
        for n in [m for m in args.sizes if not isinstance(g, VideoSequences) or m <= 100_000]:
            gen = torch.Generator(device=args.device).manual_seed(0)
            rates.append(rate(lambda m: g.sample(m, gen, device=args.device), n, args.device))
        n = min(args.sizes[-1], 100_000) if isinstance(g, VideoSequences) else args.sizes[-1]
        ref = rate(lambda m: torch.randn(m, g.latent_dim, device=args.device), n, args.device)
        cells = [f"{r:.2e}" for r in rates] + ["(10 GB)"] * (len(args.sizes) - len(rates))
        print(f"| {name} | " + " | ".join(cells) + f" | {rates[-1] / ref:.3f} |")


if __name__ == "__main__":
    main()
