"""The plain-text report of a finished run."""

from __future__ import annotations

from typing import Any

from identifiability.processes import OracleR2

from .experiment import ExperimentResult
from .metrics import MetricResult
from .records import CODE
from .specs import Training

# How each readout's scores are introduced (a readout of one's own is shown by its name).
READOUTS = {CODE: "the code of one frame", "state": "the filter's state at the last step"}
# Warnings shown per metric and readout: at d = 384 every latent can have one, which would bury the scores.
SHOWN_WARNINGS = 3


def _oracle_line(oracle: OracleR2) -> str:
    if oracle.standard_errors is None:
        return (f"  {'oracle R^2':<16}{oracle.filtered:>8.3f}   filtered, {oracle.per_frame:.3f} per frame: the "
                f"{oracle.method} on the true model, the best any estimator can reach")
    frame_se, filtered_se = oracle.standard_errors
    return (f"  {'oracle R^2':<16}{oracle.filtered:>8.3f}   +- {filtered_se:.3f} filtered, {oracle.per_frame:.3f} +- "
            f"{frame_se:.3f} per frame: a {oracle.method} on the true model, a Monte-Carlo lower estimate of the best "
            f"(effective sample size down to {oracle.effective_sample_size:.1%}; lower where that is small)")


def _row(label: str, result: MetricResult, raw: MetricResult) -> str:
    null = result.null
    chance = f"{null.mean:+.3f} ({null.upper:+.3f})" if null else "n/a"
    return f"  {label:<16}{result.score:>8.3f}   {chance:<17}{raw.score:>7.3f}"


def _rate(budget: Training) -> str:
    """How the learning rate moves: "constant", "cosine", "(warm-up 500, cosine)"."""
    return budget.lr_schedule if not budget.lr_warmup else f"(warm-up {budget.lr_warmup}, {budget.lr_schedule})"


def _readout(name: str, scores: dict[str, Any], raw: dict[str, Any], rotation: float) -> list[str]:
    """The lines of one readout's scores beside chance and the raw observations."""
    lines = [f"  {READOUTS.get(name, name)}:"]
    lines.append(_row("affine R^2", scores["affine_r2"], raw["affine_r2"]))
    lines.append(_row("MCC (Pearson)", scores["mcc"], raw["mcc"]) + f"   rotation baseline {rotation:.3f}")
    if "dci" in scores:
        lines.append(_row("DCI (D)", scores["dci"], raw["dci"]))
    lines.append(f"  {'reverse R^2':<16}{scores['affine_r2'].reverse:>8.3f}   (z_hat ~ z: low if z_hat has dimensions z does not explain)")
    profile = scores["profile"]
    lines.append(f"  {'profile':<16}" + (profile.line() if profile else "undefined: the code is constant (collapsed)"))
    for key in ("affine_r2", "mcc", "dci"):
        warnings = scores[key].warnings if key in scores else ()
        lines += [f"  ! {warning}" for warning in warnings[:SHOWN_WARNINGS]]
        if len(warnings) > SHOWN_WARNINGS:
            lines.append(f"  ! and {len(warnings) - SHOWN_WARNINGS} more warnings of the {key} scores of this readout "
                         f"(every one is in the record, under its metric's warnings)")
    return lines


def format_report(result: ExperimentResult) -> str:
    """A short, readable account of a run: the problem, the estimator, the budget, and each readout's
    scores beside the chance level, the raw observations and (for MCC) the rotation baseline, then
    the process's baselines."""
    spec, log, geometry = result.spec, result.training, result.geometry
    budget, samples = spec.training, spec.evaluation.eval_samples
    rotation = result.baselines["rotation_mcc"]
    seeds = f"seed {spec.seed}, problem seed {spec.problem} (fingerprint {result.problem_fingerprint})"
    lines = [
        "identifiability run",
        f"  process     {result.process}",
        f"  estimator   {result.estimator}",
        f"  seeds       {seeds}",
        f"  training    {budget.steps} steps x batch {budget.batch_size}, Adam lr {budget.lr:g} {_rate(budget)}, on {log.device}: "
        f"{log.seconds:.1f} s, final loss {log.final_loss:.4f}",
        f"  evaluation  {samples} held-out samples, half to fit and half to score: {result.eval_seconds:.1f} s",
        *([f"  ! geometry  the objective reads its code on the {geometry['objective']}, the data's latents live on the "
           f"{geometry['data']}: a misspecified model (the scores are of the code the objective trains)"]
          if not geometry["matched"] else []),
        "",
        f"  {'held-out score':<16}{'z_hat':>8}   {'chance (95%)':<17}{'raw x':>7}",
    ]
    for name, scores in result.metrics.items():
        lines += _readout(name, scores, result.raw_x[name], rotation)
    if isinstance(result.baselines.get("oracle"), OracleR2):
        lines.append(_oracle_line(result.baselines["oracle"]))
    lines += [
        "",
        f"  An MCC near the rotation baseline ({rotation:.2f}) is what a rotated copy of z scores,",
        "  not evidence of identifiability up to permutation.",
    ]
    return "\n".join(lines)
