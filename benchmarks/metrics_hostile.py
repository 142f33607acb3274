"""How far the metrics land from the population values on hostile codes, and how often they warn.

    python benchmarks/metrics_hostile.py [--draws 1000] [--dci-draws 40]

Draws codes from ``identifiability.metrics.strategies.hostile_codes`` (copies at huge offsets and
scales, elementwise maps with closed-form correlations incl. heavy tails, useless heavy and constant
columns, exact and near repeats) and reports, per metric, the worst |score - population value| among
results that did not warn, with how many warned; for DCI with trees, the worst difference between a
code and its column ranks (exact invariance is the claim).
"""

from __future__ import annotations

import argparse

import torch
from hypothesis import HealthCheck, Phase, given, settings

from identifiability.metrics import affine_r2, dci, mcc
from identifiability.metrics.ranks import rank_columns
from identifiability.metrics.strategies import hostile_codes


class Worst:
    """The worst disagreement among unwarned results, and the counts."""

    def __init__(self) -> None:
        self.error, self.case, self.warned, self.quiet = 0.0, None, 0, 0

    def add(self, error: float, warned: bool, case: tuple[str, ...]) -> None:
        if warned:
            self.warned += 1
            return
        self.quiet += 1
        if not error <= self.error:  # NaN counts as worst
            self.error, self.case = error, case


def run(draws: int, dci_draws: int) -> dict[str, Worst]:
    worst = {name: Worst() for name in ("affine_r2", "mcc (pearson)", "mcc (spearman)", "dci (code vs its ranks)")}
    options = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])

    @settings(max_examples=draws, **options)
    @given(hostile_codes())
    def linear(code):
        for seed in (0, 1):
            r2 = affine_r2(code.z_hat, code.z, seed=seed)
            worst["affine_r2"].add(abs(r2.score - code.r2.mean()), not r2.supported, code.columns)
            pearson = mcc(code.z_hat, code.z, seed=seed)
            worst["mcc (pearson)"].add(abs(pearson.score - code.mcc), not pearson.supported, code.columns)
            spearman = mcc(code.z_hat, code.z, seed=seed, method="spearman")
            expected = float((code.r2 > 0).mean())  # every map is monotone: rank correlation 1
            worst["mcc (spearman)"].add(abs(spearman.score - expected), not spearman.supported, code.columns)

    @settings(max_examples=max(dci_draws, 1), **options)
    @given(hostile_codes(max_dim=3, n=(1000, 2000)))
    def trees(code):
        a = dci(code.z_hat, code.z, null=False)
        b = dci(rank_columns(torch.as_tensor(code.z_hat)), code.z, null=False)
        gap = max(abs(a.disentanglement - b.disentanglement), abs(a.completeness - b.completeness),
                  abs(a.informativeness - b.informativeness))
        worst["dci (code vs its ranks)"].add(gap, False, code.columns)

    linear()
    if dci_draws:
        trees()
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--dci-draws", type=int, default=40)
    args = parser.parse_args()
    print(f"## hostile codes: {args.draws} draws x 2 split seeds ({args.dci_draws} for DCI)")
    print("| metric | worst unwarned distance | results without / with a warning | worst case (columns) |")
    print("|---|---|---|---|")
    for name, w in run(args.draws, args.dci_draws).items():
        case = ", ".join(w.case) if w.case else "-"
        print(f"| {name} | {w.error:.3g} | {w.quiet} / {w.warned} | {case} |")


if __name__ == "__main__":
    main()
