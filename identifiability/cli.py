"""The command line: ``identifiability run`` (one run), ``sweep`` (many, in parallel) and ``report`` (a table)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import inspect
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from identifiability._core import SettingError, check_int

from .experiment import run_experiment
from .registry import ENCODERS, PROCESSES, OBJECTIVES
from .report import format_report
from .specs import Evaluation, ExperimentSpec, Training
from .records import METRICS, OK, ResultsFile, Store, format_table, number_names, summarise, to_csv, value_of
from .sweeps import load_sweep, run_sweep
from .training import DECAYS, DTYPES, Checkpoint, Interrupted

DEFAULT_RESULTS = Path("results") / "runs.jsonl"


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


def _widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"must be on or off, got {text!r}")
    return text == "on"


def _parser_of(annotation: object, default: object) -> Callable[[str], Any]:
    """How a setting's value is read from the command line, from its builder's annotation (or, for a
    builder of one's own without one, its default's type): on/off, comma-separated widths, a finite
    number, an integer or text."""
    text = str(annotation)
    if "bool" in text or isinstance(default, bool):
        return _on_off
    if "[int" in text or isinstance(default, tuple):
        return _widths
    if "float" in text or isinstance(default, float):
        return _float
    if "int" in text or isinstance(default, int):
        return _int
    return str


def part_settings() -> dict[str, dict[str, tuple[Callable[[str], Any], list[str]]]]:
    """Every setting of every registered part, by name: (kind -> (its reader, the parts that have it))."""
    found: dict[str, dict[str, tuple[Callable[[str], Any], list[str]]]] = {}
    for registry in (PROCESSES, ENCODERS, OBJECTIVES):
        for name in registry:
            entry = registry[name]
            annotations = inspect.signature(entry.build).parameters
            for key, default in entry.settings.items():
                reader, owners = found.setdefault(key, {}).setdefault(
                    registry.kind, (_parser_of(annotations[key].annotation, default), []))
                owners.append(name)
    return found


def _plural(kind: str) -> str:
    """"processes", "encoders", "objectives"."""
    return kind + ("es" if kind.endswith("s") else "s")


def _flag_help(kinds: dict[str, tuple[Callable[[str], Any], list[str]]]) -> str:
    """Which parts have a setting: "every process", or their names by kind."""
    registries = {r.kind: r for r in (PROCESSES, ENCODERS, OBJECTIVES)}
    said = [f"every {kind}" if len(owners) == len(registries[kind].names())
            else f"{_plural(kind) if len(owners) > 1 else kind} {', '.join(owners)}" for kind, (_, owners) in kinds.items()]
    return "a setting of " + "; of ".join(said)


def _assignment(text: str) -> tuple[str, Any]:
    """``--set part.key=value``: the qualified name and the value, read as that part's setting is."""
    name, equals, value = text.partition("=")
    kind, dot, key = name.partition(".")
    settings = part_settings()
    if not equals or not dot or kind not in ("process", "encoder", "objective"):
        raise argparse.ArgumentTypeError(f"must be PART.KEY=VALUE, PART one of process, encoder, objective; got {text!r}")
    if key not in settings or kind not in settings[key]:
        raise argparse.ArgumentTypeError(f"{key!r} is not a setting of any {kind}")
    return name, settings[key][kind][0](value)


def _catalogue() -> str:
    """One line per registered part, with its settings: the epilog of ``run --help``."""
    lines = []
    registries = (PROCESSES, ENCODERS, OBJECTIVES)
    width = 2 + max(len(name) for registry in registries for name in registry.names())  # a name never runs into its summary
    for registry in registries:
        lines.append(f"{_plural(registry.kind)}:")
        for name in registry.names():
            entry = registry[name]
            settings = ", ".join(f"{k}={v}" for k, v in entry.settings.items())
            lines.append(f"  {name:<{width}}{entry.summary}{f' [{settings}]' if settings else ''}")
    return "\n".join(lines)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, and the catalogue of parts kept as written."""


def _run_parser(commands: Any) -> argparse.ArgumentParser:
    """``run``: one experiment from flags (a flag per registered setting) or a spec file."""
    run = commands.add_parser(
        "run",
        help="train an encoder on a process's data and score it against the true latents",
        description=(
            "Build a process, an encoder and an objective by name, train the encoder with the objective on the "
            "process's pairs or sequences, then report held-out affine R^2 and MCC beside their chance level, "
            "the raw observations' scores and the rotation baseline, and append the record (spec, effective "
            "settings, seeds, scores, timings) as a JSON line. Without options: Zimmermann et al.'s sphere problem "
            "with InfoNCE at temperature 1 / kappa. A setting goes to the chosen part that has it; one that no "
            "chosen part has is refused."
        ),
        epilog=_catalogue(),
        formatter_class=_Formatter,
    )
    run.add_argument("--process", default="sphere", metavar="NAME", help="the problem (see below)")
    run.add_argument("--encoder", default="mlp", metavar="NAME", help="the encoder (see below)")
    run.add_argument("--objective", default=None, metavar="NAME",
                     help="the objective (see below; default: infonce on the sphere, plane-kde-ldm elsewhere)")
    for key, kinds in sorted(part_settings().items()):  # a flag per setting of any registered part
        reader = next(iter(kinds.values()))[0]
        run.add_argument(f"--{key.replace('_', '-')}", type=reader, default=None, help=_flag_help(kinds))
    run.add_argument("--set", type=_assignment, action="append", default=[], metavar="PART.KEY=VALUE",
                     help="a setting of one part by its qualified name (objective.hidden=16,16): where two chosen "
                          "parts share a setting, the bare flag is refused")
    run.add_argument("--steps", type=_int, default=Training.steps, help="training steps")
    run.add_argument("--batch-size", type=_int, default=Training.batch_size, help="pairs or sequences per step")
    run.add_argument("--lr", type=_float, default=Training.lr, help="Adam learning rate")
    run.add_argument("--lr-schedule", default=Training.lr_schedule, metavar="NAME",
                     help=f"the learning rate's decay after the warm-up: {', '.join(sorted(DECAYS))}")
    run.add_argument("--lr-warmup", type=_int, default=Training.lr_warmup, metavar="N",
                     help="steps of linear learning-rate warm-up")
    run.add_argument("--dtype", default=Training.dtype, metavar="NAME",
                     help=f"the parameters' and batches' floating dtype: {', '.join(DTYPES)}")
    run.add_argument("--eval-samples", type=_int, default=Evaluation.eval_samples, help="held-out samples scored")
    run.add_argument("--dci", action="store_true", help="also score DCI disentanglement (tree importances)")
    run.add_argument("--seed", type=_int, default=0, help="the training seed: initialisation, the parts' noise, the data")
    run.add_argument("--problem-seed", type=_int, default=None,
                     help="the problem's seed: the mechanism and the evaluation set (default: --seed)")
    run.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    run.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results file (JSON lines, appended)")
    run.add_argument("--config", type=Path, default=None, metavar="FILE",
                     help="the spec from a TOML file (as ExperimentSpec.to_toml writes it) instead of the flags")
    run.add_argument("--checkpoint-every", type=_int, default=500, metavar="N",
                     help="save the training every N steps beside the results (checkpoints/KEY.pt) and resume from "
                          "it when the same run is started again; 0: never")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return run


def _sweep_parser(commands: Any) -> argparse.ArgumentParser:
    """``sweep``: every run of a sweep file, in parallel, into a results store."""
    sweep = commands.add_parser(
        "sweep", help="run every spec a sweep file names, in parallel, into a results store",
        description=(
            "Run every run a sweep file (TOML: [base] settings, a [grid] of values, [[runs]]) names that the store "
            "does not hold as done, in worker processes here or on a Dask cluster, appending each record as it "
            "finishes; a failing run is recorded with its error. Runs differing only in their seeds train as one "
            "batched model where their parts allow it; the others checkpoint and resume."
        ),
    )
    sweep.add_argument("grid", type=Path, metavar="GRID.toml", help="the sweep file")
    sweep.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="the results store (JSON lines)")
    sweep.add_argument("--workers", type=_int, default=1, help="worker processes (or Dask workers, or Slurm jobs)")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a Dask cluster instead of local processes: local (a LocalCluster), slurm, or tcp://host:port")
    sweep.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    return sweep


# what ``report --by`` groups by (``records.value_of`` resolves each)
GROUP_FIELDS = ("process, encoder, objective, a part's setting (process.latent_dim), a training or evaluation setting "
                "(training.steps, evaluation.eval_samples), seed or problem_seed")


def _report_parser(commands: Any) -> argparse.ArgumentParser:
    """``report``: a results store as a table."""
    report = commands.add_parser(
        "report", help="a table of a results store: mean and 95%% interval per cell across seeds",
        description="Group the successful records of a results store and print, per group, the number of runs, "
                    "the mean affine R^2 and MCC with a 95% interval across them, the null's 95th percentile and "
                    "the raw observations' scores.",
    )
    report.add_argument("results", type=Path, metavar="RESULTS", help="the results store (JSON lines)")
    report.add_argument("--by", default="process,objective",
                        help=f"comma-separated fields to group by: {GROUP_FIELDS}")
    report.add_argument("--csv", type=Path, default=None, metavar="FILE", help="also write the table as CSV")
    report.add_argument("--scores", default="affine_r2,mcc",
                        help="comma-separated numbers with a mean and interval per cell, named as in the record: "
                             f"{', '.join(METRICS[:-1])}, profile.CLASS, a readout's (state.affine_r2), a field "
                             "(affine_r2.reverse), a baseline (rotation_mcc, oracle.filtered, raw_x.mcc) or a timing (train_s)")
    report.add_argument("--failed", action="store_true", help="list the runs whose last record failed, with their error")
    return report


def _figs_parser(commands: Any) -> argparse.ArgumentParser:
    """``figs``: the theory figures, found through their entry points."""
    figs = commands.add_parser(
        "figs", help="regenerate the theory figures (identifiability/figures/) from the toolkit's own runs",
        description="Run the sweeps a figure needs that the store does not hold yet, then write NAME.png, NAME.pdf, "
                    "the table behind it (NAME.csv) and its caption (NAME.txt), for every figure registered under "
                    "the entry points identifiability.figures (a NAME it lacks is refused with the list). "
                    "--budget fast is sized for a laptop, full for a GPU or a Dask cluster (hours on a CPU).",
    )
    figs.add_argument("name", nargs="?", default="all", metavar="NAME", help="a figure, or all (default)")
    figs.add_argument("--budget", default="fast", help="fast or full (as the claims' budgets)")
    figs.add_argument("--out", type=Path, default=Path("figures"), help="the folder for the figures")
    figs.add_argument("--results", type=Path, default=None, help="the results store (default: OUT/BUDGET.jsonl)")
    figs.add_argument("--workers", type=_int, default=1, help="worker processes (or Dask workers, or Slurm jobs)")
    figs.add_argument("--scheduler", default=None, metavar="ADDRESS", help="a Dask cluster, as for sweep")
    figs.add_argument("--plateau", action="store_true",
                      help="also train every run at twice its steps (about three times the cost), so that the caption "
                           "says how far each cell's mean moved: its distance to the plateau")
    figs.add_argument("--quiet", action="store_true", help="no progress bar")
    return figs

def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and its subcommands' parsers by name."""
    parser = _Parser(prog="identifiability", description="Test identifiability claims on synthetic data.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    made = {name: build(commands) for name, build in (("run", _run_parser), ("sweep", _sweep_parser),
                                                       ("report", _report_parser), ("figs", _figs_parser))}
    return parser, made


def spec_from_arguments(args: argparse.Namespace) -> ExperimentSpec:
    """The spec the parsed arguments describe: each given part flag routed to the part that has it,
    or the ``--config`` file's (with ``--device`` where given)."""
    given = {key: getattr(args, key) for key in part_settings()}  # the generated flags, by their settings' names
    given.update(dict(args.set))
    if args.config is not None:
        if any(v is not None for v in given.values()):
            raise SettingError("config", "takes the whole spec: give the part flags or a config file, not both")
        try:
            spec = ExperimentSpec.from_toml(args.config.read_text())
        except OSError as error:
            raise SettingError("config", f"cannot read {str(args.config)!r}: {error.strerror}") from None
        except SettingError as error:  # named as the file's field, not as a flag
            raise SettingError("config", f"{args.config}: {error}") from None
        return spec if args.device == "auto" else replace(spec, device=args.device)
    return ExperimentSpec.from_settings(
        process=args.process, encoder=args.encoder, objective=args.objective, seed=args.seed,
        problem_seed=args.problem_seed, device=args.device, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        lr_schedule=args.lr_schedule, lr_warmup=args.lr_warmup, dtype=args.dtype,
        eval_samples=args.eval_samples, dci=args.dci, **{k: v for k, v in given.items() if v is not None},
    )


def _flag(error: SettingError) -> str:
    """The setting's command-line spelling, e.g. latent_dim -> --latent-dim."""
    return f"--{error.name.replace('_', '-')}: {error.reason}"


def _run(args: argparse.Namespace) -> int:
    spec = spec_from_arguments(args)
    output: Path = args.results
    if output == DEFAULT_RESULTS:
        output.parent.mkdir(exist_ok=True)
    every = check_int("checkpoint_every", args.checkpoint_every, low=0)
    with ResultsFile(output) as results:  # opened now: a bad path fails before the training
        checkpoint = None
        if every:
            (output.parent / "checkpoints").mkdir(exist_ok=True)
            checkpoint = Checkpoint(output.parent / "checkpoints" / f"{spec.key}.pt", every, spec.key)
        result = run_experiment(spec, progress=not args.quiet and sys.stderr.isatty(), checkpoint=checkpoint)
        print(format_report(result))
        results.append(result.to_record())
        if checkpoint is not None:
            checkpoint.remove()
    print(f"  result appended to {output}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    try:
        specs = load_sweep(args.grid)
    except SettingError as error:  # named as the file's field, not as a flag
        raise ValueError(f"{args.grid}: {error}") from None
    try:  # a sweep's store is a folder of its own: records and checkpoints
        args.results.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingError("results", f"cannot make the folder {str(args.results.parent)!r}: {error.strerror}") from None
    ResultsFile(args.results).close()  # a store that cannot be written is refused before any run
    report = run_sweep(specs, Store(args.results), workers=args.workers, scheduler=args.scheduler,
                       retry_failed=args.retry_failed, progress=not args.quiet and sys.stderr.isatty())
    print(f"{report.runs} runs: {report.skipped} already in {args.results}, {report.completed} done now, "
          f"{report.failed} failed ({report.seconds:.0f} s)")
    if report.failed:
        print(f"  failed runs are recorded with their error (retry them with --retry-failed); "
              f"`identifiability report {args.results} --failed` lists them")
    if report.lost:
        print(f"  {report.lost} runs lost with their worker ({report.lost_reason}); run the same sweep again to complete them")
    return 1 if report.failed or report.lost else 0


def _report(args: argparse.Namespace) -> int:
    if not args.results.is_file():
        raise SettingError("results", f"{str(args.results)!r} is not a results file")
    store = Store(args.results)
    if args.failed:
        if not store.failed():
            print(f"no failed runs in {args.results}")
        for key, record in store.failed().items():
            where = ", ".join(f"{b}={value_of(record, b)}" for b in ("process", "encoder", "objective", "seed"))
            print(f"{key}  {where}: {record.get('error')}")
        return 0
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    scores = [s.strip() for s in args.scores.split(",") if s.strip()]
    records = store.records()
    done = [r for r in records if r.get("status") == OK]
    unknown = [s for s in scores if not any(isinstance(value_of(r, s), (int, float)) for r in done)]
    if unknown:
        known = {n: None for r in done for n in number_names(r)}
        raise SettingError("scores", f"has {unknown[0]!r}, which no record in {args.results} holds; they hold "
                                     f"{', '.join(known) or 'no numbers'}")
    missing = [b for b in by if done and all(value_of(r, b) is None for r in done)]
    if missing:  # grouping by it would put every run in one group under "None"
        raise SettingError("by", f"has {missing[0]!r}, which no record in {args.results} holds: group by {GROUP_FIELDS}")
    rows = summarise(records, by, scores)
    print(format_table(rows, by, scores))
    if args.csv is not None:
        args.csv.write_text(to_csv(rows))
    return 0


def _figures() -> dict[str, Any]:
    """Figure name -> the module that makes it, of every package registered under the entry points
    "identifiability.figures" (``paper_figs``: a module with ``FIGURES`` and ``make``)."""
    found: dict[str, Any] = {}
    for entry in entry_points(group="identifiability.figures"):
        module = entry.load()
        found.update({name: module for name in module.FIGURES})
    return found


def _figs(args: argparse.Namespace) -> int:
    figures = _figures()
    if args.name != "all" and args.name not in figures:
        raise SettingError("name", f"must be one of {', '.join(figures)} or all, got {args.name!r}")
    names = list(figures) if args.name == "all" else [args.name]
    failed = 0
    for name in names:
        made = figures[name].make(name, args.budget, args.out, store=args.results, workers=args.workers,
                               scheduler=args.scheduler, progress=not args.quiet and sys.stderr.isatty(),
                               plateau=args.plateau)
        runs = "" if made.sweep is None else f", {made.sweep.runs} runs ({made.sweep.skipped} stored)"
        print(f"{name}: {', '.join(str(p) for p in made.paths)} ({made.seconds:.0f} s{runs})")
        if made.sweep is not None and (made.sweep.failed or made.sweep.lost):
            failed += 1
            print(f"  {made.sweep.failed} runs failed and {made.sweep.lost} were lost: the figure omits them; "
                  f"`identifiability report {args.results or args.out / (args.budget + '.jsonl')} --failed` lists them")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input ends in one line and exit code 2, Ctrl-C in one line and
    130, anything unexpected in one line and 1 (``IDENTIFIABILITY_DEBUG=1`` shows its traceback)."""
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    command = commands[args.command]
    try:
        return {"run": _run, "sweep": _sweep, "report": _report, "figs": _figs}[args.command](args)
    except SettingError as error:
        command.error(_flag(error))
    except ValueError as error:
        command.error(str(error))
    except Interrupted as stop:
        where = f"; the checkpoint {stop.checkpoint} resumes it: start the same run again" if stop.checkpoint else ""
        print(f"{command.prog}: interrupted{where}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{command.prog}: interrupted; what finished is recorded", file=sys.stderr)
        return 130
    except Exception as error:  # one line, not a traceback, unless asked for
        if os.environ.get("IDENTIFIABILITY_DEBUG"):
            raise
        print(f"{command.prog}: error: {type(error).__name__}: {error} (IDENTIFIABILITY_DEBUG=1 shows where)", file=sys.stderr)
        return 1
    return 2  # unreachable: command.error exits
