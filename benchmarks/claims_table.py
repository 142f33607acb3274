"""How often each library claim holds on seeds held back from its tuning: the README's claims table.

    python benchmarks/claims_table.py [NAME ...] [--seeds 101 102 103 104 105] [--examples 2]

For each claim of the library (``claims.library.LIBRARY``, or those named), its strategy's first
``--examples`` processes (as a budget draws them: the first is the simplest), each verified on each
held-back seed on its own at the fast budget's training: per claim, the mean score, the mean raw-x
score of the same class, the least margin between them, and the share of the verdicts that hold.
Claims train one after another in this process (one torch thread); run two processes on disjoint
names to use two cores. About 1.5 hours for every claim on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from identifiability.claims.budgets import HELD_BACK_SEEDS
from identifiability.claims.library import LIBRARY
from identifiability.claims.testing import pass_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    table = {name: (entry.claim, entry.problems) for name, entry in LIBRARY.items()}
    parser.add_argument("names", nargs="*", default=list(table), choices=list(table), metavar="NAME")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(HELD_BACK_SEEDS))
    parser.add_argument("--examples", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| claim | class | threshold | processes | score | raw x | least margin | holds |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.names:
        claim, processes = table[name]
        began = time.perf_counter()
        verdicts = pass_rate(claim, processes, tuple(args.seeds), args.examples)
        drawn = sorted({f"{v.process.name}({', '.join(f'{k}={x}' for k, x in v.process.given.items())})" for v in verdicts})
        held = sum(v.holds for v in verdicts)
        score = statistics.fmean(s for v in verdicts for s in v.scores)
        raw = statistics.fmean(r for v in verdicts for r in v.raw)
        margin = min(m for v in verdicts for m in v.margins)
        print(f"| {claim.name} | {claim.equivalence} | {claim.threshold:g} | {'; '.join(drawn)} | {score:.3f} | {raw:.3f} "
              f"| {margin:+.3f} | {held}/{len(verdicts)} |", flush=True)
        for v in verdicts:
            if not v.holds:
                failed = ", ".join(c.name for c in v.checks if not c.met) or "assumptions"
                print(f"  (fails: {v.process.given} seed {v.budget.seeds[0]}: {failed}; score {v.scores[0]:.3f})", file=sys.stderr)
        print(f"  ({name}: {time.perf_counter() - began:.0f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
