"""Where a claim's training plateaus: its score along the training of its fast example, per held-back seed.

    python benchmarks/claim_plateaus.py NAME [NAME ...] [--seeds 101 102 103 104 105] [--every 100] [--steps N]
                                        [--example K] [--set KEY=VALUE ...] [--lr-schedule cosine]

For each library entry named (``claims.library.LIBRARY``; a control by its name), the process its
fast budget draws (or the ``K``-th its full budget draws, 0 being the fast one; ``--set`` changes its
settings, e.g. to a corner of the strategy's support that no budget draws), trained as its recipe says
(or under another learning-rate schedule) for ``--steps`` (default: the fast budget's) with a probe every ``--every`` steps that scores the claim's class of the held-out codes, the way its
verdict does (target, blocks, the budget's held-out samples). One training per seed gives the whole
curve; a claim's fast budget is sized by it (the least steps at which every seed is within about 0.01
of its value at twice those steps, and above the threshold with room). Prints one row per seed, then
the least and largest score per probe. Claims whose readout is not the per-frame code (a filter's
state) are refused: the probe sees only the encoder. One torch thread; run two processes on disjoint
names to use two cores.
"""

from __future__ import annotations

import argparse
import ast
import time
from dataclasses import replace

import torch

from identifiability.claims.budgets import HELD_BACK_SEEDS, as_budget
from identifiability.claims.library import LIBRARY
from identifiability.claims.recipes import Trained
from identifiability.claims.testing import _for_each
from identifiability.experiment import held_out, run_experiment
from identifiability.records import CODE
from identifiability.registry import PROCESSES, Context
from identifiability.specs import Part
from identifiability.training import Probe


def setting(text: str) -> tuple[str, object]:
    """KEY=VALUE as (key, value): a Python literal (6, 5.0, [1, 2]) or else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main() -> None:
    controls = {c.name: (c.claim, c.problems) for e in LIBRARY.values() for c in e.controls}
    table = {name: (e.claim, e.problems) for name, e in LIBRARY.items()} | controls
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", choices=list(table), metavar="NAME")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(HELD_BACK_SEEDS))
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--steps", type=int, default=None, help="steps to train (default: the fast budget's)")
    parser.add_argument("--example", type=int, default=0, choices=range(as_budget("full").examples),
                        help="which of the full budget's processes (0: the fast budget's)")
    parser.add_argument("--lr-schedule", default=None, help="the recipe's schedule replaced (a schedule spans --steps)")
    parser.add_argument("--set", nargs="+", type=setting, default=[], metavar="KEY=VALUE", help="process settings to change")
    args = parser.parse_args()
    torch.set_num_threads(1)
    budget = as_budget("fast")
    for name in args.names:
        claim, processes = table[name]
        recipe = claim.recipe
        if not isinstance(recipe, Trained) or recipe.readout != CODE:
            parser.error(f"{name}: only trained claims scored on the per-frame code have a curve here")
        if args.steps is not None:
            recipe = replace(recipe, fast_steps=args.steps)
        if args.lr_schedule is not None:
            recipe = replace(recipe, lr_schedule=args.lr_schedule)
        drawn: list = []
        _for_each(processes, replace(budget, examples=args.example + 1), drawn.append)  # a prefix of the full budget's
        process = drawn[args.example]
        process = Part.of(process.name, **process.given | dict(args.set))
        curves = []
        for seed in args.seeds:
            data, _ = PROCESSES.build(process.name, Context(seed=seed, problem_seed=seed), process.given)
            held = held_out(data, seed, budget.eval_samples)
            x, z = held.x[:, 0], held.z[:, 0]
            curve: list[tuple[int, float]] = []

            def look(encoder: torch.nn.Module, done: int, seconds: float) -> None:
                with torch.no_grad():
                    code = encoder(x.to(next(encoder.parameters()).dtype)).double()
                curve.append((done, claim.score(code, z.double(), seed).scores[claim.equivalence]))

            began = time.perf_counter()
            spec = recipe.specs(process, replace(budget, seeds=(seed,)))[0]
            run_experiment(spec, probe=Probe(args.every, look))
            curves.append(curve)
            print(f"{name} seed {seed} ({time.perf_counter() - began:.0f} s): "
                  + " ".join(f"{steps}:{score:.3f}" for steps, score in curve), flush=True)
        print(f"{name} on {process.name}({', '.join(f'{k}={v}' for k, v in process.given.items())}), threshold {claim.threshold:g}:")
        for points in zip(*curves):
            scores = [score for _, score in points]
            print(f"  {points[0][0]:>6} steps: least {min(scores):.3f}, largest {max(scores):.3f}")


if __name__ == "__main__":
    main()
