"""An experiment: build the parts a spec names, train, and score against the true latents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from identifiability._core import check_fits, derive_seed
from identifiability.processes import Batch, Process, fingerprint

from .encoders.base import Encoder, as_encoder
from .metrics import affine_r2, dci, mcc, participation_ratio, rotation_baseline
from .metrics.profile import LINEAR_CLASSES, Profile, profile
from .objectives.base import Objective, Readout, as_objective
from .records import CODE, ok_record
from .registry import ENCODERS, PROCESSES, OBJECTIVES, Context
from .specs import Evaluation, ExperimentSpec, Training
from .training import Checkpoint, Probe, TrainingLog, batchable, resolve_device, train, train_seeds


@dataclass(frozen=True)
class Parts:
    """The parts of a run, built, with the effective value of every setting of every part."""

    data: Process
    encoder: Encoder
    objective: Objective
    settings: dict[str, dict[str, Any]]
    estimator: str  # "name (Class: setting=value, ...) + name (Class: ...)", the classes as registered

    @property
    def geometry(self) -> dict[str, Any]:
        """Where the objective reads its code, where the data's latents live, and whether they agree
        (a mismatch is a legitimate misspecification experiment, and is named)."""
        objective, data = self.objective.geometry, self.data.latent_geometry
        return {"objective": objective, "data": data, "matched": objective == data}


@contextmanager
def _drawing(stream: str, spec: ExperimentSpec) -> Iterator[None]:
    """Modules built inside draw their weights from the training seed's ``stream`` in the training's
    dtype (torch's global generator and default dtype, both restored after). A float64 run draws its
    initial weights in float64: float32 draws round differently on CPUs without AVX2, which training
    would carry into every score (``benchmarks/math_paths.py``)."""
    previous = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(spec.seed, stream))
        torch.set_default_dtype(spec.training.torch_dtype)
        try:
            yield
        finally:
            torch.set_default_dtype(previous)


def _describe(module: torch.nn.Module, name: str, settings: dict[str, Any]) -> str:
    """"name (Class: setting=value, ...)"."""
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    return f"{name} ({type(module).__name__}{': ' + shown if shown else ''})"


def build(spec: ExperimentSpec) -> Parts:
    """The process (from the problem seed), then the objective (its geometry decides the encoder's
    output), then the encoder; module weights are drawn in the training's dtype from streams of the
    training seed (``_drawing``). A plain module of one's own becomes an ``Encoder`` or an
    ``Objective`` here, once (``as_encoder``, ``as_objective``)."""
    assert spec.objective is not None
    context = Context(seed=spec.seed, problem_seed=spec.problem)
    data, process_settings = PROCESSES.build(spec.process.name, context, spec.process.given)
    if not isinstance(data, Process):
        raise TypeError(f"the process {spec.process.name!r} built a {type(data).__name__}, which does not keep "
                        "the Process contract (subclass identifiability.processes.Process)")
    declared = PROCESSES[spec.process.name].meta.get("geometry", "plane")
    if data.latent_geometry != declared:  # the spec chose its default objective by the declaration
        raise TypeError(f"the process {spec.process.name!r} is registered with geometry {declared!r} but its latents "
                        f"lie on the {data.latent_geometry}: declare register_process(..., geometry={data.latent_geometry!r})")
    context = replace(context, data=data)
    with _drawing("objective-init", spec):
        built, objective_settings = OBJECTIVES.build(spec.objective.name, context, spec.objective.given)
    objective = as_objective(built)
    context = replace(context, geometry=objective.geometry)
    with _drawing("init", spec):
        encoder, encoder_settings = ENCODERS.build(spec.encoder.name, context, spec.encoder.given)
    settings = {"process": process_settings, "encoder": encoder_settings, "objective": objective_settings}
    estimator = (f"{_describe(encoder, spec.encoder.name, encoder_settings)} + "
                 f"{_describe(built, spec.objective.name, objective_settings)}")  # the classes as registered
    return Parts(data, as_encoder(encoder), objective, settings, estimator)


def initialize(parts: Parts, spec: ExperimentSpec) -> Batch:
    """The encoder's data-dependent start (a flow standardises its input; others have none) on a batch
    drawn from the training seed's "start" stream; returns that batch."""
    batch = parts.data.sample(spec.training.batch_size, derive_seed(spec.seed, "start"), dtype=spec.training.torch_dtype)
    parts.encoder.initialize(batch.x)
    return batch


def held_out(data: Process, problem: int, samples: int, *, device: str | torch.device = "cpu",
             dtype: torch.dtype = torch.float32) -> Batch:
    """The held-out samples every run on the problem ``problem`` is scored on, and every fitted
    estimator of a claim: ``samples`` of them from the problem seed's "eval" stream (so trainings of
    one problem share them)."""
    return data.sample(samples, derive_seed(problem, "eval"), device=device, dtype=dtype)


def memory_plan(spec: ExperimentSpec, data: Process, hidden: tuple[int, ...]) -> dict[str, float]:
    """Estimated peak bytes of a run on ``data``, by the setting that drives them (within a factor of
    about 2): a training step (the process's float64 draws, the encoder's activations, the
    objective's pairwise matrices) and the evaluation (held-out draws and the metrics' copies)."""
    steps = data.seq_len
    per_row = steps * (int(np.prod(data.observed_shape)) + data.latent_dim)
    batch, samples = spec.training.batch_size, spec.evaluation.eval_samples
    # a term is named by the setting furthest above its default: the sequence length or the size
    length = f"seq_len={steps}"
    training = length if steps / 2 > batch / Training.batch_size else f"batch_size={batch}"
    scoring = length if steps / 2 > samples / Evaluation.eval_samples else f"eval_samples={samples}"
    plan = {training: 32.0 * batch * per_row + 12.0 * batch * steps * sum(hidden) + 24.0 * (2 * batch * (steps - 1)) ** 2}
    plan[scoring] = plan.get(scoring, 0.0) + 64.0 * samples * per_row
    return plan


@dataclass(frozen=True)
class ExperimentResult:
    """A finished run: its spec and parts, its scores, the baselines that give them meaning, and its
    timings.

    Attributes:
        metrics: readout name -> score name -> result: for the code (``CODE``, the first step's
            frame) and every readout the objective offers (``Objective.readouts``; a filter's
            "state"): "affine_r2" and "mcc" with their nulls, "participation_ratio", "profile"
            (None where the code is constant) and, where asked, "dci" with its null.
        raw_x: the same scores of each readout's raw observations: what an encoder must beat.
        baselines: "rotation_mcc" (what a rotated copy of z scores) and the process's own
            (``Process.baselines``: "oracle", the Bayes filter on the true model, say).
        held_out: with ``keep_codes``, each readout's held-out codes, latents and observations.
    """

    spec: ExperimentSpec
    settings: dict[str, dict[str, Any]]
    geometry: dict[str, Any]
    problem_fingerprint: str
    process: str  # the process, as its repr (the problem's settings and seed)
    estimator: str  # the encoder and objective with their settings, as described by ``Parts.estimator``
    training: TrainingLog
    metrics: dict[str, dict[str, Any]]
    raw_x: dict[str, dict[str, Any]]
    baselines: dict[str, Any]
    eval_seconds: float
    held_out: dict[str, Readout] | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def code(self) -> dict[str, Any]:
        """The code's scores (``metrics[CODE]``)."""
        return self.metrics[CODE]

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready row written to a results store (``record.ok_record``)."""
        return ok_record(self)


def _fitted(spec: ExperimentSpec, device: torch.device) -> Parts:
    """The parts, built, checked against the machine's memory, and initialised on the training stream."""
    parts = build(spec)
    hidden = parts.settings["encoder"].get("hidden", ())
    check_fits(memory_plan(spec, parts.data, tuple(hidden)), device)
    initialize(parts, spec)
    return parts


def _linear_profile(z_hat: torch.Tensor, z: torch.Tensor) -> Profile | None:
    """The codes' distance to the classes of linear maps (milliseconds), or None where it is
    undefined (a code constant in every column: collapsed)."""
    if not bool((z_hat.amax(0) > z_hat.amin(0)).any()):
        return None
    return profile(z_hat, z, classes=LINEAR_CLASSES)


def score_codes(z_hat: torch.Tensor, z: torch.Tensor, evaluation: Evaluation, *, nulls: bool) -> dict[str, Any]:
    """Every score of codes z_hat (n, k) for latents z (n, d): affine R^2, MCC, the participation
    ratio, the linear profile and, where ``evaluation.dci``, DCI (its null always: it gates the
    score); the nulls of R^2 and MCC where ``nulls``."""
    scores: dict[str, Any] = {
        "affine_r2": affine_r2(z_hat, z, null=nulls),
        "mcc": mcc(z_hat, z, null=nulls),
        "participation_ratio": participation_ratio(z_hat),
        "profile": _linear_profile(z_hat, z),
    }
    if evaluation.dci:
        scores["dci"] = dci(z_hat, z)
    return scores


def evaluate(
    spec: ExperimentSpec, parts: Parts, log: TrainingLog, device: torch.device, *, keep_codes: bool = False
) -> ExperimentResult:
    """Score trained parts on the held-out samples of the problem (``held_out``): every readout (the
    code of the first frame, and what the objective offers) with its scores and the raw
    observations' beside them, the rotation baseline and the process's own baselines; with
    ``keep_codes`` the result keeps each readout's held-out codes (``Readout``)."""
    began = time.perf_counter()
    batch = held_out(parts.data, spec.problem, spec.evaluation.eval_samples, device=device, dtype=spec.training.torch_dtype)
    x, z = batch.x[:, 0], batch.z[:, 0]

    def fresh(n: int) -> torch.Tensor:  # the stream keeps the name it had when only the filter's calibration drew it
        return parts.data.sample(n, derive_seed(spec.seed, "calibrate"), device=device, dtype=batch.x.dtype).x

    with torch.no_grad():
        readouts = {CODE: Readout(parts.encoder(x), z, x.flatten(1))}
    readouts.update(parts.objective.readouts(parts.encoder, batch.x, batch.z, fresh))
    metrics = {name: score_codes(r.z_hat, r.z, spec.evaluation, nulls=True) for name, r in readouts.items()}
    raw_x = {name: score_codes(r.x, r.z, spec.evaluation, nulls=False) for name, r in readouts.items()}
    baselines = {"rotation_mcc": rotation_baseline(z), **parts.data.baselines(batch.x, batch.z)}
    return ExperimentResult(
        spec=spec,
        settings=parts.settings,
        geometry=parts.geometry,
        problem_fingerprint=fingerprint(parts.data),
        process=repr(parts.data),
        estimator=parts.estimator,
        training=log,
        metrics=metrics,
        raw_x=raw_x,
        baselines=baselines,
        eval_seconds=time.perf_counter() - began,
        held_out={name: r.cpu() for name, r in readouts.items()} if keep_codes else None,
    )


def run_experiment(
    spec: ExperimentSpec = ExperimentSpec(), *, progress: bool = False, checkpoint: Checkpoint | None = None,
    keep_codes: bool = False, probe: Probe | None = None,
) -> ExperimentResult:
    """Build the parts, train the encoder and score it on held-out samples against the true latents.

    A device this machine lacks, or a run that would not fit in its memory, is refused before
    training. Flow encoders (any encoder with a data-dependent start) are initialised on a batch of
    the training stream first. The evaluation set is drawn from the problem seed, so trainings of one
    problem are scored on the same samples. With a ``checkpoint`` the training saves itself and
    resumes from it (see ``training.train``). With ``keep_codes`` the result keeps the held-out
    codes, latents and observations of every readout (``Readout``).
    A ``probe`` looks at the training as it goes (``training.Probe``).
    """
    device = resolve_device(spec.device)
    parts = _fitted(spec, device)
    log = train(parts.encoder, parts.objective, parts.data, spec.training, seed=spec.seed, device=device,
                progress=progress, checkpoint=checkpoint, probe=probe)
    return evaluate(spec, parts, log, device, keep_codes=keep_codes)


def seedless(spec: ExperimentSpec) -> ExperimentSpec:
    """The spec with its seeds blanked: runs equal under it differ only in their seeds."""
    return replace(spec, seed=0, problem_seed=0)


def run_experiments(
    specs: list[ExperimentSpec], *, progress: bool = False, checkpoints: Path | None = None, every: int = 500,
    keep_codes: bool = False,
) -> list[ExperimentResult]:
    """Several runs, in the order given. Runs that differ only in their seeds and whose parts allow
    it (``training.batchable``) train as one batched model (``training.train_seeds``), the others one
    by one; either way each result equals its ``run_experiment`` to float tolerance. With a
    ``checkpoints`` folder, runs trained one by one save themselves there every ``every`` steps as
    ``KEY.pt``, resume from it, and remove it when done (batched groups are not checkpointed)."""
    groups: dict[ExperimentSpec, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(seedless(spec), []).append(index)
    results: dict[int, ExperimentResult] = {}
    for members in groups.values():
        device = resolve_device(specs[members[0]].device)
        built = [_fitted(specs[i], device) for i in members]
        budget = specs[members[0]].training
        if len(members) > 1 and all(batchable(p.encoder, p.objective) for p in built):
            logs = train_seeds([(p.encoder, p.objective, p.data, specs[i].seed) for p, i in zip(built, members)],
                               budget, device=device, progress=progress)
            results.update({i: evaluate(specs[i], p, log, device, keep_codes=keep_codes) for i, p, log in zip(members, built, logs)})
            continue
        for i, parts in zip(members, built):
            key = specs[i].key
            checkpoint = None if checkpoints is None else Checkpoint(checkpoints / f"{key}.pt", every, key)
            log = train(parts.encoder, parts.objective, parts.data, budget, seed=specs[i].seed, device=device,
                        progress=progress, checkpoint=checkpoint)
            results[i] = evaluate(specs[i], parts, log, device, keep_codes=keep_codes)
            if checkpoint is not None:
                checkpoint.remove()
    return [results[i] for i in range(len(specs))]
