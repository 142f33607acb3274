"""The command line: ``identifiability run`` trains and scores the built-in problem."""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import fields
from pathlib import Path

from .experiment import ENCODERS, GENERATORS, ExperimentConfig, run_experiment
from .report import format_report
from foundation import SettingError

from .results import ResultsFile

DEFAULT_OUTPUT = Path("results") / "runs.jsonl"


class _Parser(argparse.ArgumentParser):
    """Bad input ends in one line on stderr and exit code 2, never a usage dump or a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The top-level parser and its ``run`` subcommand's parser."""
    defaults = {f.name: f.default for f in fields(ExperimentConfig)}
    parser = _Parser(prog="identifiability", description="Test identifiability claims on synthetic data.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="train an encoder on a built-in problem and score it against the true latents",
        description=(
            "Train an MLP encoder with InfoNCE on pairs from a generator (default: z uniform on the sphere, "
            "z'|z von Mises-Fisher, x = g(z) through an invertible leaky-ReLU MLP), then report held-out "
            "affine R^2 and MCC beside their chance level, the raw observations' scores and the rotation "
            "baseline, and append the result as a JSON line."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("--generator", default=defaults["generator"], metavar="NAME",
                     help=f"the problem: {', '.join(GENERATORS)}")
    run.add_argument("--encoder", default=defaults["encoder"], metavar="NAME",
                     help=f"the encoder: {', '.join(ENCODERS)} (conv for video frames, flow for vectors)")
    run.add_argument("--objective", default=None, metavar="NAME",
                     help="a preset: infonce (default on the sphere), plane-kde-ldm (default elsewhere), simclr, vicreg, "
                          "vicreg-ldm, byol, simsiam, cpc, kalman, or {plane,sphere}-{logdet,kde,knn}-{ldm,mi}")
    run.add_argument("--latent-dim", type=_int, default=defaults["latent_dim"], help="d, the latent dimension (>= 2)")
    run.add_argument("--kappa", type=_float, default=defaults["kappa"], help="vMF concentration of positive pairs (> 0)")
    run.add_argument("--uncertainty", type=_float, default=defaults["uncertainty"],
                     help="conditional uncertainty of the dynamics presets and video, in [0, 1]")
    run.add_argument("--seq-len", type=_int, default=defaults["seq_len"],
                     help="sequence length T of the dynamics, ica and video generators (2: pairs)")
    run.add_argument("--mixing-layers", type=_int, default=defaults["mixing_layers"], help="depth of the mixing MLP g")
    run.add_argument("--temperature", type=_float, default=None,
                     help="temperature of infonce, simclr and cpc (default: 1 / kappa on the sphere, else 0.1)")
    run.add_argument("--steps", type=_int, default=defaults["steps"], help="training steps")
    run.add_argument("--batch-size", type=_int, default=defaults["batch_size"], help="pairs per step")
    run.add_argument("--lr", type=_float, default=defaults["lr"], help="Adam learning rate")
    run.add_argument("--eval-samples", type=_int, default=defaults["eval_samples"], help="held-out samples scored")
    run.add_argument("--seed", type=_int, default=defaults["seed"], help="fixes mechanism, initialisation and data")
    run.add_argument("--device", default=defaults["device"], help="cpu, cuda or auto")
    run.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (JSON lines, appended)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser, run


def _flag(error: SettingError) -> str:
    """The setting's command-line spelling, e.g. latent_dim -> --latent-dim."""
    return f"--{error.name.replace('_', '-')}: {error.reason}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input ends in one line and exit code 2, Ctrl-C in one line and
    130, anything unexpected in one line and 1 (``IDENTIFIABILITY_DEBUG=1`` shows its traceback)."""
    parser, run = build_parser()
    args = parser.parse_args(argv)
    try:
        config = ExperimentConfig(
            generator=args.generator, encoder=args.encoder, objective=args.objective, seq_len=args.seq_len, uncertainty=args.uncertainty, latent_dim=args.latent_dim, kappa=args.kappa, mixing_layers=args.mixing_layers,
            temperature=args.temperature, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
            eval_samples=args.eval_samples, seed=args.seed, device=args.device,
        )
        output: Path = args.output
        if output == DEFAULT_OUTPUT:
            output.parent.mkdir(exist_ok=True)
        with ResultsFile(output) as results:  # opened now: a bad path fails before the training
            result = run_experiment(config, progress=not args.quiet and sys.stderr.isatty())
            print(format_report(result))
            results.append(result.to_record())
    except SettingError as error:
        run.error(_flag(error))
    except ValueError as error:
        run.error(str(error))
    except KeyboardInterrupt:
        print(f"{run.prog}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as error:  # one line, not a traceback, unless asked for
        if os.environ.get("IDENTIFIABILITY_DEBUG"):
            raise
        print(f"{run.prog}: error: {type(error).__name__}: {error} (IDENTIFIABILITY_DEBUG=1 shows where)", file=sys.stderr)
        return 1
    print(f"  result appended to {output}")
    return 0
