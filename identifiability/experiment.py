"""An experiment: build the parts a spec names, train, and score against the true latents."""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import torch

from foundation import check_fits, derive_seed
from generators import fingerprint

from .metrics import (MCCResult, MetricResult, R2Result, affine_r2, dci, mcc, participation_ratio, raw_observation_baseline,
                      rotation_baseline)
from .metrics.profile import LINEAR_CLASSES, Profile, profile
from .oracle import OracleR2, oracle_r2, particle_filter_r2
from .registry import ENCODERS, GENERATORS, OBJECTIVES, Context
from .specs import Evaluation, ExperimentSpec, Training
from .training import Checkpoint, Probe, TrainingLog, batchable, resolve_device, train, train_seeds


@dataclass(frozen=True)
class Built:
    """The parts of a run, built, with the effective value of every setting of every part."""

    data: Any
    encoder: torch.nn.Module
    objective: torch.nn.Module
    settings: dict[str, dict[str, Any]]

    @property
    def geometry(self) -> dict[str, Any]:
        """Where the objective reads its code, where the data's latents live, and whether they agree
        (a mismatch is a legitimate misspecification experiment, and is named)."""
        objective, data = geometry_of(self.objective), self.data.latent_geometry
        return {"objective": objective, "data": data, "matched": objective == data}


def geometry_of(objective: torch.nn.Module) -> str:
    """Where an objective reads its code: its ``geometry``, "plane" for a plain module of one's own."""
    return getattr(objective, "geometry", "plane")


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


def build(spec: ExperimentSpec) -> Built:
    """The generator (from the problem seed), then the objective (its geometry decides the encoder's
    output), then the encoder; module weights are drawn in the training's dtype from streams of the
    training seed (``_drawing``)."""
    assert spec.objective is not None
    context = Context(seed=spec.seed, problem_seed=spec.problem)
    data, generator_settings = GENERATORS.build(spec.generator.name, context, spec.generator.given)
    context = replace(context, data=data)
    with _drawing("objective-init", spec):
        objective, objective_settings = OBJECTIVES.build(spec.objective.name, context, spec.objective.given)
    context = replace(context, geometry=geometry_of(objective))
    with _drawing("init", spec):
        encoder, encoder_settings = ENCODERS.build(spec.encoder.name, context, spec.encoder.given)
    settings = {"generator": generator_settings, "encoder": encoder_settings, "objective": objective_settings}
    return Built(data, encoder, objective, settings)


def start(parts: Built, spec: ExperimentSpec) -> Any:
    """The encoder's data-dependent start (a flow standardises its input) on a batch drawn from the
    training seed's "start" stream; returns that batch."""
    batch = parts.data.sample(spec.training.batch_size, derive_seed(spec.seed, "start"), dtype=spec.training.torch_dtype)
    if hasattr(parts.encoder, "initialize"):  # a plain module of one's own has no data-dependent start
        parts.encoder.initialize(batch.x)
    return batch


def memory_plan(spec: ExperimentSpec, data: Any, hidden: tuple[int, ...]) -> dict[str, float]:
    """Estimated peak bytes of a run on ``data``, by the setting that drives them (within a factor of
    about 2): a training step (the generator's float64 draws, the encoder's activations, the
    objective's pairwise matrices) and the evaluation (held-out draws and the metrics' copies)."""
    steps = getattr(data, "seq_len", 2)
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
class HeldOut:
    """The held-out samples a run was scored on, on the CPU: its codes ``z_hat`` (n, d), the true
    latents ``z`` (n, d) and the observations ``x`` (n, D), flattened, of the first step (for a
    filter's state: its state, the latents and the observations of the last step)."""

    z_hat: torch.Tensor
    z: torch.Tensor
    x: torch.Tensor


@dataclass(frozen=True)
class ExperimentResult:
    """A finished run: its spec and parts, its scores, the baselines that give them meaning, and its
    timings."""

    spec: ExperimentSpec
    settings: dict[str, dict[str, Any]]
    geometry: dict[str, Any]
    problem_fingerprint: str
    data: str
    estimator: str
    training: TrainingLog
    r2: R2Result
    mcc: MCCResult
    raw_r2: MetricResult
    raw_mcc: MCCResult
    rotation_mcc: float
    eval_seconds: float
    filtered_r2: R2Result | None = None
    oracle: OracleR2 | None = None
    dci_score: float | None = None
    participation_ratio: float | None = None
    profile: Profile | None = None
    raw_profile: Profile | None = None
    raw_dci: float | None = None
    codes: HeldOut | None = None
    state: HeldOut | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready row written to a results store: its key (the spec's hash) and status, the
        spec, effective settings, seeds, metrics with their nulls and intervals, baselines, timings,
        versions, host and device."""
        return {
            "key": self.spec.key,
            "status": "ok",
            "host": platform.node(),
            "spec": self.spec.to_dict(),
            "settings": self.settings,
            "seed": self.spec.seed,
            "problem_seed": self.spec.problem,
            "problem_fingerprint": self.problem_fingerprint,
            "geometry": self.geometry,
            "data": self.data,
            "estimator": self.estimator,
            "metrics": {
                "affine_r2": self.r2.to_dict(),
                "mcc": self.mcc.to_dict(),
                **({"filtered_affine_r2": self.filtered_r2.to_dict()} if self.filtered_r2 else {}),
                **({"oracle_r2": self.oracle.to_dict()} if self.oracle else {}),
                **({"dci_disentanglement": self.dci_score} if self.dci_score is not None else {}),
                **({"participation_ratio": self.participation_ratio} if self.participation_ratio is not None else {}),
                **({"profile": {"scores": self.profile.scores, "finest": list(self.profile.finest),
                                "tolerance": self.profile.tolerance}} if self.profile is not None else {}),
            },
            "baselines": {
                "raw_x": {
                    "affine_r2": self.raw_r2.score, "mcc": self.raw_mcc.score,
                    **({"dci_disentanglement": self.raw_dci} if self.raw_dci is not None else {}),
                    **({"profile": {"scores": self.raw_profile.scores, "finest": list(self.raw_profile.finest)}}
                       if self.raw_profile is not None else {}),
                },
                "rotation_mcc": self.rotation_mcc,
            },
            "timings": {
                "train_s": self.training.seconds,
                "eval_s": self.eval_seconds,
                "final_loss": self.training.final_loss,
            },
            "device": self.training.device,
            "versions": {
                "identifiability": version("identifiability"),
                "torch": torch.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
            "created": self.created,
        }


def _describe(module: torch.nn.Module, name: str, settings: dict[str, Any]) -> str:
    """"name (Class: setting=value, ...)"."""
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    return f"{name} ({type(module).__name__}{': ' + shown if shown else ''})"


def _prepared(spec: ExperimentSpec, device: torch.device) -> Built:
    """The parts, built, checked against the machine's memory, and started on the training stream."""
    parts = build(spec)
    hidden = parts.settings["encoder"].get("hidden", ())
    check_fits(memory_plan(spec, parts.data, tuple(hidden)), device)
    start(parts, spec)
    return parts


def _oracle(data: Any, x: torch.Tensor, z: torch.Tensor) -> OracleR2 | None:
    """The best (per-frame, filtered) R^2 on the true model, where the process is linear-Gaussian:
    the exact Kalman filter's closed form (``oracle.oracle_r2``) without observation noise or with a
    linear g, else a bootstrap particle filter (``oracle.particle_filter_r2``, 1000 particles) on up
    to 500 of the held-out sequences ``x`` (n, T, ...) with latents ``z`` (n, T, d)."""
    model = getattr(data, "linear_gaussian", None)
    if model is None:
        return None
    if not data.observation_noise or "linear_mixing" in data.assumptions:
        r = data.latent_observation_noise(z[:2000, 0].cpu())
        return OracleR2(*oracle_r2(*model, r, data.seq_len), method="exact Kalman filter")
    per_frame, filtered, ess, errors = particle_filter_r2(x[:500].flatten(2), z[:500], *model, data.mixing,
                                                          data.observation_noise, particles=1000, seed=0)
    return OracleR2(per_frame, filtered, method="particle filter (1000 particles)", effective_sample_size=ess,
                    standard_errors=errors)


def _filtered_state(spec: ExperimentSpec, parts: Built, x: torch.Tensor, device: torch.device) -> torch.Tensor | None:
    """A filtering objective's state at the last step of the held-out sequences ``x``, or None. An
    objective that can ``calibrate`` its filter first refits it, encoder fixed, on the encodings of as
    many fresh sequences from the training stream (never the held-out ones)."""
    if not hasattr(parts.objective, "filtered"):
        return None
    with torch.no_grad():
        if hasattr(parts.objective, "calibrate"):
            fresh = parts.data.sample(x.shape[0], derive_seed(spec.seed, "calibrate"), device=device, dtype=x.dtype)
            parts.objective.calibrate(parts.encoder(fresh.x))
        return parts.objective.filtered(parts.encoder(x))


def _linear_profile(z_hat: torch.Tensor, z: torch.Tensor) -> Profile | None:
    """The codes' distance to the classes of linear maps (milliseconds), or None where it is
    undefined (a code constant in every column: collapsed)."""
    if not bool((z_hat.amax(0) > z_hat.amin(0)).any()):
        return None
    return profile(z_hat, z, classes=LINEAR_CLASSES)


def evaluate(
    spec: ExperimentSpec, parts: Built, log: TrainingLog, device: torch.device, *, keep_codes: bool = False
) -> ExperimentResult:
    """Score trained parts on held-out samples drawn from the problem seed: affine R^2 and MCC with
    their nulls, the raw observations' scores, the rotation baseline, and where asked DCI and a
    filter's state; with ``keep_codes`` the result keeps the held-out codes (``HeldOut``)."""
    began = time.perf_counter()
    held_out = parts.data.sample(spec.evaluation.eval_samples, derive_seed(spec.problem, "eval"), device=device,
                                 dtype=spec.training.torch_dtype)
    x, z = held_out.x[:, 0], held_out.z[:, 0]
    filtered = _filtered_state(spec, parts, held_out.x, device)
    with torch.no_grad():
        z_hat = parts.encoder(x)
    raw = raw_observation_baseline(x.flatten(1), z)
    scores = {
        "r2": affine_r2(z_hat, z, null=True),
        "mcc": mcc(z_hat, z, null=True),
        "raw_r2": raw["affine_r2"],
        "raw_mcc": raw["mcc"],
        "rotation_mcc": rotation_baseline(z),
        "filtered_r2": None if filtered is None else affine_r2(filtered, held_out.z[:, -1]),
        "oracle": None if filtered is None else _oracle(parts.data, held_out.x, held_out.z),
        "dci_score": dci(z_hat, z).score if spec.evaluation.dci else None,
        "raw_dci": dci(x.flatten(1), z).score if spec.evaluation.dci else None,
        "participation_ratio": participation_ratio(z_hat),
        "profile": _linear_profile(z_hat, z),
        "raw_profile": _linear_profile(x.flatten(1), z),
        "codes": HeldOut(z_hat.cpu(), z.cpu(), x.flatten(1).cpu()) if keep_codes else None,
        "state": (HeldOut(filtered.cpu(), held_out.z[:, -1].cpu(), held_out.x[:, -1].flatten(1).cpu())
                  if keep_codes and filtered is not None else None),
    }
    assert spec.objective is not None
    return ExperimentResult(
        spec=spec,
        settings=parts.settings,
        geometry=parts.geometry,
        problem_fingerprint=fingerprint(parts.data),
        data=repr(parts.data),
        estimator=(f"{_describe(parts.encoder, spec.encoder.name, parts.settings['encoder'])} + "
                   f"{_describe(parts.objective, spec.objective.name, parts.settings['objective'])}"),
        training=log,
        eval_seconds=time.perf_counter() - began,
        **scores,
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
    codes, latents and observations (``HeldOut``), and a filter's state its last step's (``state``).
    A ``probe`` looks at the training as it goes (``training.Probe``).
    """
    device = resolve_device(spec.device)
    parts = _prepared(spec, device)
    log = train(
        parts.encoder, parts.objective, parts.data, steps=spec.training.steps, batch_size=spec.training.batch_size,
        **spec.training.rate, seed=spec.seed, device=device, dtype=spec.training.torch_dtype, progress=progress,
        checkpoint=checkpoint, probe=probe,
    )
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
        built = [_prepared(specs[i], device) for i in members]
        budget = specs[members[0]].training
        if len(members) > 1 and all(batchable(p.encoder, p.objective) for p in built):
            logs = train_seeds(
                [(p.encoder, p.objective, p.data, specs[i].seed) for p, i in zip(built, members)],
                steps=budget.steps, batch_size=budget.batch_size, **budget.rate, device=device,
                dtype=budget.torch_dtype, progress=progress,
            )
            results.update({i: evaluate(specs[i], p, log, device, keep_codes=keep_codes) for i, p, log in zip(members, built, logs)})
            continue
        for i, parts in zip(members, built):
            key = specs[i].key
            checkpoint = None if checkpoints is None else Checkpoint(checkpoints / f"{key}.pt", every, key)
            log = train(
                parts.encoder, parts.objective, parts.data, steps=budget.steps, batch_size=budget.batch_size,
                **budget.rate, seed=specs[i].seed, device=device, dtype=budget.torch_dtype, progress=progress,
                checkpoint=checkpoint,
            )
            results[i] = evaluate(specs[i], parts, log, device, keep_codes=keep_codes)
            if checkpoint is not None:
                checkpoint.remove()
    return [results[i] for i in range(len(specs))]
