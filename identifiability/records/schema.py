"""A run's record: the JSON row a results store keeps, and the names of the numbers in it.

A record is ``ok_record(result)`` for a finished run or ``failed_record(spec, traceback)`` for one
that raised; both carry the spec's ``key``, the ``status``, the spec and the seeds. A finished run's
record keeps every score whole (``result.to_dict()``: nulls, intervals, warnings, DCI's
informativeness), by readout, beside the raw observations' and the baselines.

One name per number, the same in ``ExperimentResult.metrics``, the record, ``report --scores`` and
the CSV (``value_of``):

- ``affine_r2``, ``mcc``, ``dci``, ``participation_ratio``: the code's score; ``state.affine_r2``
  another readout's (``Objective.readouts``);
- ``affine_r2.null``: the null's 95th percentile; ``affine_r2.reverse``, ``dci.completeness``: a
  field of the result; ``profile.orthogonal``: a class of the linear profile;
- ``raw_x.affine_r2``, ``raw_x.state.affine_r2``: the raw observations' score of a readout;
- ``rotation_mcc``, ``oracle.filtered``: a baseline (the process's own by their names);
- ``train_s``, ``eval_s``, ``final_loss``, ``late_descent``: timings, and the share of the loss's
  descent made in the run's last fifth (near 0 at a plateau; ``TrainingLog.late_descent``).

A finished run's record also keeps its ``loss_curve``: the loss's means over 20 equal stretches.
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from .experiment import ExperimentResult
    from .specs import ExperimentSpec

OK, FAILED = "ok", "failed"
CODE = "code"  # the readout every run has
METRICS = ("affine_r2", "mcc", "dci", "participation_ratio", "profile")
TIMINGS = ("train_s", "eval_s", "final_loss", "late_descent")


def _whole(value: Any) -> Any:
    """A score as JSON: its ``to_dict()``, a number as it is."""
    return value.to_dict() if hasattr(value, "to_dict") else value  # results and profiles have one, floats not


def _readouts(scores: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {k: _whole(v) for k, v in own.items() if v is not None} for name, own in scores.items()}


def ok_record(result: ExperimentResult) -> dict[str, Any]:
    """The record of a finished run: its key (the spec's hash) and status, the spec, effective
    settings, seeds, every readout's scores whole, the raw observations' and the baselines, timings,
    the loss curve, versions, host and device."""
    spec = result.spec
    return {
        "key": spec.key,
        "status": OK,
        "host": platform.node(),
        "spec": spec.to_dict(),
        "settings": result.settings,
        "seed": spec.seed,
        "problem_seed": spec.problem,
        "problem_fingerprint": result.problem_fingerprint,
        "geometry": result.geometry,
        "process": result.process,
        "estimator": result.estimator,
        "metrics": _readouts(result.metrics),
        "baselines": {"raw_x": _readouts(result.raw_x), **{k: _whole(v) for k, v in result.baselines.items()}},
        "timings": {"train_s": result.training.seconds, "eval_s": result.eval_seconds,
                    "final_loss": result.training.final_loss, "late_descent": result.training.late_descent},
        "loss_curve": result.training.curve(),
        "device": result.training.device,
        "versions": {"identifiability": version("identifiability"), "torch": torch.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "created": result.created,
    }


def failed_record(spec: ExperimentSpec, trace: str) -> dict[str, Any]:
    """The record of a run that raised: its key, status, spec, seeds, the error's last line and the
    whole traceback."""
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return {
        "key": spec.key, "status": FAILED, "spec": spec.to_dict(), "seed": spec.seed, "problem_seed": spec.problem,
        "error": lines[-1] if lines else "", "traceback": trace,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def path_of(record: dict[str, Any], name: str) -> tuple[str, ...]:
    """Where the number ``name`` (see the module's docstring) lies in ``record``."""
    keys = name.split(".")
    if keys[0] in TIMINGS:
        return ("timings", *keys)
    baselines = record.get("baselines", {})
    if keys[0] == "raw_x":
        root, keys = ("baselines", "raw_x"), keys[1:]
    elif keys[0] in baselines:
        return ("baselines", *keys)
    else:
        root = ("metrics",)
    if keys and keys[0] in METRICS:
        keys = [CODE, *keys]
    if len(keys) < 2:
        return (*root, *keys)
    readout, metric, *rest = keys
    if metric == "profile" and rest:
        rest = ["scores", *rest]
    elif rest == ["null"]:
        rest = ["null", "upper"]
    return (*root, readout, metric, *rest)


def _get(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def value_of(record: dict[str, Any], name: str) -> Any:
    """A record's value by name: a part's name ("process", "encoder", "objective"), a part's setting
    ("process.latent_dim", "objective.temperature": the effective value), a training or evaluation
    setting ("training.steps", "evaluation.eval_samples"), a seed ("seed", "problem_seed"), or a
    number (see the module's docstring; a result's headline is its ``score``). None where the record
    has none."""
    if name in ("process", "encoder", "objective"):
        return _get(record, ("spec", name, "name"))
    part, _, setting = name.partition(".")
    if setting and part in ("process", "encoder", "objective"):
        return _get(record, ("settings", part, setting))
    if setting and part in ("training", "evaluation"):
        return _get(record, ("spec", part, setting))
    if name in ("seed", "problem_seed", "status", "key"):
        return record.get(name)
    value = _get(record, path_of(record, name))
    return value["score"] if isinstance(value, dict) and "score" in value else value


def number_names(record: dict[str, Any]) -> list[str]:
    """The names of the headline numbers a record holds: every readout's metrics (profile classes
    included), their nulls, the raw observations', the baselines' and the timings."""
    names: list[str] = []
    for readout, scores in record.get("metrics", {}).items():
        prefix = "" if readout == CODE else f"{readout}."
        for metric, value in scores.items():
            if metric == "profile":
                names += [f"{prefix}profile.{c}" for c in value.get("scores", {})]
                continue
            names.append(f"{prefix}{metric}")
            if isinstance(value, dict) and value.get("null"):
                names.append(f"{prefix}{metric}.null")
    for readout, scores in record.get("baselines", {}).get("raw_x", {}).items():
        prefix = "raw_x." if readout == CODE else f"raw_x.{readout}."
        names += [f"{prefix}{metric}" for metric in scores if metric != "profile"]
    for baseline, value in record.get("baselines", {}).items():
        if baseline != "raw_x":
            names += ([f"{baseline}.{k}" for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
                      if isinstance(value, dict) else [baseline])
    return [*names, *TIMINGS]
