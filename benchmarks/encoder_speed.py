"""Milliseconds per training step of each encoder with its log-volume term, as a ratio to the same
encoder's plain step (encode only) and to the MLP encoder's step (the ``mlp`` part's widths), in one
process.

    python benchmarks/encoder_speed.py [--batch 256] [--device cpu] [--dims 16,4 32,8 64,16 256,8]

A step is forward, a scalar loss (|z|^2, minus the log-volume when included), backward and an Adam
update. The injective flow's inflated likelihood (the default) costs one pass, as the bijective flow's
log-det; the manifold form's exact log-volume pushes d tangents through the layers. Measured on 2 CPU
cores, one thread (``--dims 32,8 256,8``): inflated 6.9 ms = 3.3x the MLP step at (32, 8) and 32.9 ms
= 17x at (256, 8); manifold exact 27 ms (13x) and 176 ms (92x).
"""

from __future__ import annotations

import argparse
import time

import torch

from identifiability.encoders import BijectiveFlow, InjectiveFlow, MLPEncoder


def step_ms(encoder, x, with_volume: bool, repeat: int) -> float:
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-4)

    def step():
        if with_volume:
            z, lv = encoder.encode_with_log_volume(x)
            loss = z.pow(2).sum(-1).mean() - lv.mean()
        else:
            loss = encoder(x).pow(2).sum(-1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        if x.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dims", nargs="+", default=["16,4", "32,8", "64,16", "256,8"], metavar="D,d")
    args = parser.parse_args()
    print(f"## ms per training step, batch {args.batch}, {args.device}, float32 (median of {args.repeat})")
    print("| encoder | (D, d) | plain | with log-volume | ratio | with log-volume / MLP step |")
    print("|---|---|---|---|---|---|")
    for big, small in (tuple(int(v) for v in dims.split(",")) for dims in args.dims):
        torch.manual_seed(0)
        x = torch.randn(args.batch, big, device=args.device)
        mlp = step_ms(MLPEncoder(big, small, (128, 128, 128), whiten=False).to(args.device), x, False, args.repeat)
        print(f"| MLPEncoder (128, 128, 128) | ({big}, {small}) | {mlp:.1f} | - | - | 1 |")
        cases = {
            "BijectiveFlow affine": BijectiveFlow(big),
            "BijectiveFlow spline": BijectiveFlow(big, coupling="spline"),
            "InjectiveFlow affine, inflated": InjectiveFlow(big, small),
            "InjectiveFlow spline, inflated": InjectiveFlow(big, small, coupling="spline"),
            "InjectiveFlow affine, manifold exact": InjectiveFlow(big, small, likelihood="manifold", log_volume="exact"),
            "InjectiveFlow affine, manifold estimated": InjectiveFlow(big, small, likelihood="manifold", log_volume="estimated"),
        }
        for name, encoder in cases.items():
            encoder = encoder.to(args.device)
            plain = step_ms(encoder, x, False, args.repeat)
            full = step_ms(encoder, x, True, args.repeat)
            dims = f"({big}, {big})" if name.startswith("Bijective") else f"({big}, {small})"
            print(f"| {name} | {dims} | {plain:.1f} | {full:.1f} | {full / plain:.2f}x | {full / mlp:.1f}x |")


if __name__ == "__main__":
    main()
