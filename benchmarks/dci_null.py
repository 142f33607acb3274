"""DCI with its null: the default call's time against the slow reference, and the pooled null's
calibration against the Monte-Carlo null of independent draws.

    python benchmarks/dci_null.py [--draws 200] [--seeds 16]

1. Speed, n = 10^4, 10 factors: the default ``dci(z_hat, z)`` (tree importances, informativeness gate,
   null computed on this first call), the same without a null, the Monte-Carlo null it replaced
   (16 independent draws of 10 fits each), and sklearn's GradientBoostingRegressor without any null
   (the disentanglement_lib reference), all in this process, with torch's thread count (the trees'
   factors are fitted over that many threads; ``--threads 1`` as a sweep worker runs).
2. Calibration, per (n, d): the 95th percentile of D, C and I for an independent code from ``--draws``
   independent draws (the reference, with its bootstrap standard error); the spread of the old
   16-draw estimate (disjoint groups of 16 of those draws); and the pooled null over ``--seeds``
   seeds (mean and standard deviation of its estimate; its I from redrawn test values).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from identifiability.metrics import dci
from identifiability.metrics._inputs import Sample, split_indices
from identifiability.metrics.dci import POOL, _dci, pooled_null

KEYS = ("disentanglement", "completeness", "informativeness")


def speed(n: int = 10_000, d: int = 10) -> None:
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(n, d, generator=gen, dtype=torch.float64)
    code = z @ (torch.eye(d, dtype=torch.float64) + 0.5 * torch.randn(d, d, generator=gen, dtype=torch.float64))
    timed = {}
    for name, call in (
        ("reference: gbt-sklearn, no null", lambda: dci(code, z, importance="gbt-sklearn", null=False)),
        ("gbt, no null", lambda: dci(code, z, null=False)),
        ("gbt + Monte-Carlo null (16 draws), the old default", lambda: _old_default(code, z)),
        ("default dci(z_hat, z): gbt + pooled null, first call", lambda: (pooled_null.cache_clear(), dci(code, z))),
        ("default, null cached", lambda: dci(code, z)),
    ):
        start = time.perf_counter()
        call()
        timed[name] = time.perf_counter() - start
    reference = timed["reference: gbt-sklearn, no null"]
    print(f"## DCI speed, n = {n}, {d} factors, {torch.get_num_threads()} torch threads (the trees' factors are split over "
          "them; sklearn's reference is single-threaded), seconds and speed-up against the reference")
    print("| call | s | vs reference |\n|---|---|---|")
    for name, seconds in timed.items():
        print(f"| {name} | {seconds:.2f} | {reference / seconds:.1f}x |")


def _old_default(code: torch.Tensor, z: torch.Tensor) -> None:
    dci(code, z, null=False)
    _draws(code.shape[0], code.shape[1], z.shape[1], 16, seed=99)


def _draws(n: int, d_hat: int, d: int, draws: int, seed: int) -> dict[str, np.ndarray]:
    """D, C, I of ``draws`` independent codes (each its own code and factors)."""
    gen = torch.Generator().manual_seed(seed)
    train, test = split_indices(n, 0.5, 0, torch.device("cpu"))
    out = {k: [] for k in KEYS}
    for _ in range(draws):
        sample = Sample.of(torch.randn(n, d_hat, generator=gen, dtype=torch.float64),
                           torch.randn(n, d, generator=gen, dtype=torch.float64), train, test)
        numbers = _dci(sample, "gbt").numbers()
        for k in KEYS:
            out[k].append(numbers[k])
    return {k: np.array(v) for k, v in out.items()}


def calibration(n: int, d: int, draws: int, seeds: int, pool: int = POOL) -> None:
    reference = _draws(n, d, d, draws, seed=1)
    rng = np.random.default_rng(0)
    nulls = [pooled_null(n, d, d, 0.5, "gbt", pool=pool, seed=s) for s in range(seeds)]
    pooled = {k: np.array([null[k].upper for null in nulls]) for k in KEYS}
    codes = nulls[0]["informativeness"].draws // pool
    print(f"\n## DCI null calibration, n = {n}, d = {d}, pooled null of {codes} code(s) x {pool} d fits: 95th percentiles "
          f"(reference: {draws} independent draws)")
    print("| number | reference p95 (bootstrap SE) | old 16-draw estimate: mean (SD) | pooled: mean (SD over seeds) | "
          "pooled - reference, in combined SE |")
    print("|---|---|---|---|---|")
    for k in KEYS:
        values = reference[k]
        p95 = float(np.quantile(values, 0.95))
        boot = np.array([np.quantile(rng.choice(values, len(values)), 0.95) for _ in range(500)])
        groups = np.array([np.quantile(g, 0.95) for g in values[: len(values) // 16 * 16].reshape(-1, 16)])
        se = float(np.hypot(boot.std(), pooled[k].std() / np.sqrt(seeds)))
        print(f"| {k} | {p95:.4f} ({boot.std():.4f}) | {groups.mean():.4f} ({groups.std():.4f}) | "
              f"{pooled[k].mean():.4f} ({pooled[k].std():.4f}) | {(pooled[k].mean() - p95) / se:+.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--pool", type=int, default=POOL, help="fits per factor in the pooled null")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    speed()
    if args.speed_only:
        return
    for n, d in ((2000, 5), (10_000, 10)):
        calibration(n, d, args.draws, args.seeds, args.pool)


if __name__ == "__main__":
    main()
