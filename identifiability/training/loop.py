"""The trainer: Adam on fresh process batches, deterministic under a seed."""

from __future__ import annotations

import copy
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from tqdm.auto import tqdm

from identifiability._core import as_generator, check_int, derive_seed
from identifiability.processes import Batch

from ..objectives.base import INPUTS, Objective, as_objective
from .budget import DTYPES, Training
from .checkpoint import Checkpoint, capture, restore
from .devices import resolve_device


class PairSource(Protocol):
    """What the trainer needs of a process."""

    def sample(self, n: int, seed: int | torch.Generator, *, device: torch.device | str = ..., dtype: torch.dtype = ...) -> Batch: ...


# Losses kept per run: every step up to this many, else every k-th step, so the record never
# grows with the step count beyond it (a run of 10^12 steps allocates as much as one of 2000).
LOSS_RECORD = 2000
FINAL_WINDOW = 100  # the final loss is the mean of the last this many steps
CURVE_POINTS = 20  # a record's loss curve: the means over this many equal stretches of the run


@dataclass(frozen=True)
class TrainingLog:
    """What a training run did: the ``losses`` at ``loss_steps`` (at most ``LOSS_RECORD`` of them,
    evenly strided, on the CPU), the ``final_loss`` (mean of the last ``FINAL_WINDOW`` steps), wall
    ``seconds``, the ``device``."""

    losses: torch.Tensor
    loss_steps: torch.Tensor
    final_loss: float
    seconds: float
    device: str

    def curve(self, points: int = CURVE_POINTS) -> list[float]:
        """The loss's mean over each of ``points`` equal stretches of the run (as many as were
        recorded where fewer were)."""
        parts = torch.tensor_split(self.losses.double(), min(points, len(self.losses)))
        return torch.stack([part.mean() for part in parts]).tolist()  # one read, not one per stretch

    @property
    def late_descent(self) -> float:
        """How far the loss still falls in the run's last fifth, as a share of its range: (mean loss
        of the fourth fifth - mean of the last) / (largest - smallest mean of the five fifths).
        Near 0 (or below, by noise) where the loss has plateaued; NaN where it never moved. The
        range, not the first fifth, is the scale: a loss that rises first (a KL weight warming up)
        has not descended from its start."""
        fifths = self.curve(5) if len(self.losses) >= 5 else [math.nan] * 5
        spread = max(fifths) - min(fifths)
        return (fifths[3] - fifths[4]) / spread if spread > 0 else math.nan


class LossRecord:
    """The losses of a run as it goes, on its device (no host round trip) in the training's
    ``dtype``: every ``stride``-th step's, and the last ``FINAL_WINDOW`` steps' in a ring; ``runs``
    losses per step for batched seeds (one otherwise)."""

    def __init__(self, steps: int, device: torch.device, runs: int = 1, dtype: torch.dtype = torch.float32) -> None:
        self.steps, self.stride = steps, -(-steps // LOSS_RECORD)  # ceil: at most LOSS_RECORD recorded steps
        self.losses = torch.empty(-(-steps // self.stride), runs, device=device, dtype=dtype)
        self.window = torch.zeros(min(steps, FINAL_WINDOW), runs, device=device, dtype=dtype)

    def add(self, step: int, loss: torch.Tensor) -> None:
        """Record step ``step``'s loss (a scalar, or (runs,))."""
        loss = loss.detach().reshape(-1)
        self.window[step % len(self.window)] = loss
        if step % self.stride == 0:
            self.losses[step // self.stride] = loss

    def state(self) -> dict[str, torch.Tensor]:
        return {"losses": self.losses.cpu(), "window": self.window.cpu()}

    def load(self, state: dict[str, torch.Tensor]) -> None:
        self.losses.copy_(state["losses"])
        self.window.copy_(state["window"])

    def logs(self, seconds: float, device: torch.device) -> list[TrainingLog]:
        """One log per run (the only host reads of the run); a run whose last losses are not finite
        raises ``Diverged``."""
        losses, finals = self.losses.cpu(), self.window.mean(0).tolist()
        bad = [i for i, final in enumerate(finals) if not math.isfinite(final)]
        if bad:
            raise Diverged(f"training diverged: the final loss is {finals[bad[0]]}" + (f" for run {bad[0]}" if len(finals) > 1 else "")
                           + "; lower --lr, or see the objective's notes")
        steps = torch.arange(0, self.steps, self.stride)
        return [TrainingLog(losses[:, i], steps, finals[i], seconds, str(device)) for i in range(losses.shape[1])]


class Diverged(ArithmeticError):
    """Training left the finite numbers: a loss or a parameter became NaN or infinite."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a training run at a step boundary; ``checkpoint`` is where it was saved (or
    None where it was not checkpointed)."""

    def __init__(self, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted; checkpoint at {checkpoint}" if checkpoint else "interrupted")
        self.checkpoint = checkpoint


@contextmanager
def step_boundaries() -> Iterator[list[bool]]:
    """Defer Ctrl-C to the end of the current step: yields a flag the loop checks between steps
    (only in the main thread, where Python delivers signals; elsewhere Ctrl-C is not deferred)."""
    requested = [False]
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def defer(signum: int, frame: object) -> None:
        if requested[0]:  # a second Ctrl-C is not deferred
            raise KeyboardInterrupt
        requested[0] = True

    previous = signal.signal(signal.SIGINT, defer)
    try:
        yield requested
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _diverging(parameters: list[torch.Tensor]) -> Iterator[None]:
    """Name a failure inside the loop for what it is where the parameters have left the finite
    numbers (a linear-algebra routine meeting NaN fails with a message about itself); checked only
    when something fails, so no step waits for the host."""
    try:
        yield
    except (RuntimeError, ValueError) as error:
        if any(not torch.isfinite(p).all() for p in parameters):
            raise Diverged(f"training diverged: parameters became non-finite ({type(error).__name__}: "
                           f"{str(error).splitlines()[0]}); lower --lr, or see the objective's notes") from error
        raise


def cast_to(dtype: torch.dtype, *modules: torch.nn.Module, device: torch.device) -> torch.dtype:
    """Move ``modules`` to ``device`` in training mode, cast to ``dtype`` (one of ``DTYPES``); returns it."""
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype must be one of {', '.join(map(str, DTYPES.values()))}; got {dtype}")
    for module in modules:
        module.to(device=device, dtype=dtype).train()
    return dtype


def optimizer_for(parameters: Iterable[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """Adam, fused: its step count stays a tensor (the default Adam reads it on the host every step)."""
    return torch.optim.Adam(list(parameters), lr=lr, fused=True)


def set_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (a Python float: no host round trip)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


@dataclass(frozen=True)
class Probe:
    """A look at a run as it trains: ``look(encoder, steps_done, training_seconds)`` after every
    ``every``-th step, with the encoder in eval mode; the time it takes is not counted as training time."""

    every: int
    look: Callable[[torch.nn.Module, int, float], object]

    def __post_init__(self) -> None:
        check_int("every", self.every, low=1)


def _inputs(
    requires: frozenset[str], encoder: torch.nn.Module, target: torch.nn.Module | None, batch: Batch
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The encodings of a batch and exactly the inputs the objective ``requires`` (see ``INPUTS``)."""
    inputs: dict[str, torch.Tensor] = {}
    if "log_volume" in requires:
        z, inputs["log_volume"] = encoder.encode_with_log_volume(batch.x)
    else:
        z = encoder(batch.x)
    if "target" in requires:
        assert target is not None
        with torch.no_grad():
            inputs["target"] = target(batch.x)
    return z, inputs | batch_inputs(requires, batch, z.dtype)


def batch_inputs(requires: frozenset[str], batch: Batch, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The inputs the objective ``requires`` that the batch itself holds (the action, observations,
    segment and latents; the latents in the encodings' ``dtype``)."""
    inputs: dict[str, torch.Tensor] = {}
    if "action" in requires:
        if batch.r is None:
            raise ValueError("the objective requires the process's latent action, which this process does not return")
        inputs["action"] = batch.r
    if "observations" in requires:
        inputs["observations"] = batch.x
    if "segment" in requires:
        if batch.u is None:
            raise ValueError("the objective requires the segment of each sample, which this process does not return (ica with segments > 0 does)")
        inputs["segment"] = batch.u
    if "latents" in requires:
        inputs["latents"] = batch.z.to(dtype)
    return inputs


class _Clock:
    """Seconds of training: wall time since the start (or since before a resume, ``elapsed``), less
    the time spent paused (probes)."""

    def __init__(self, elapsed: float = 0.0) -> None:
        self.start = time.perf_counter() - elapsed

    def seconds(self) -> float:
        return time.perf_counter() - self.start

    @contextmanager
    def paused(self) -> Iterator[float]:
        """Stop counting inside; yields the training seconds at the pause."""
        began = time.perf_counter()
        try:
            yield began - self.start
        finally:
            self.start += time.perf_counter() - began


# A hook runs after every step: hook(steps_done, stopping), stopping where Ctrl-C asked to stop.
Hook = Callable[[int, bool], None]


def _ema_hook(target: torch.nn.Module, encoder: torch.nn.Module, ema: float) -> Hook:
    """Move the EMA copy ``target`` towards the encoder by ``1 - ema`` after every step."""

    def update(done: int, stopping: bool) -> None:
        with torch.no_grad():
            for t, o in zip(target.parameters(), encoder.parameters()):
                t.lerp_(o, 1 - ema)

    return update


def _checkpoint_hook(checkpoint: Checkpoint, save: Callable[[int], None]) -> Hook:
    """Save every ``checkpoint.every`` steps, and at the step Ctrl-C stopped."""

    def hook(done: int, stopping: bool) -> None:
        if done % checkpoint.every == 0 or stopping:
            save(done)

    return hook


def _probe_hook(probe: Probe, encoder: torch.nn.Module, clock: _Clock) -> Hook:
    """Let ``probe`` look at the encoder (in eval mode) every ``probe.every`` steps, off the clock."""

    def hook(done: int, stopping: bool) -> None:
        if done % probe.every == 0 and not stopping:
            with clock.paused() as seconds:
                encoder.eval()
                probe.look(encoder, done, seconds)
                encoder.train()

    return hook


def requirements(objective: Objective) -> frozenset[str]:
    """What the objective requires, checked against what a trainer provides."""
    requires = objective.requires
    if requires - INPUTS.keys():
        raise ValueError(f"the objective requires {sorted(requires - INPUTS.keys())}, which no trainer provides")
    if "target" in requires and objective.ema is None:
        raise ValueError("the objective requires an EMA target but sets no ema decay")
    return requires


def train(
    encoder: torch.nn.Module,
    objective: torch.nn.Module,
    data: PairSource,
    training: Training = Training(),
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
    probe: Probe | None = None,
) -> TrainingLog:
    """Train ``encoder`` (and the objective's own parameters) in place as ``training`` says: its steps
    of Adam on fresh batches, its learning-rate schedule, in its dtype (modules and batches cast to it).

    The encoder keeps the leading axes, so a batch x (n, T, ...) becomes z_hat (n, T, d), which the
    objective turns into a scalar loss. The objective gets, as keywords, exactly the inputs its
    ``requires`` names (``objectives.base.INPUTS``: log-volume terms from
    ``encoder.encode_with_log_volume``, the true latent action, the observations, the encodings of an
    EMA copy of the encoder with decay ``objective.ema``); a plain module gets none. Same seed,
    device and math-library path: same numbers, bit for bit; across CPUs (another instruction set,
    thread count or BLAS code path) the first steps differ in the last bits, which training amplifies
    (after 60 steps about 1e-3 in float32, 1e-14 in float64: benchmarks/math_paths.py). A ``probe``
    looks at the run every ``probe.every`` steps, off the clock.

    With a ``checkpoint``, the run saves itself every ``checkpoint.every`` steps and resumes from an
    existing checkpoint to the same final numbers as an uninterrupted run (bit for bit where both run
    on one math-library path; resumed on another CPU, the steps after the checkpoint round as that
    CPU does); Ctrl-C stops it at the end of the current step, saves it and raises ``Interrupted``
    (with the checkpoint's path).
    """
    device = resolve_device(device)
    objective = as_objective(objective)  # a plain module of one's own: nothing required
    dtype = cast_to(training.torch_dtype, encoder, objective, device=device)
    optimizer = optimizer_for([*encoder.parameters(), *objective.parameters()], training.lr)
    requires = requirements(objective)
    target = copy.deepcopy(encoder).requires_grad_(False) if "target" in requires else None
    modules = (encoder, objective) if target is None else (encoder, objective, target)
    gen = as_generator(derive_seed(seed, "train"), device)
    record, first, clock = LossRecord(training.steps, device, dtype=dtype), 0, _Clock()
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        restore(saved, modules, optimizer, gen)
        record.load(saved)
        first, clock = saved["step"], _Clock(saved["seconds"])
    hooks: list[Hook] = []
    if target is not None:
        hooks.append(_ema_hook(target, encoder, objective.ema))  # type: ignore[arg-type]
    if checkpoint is not None:
        hooks.append(_checkpoint_hook(checkpoint, lambda done: checkpoint.save(
            capture(done, modules, optimizer, gen, {**record.state(), "seconds": clock.seconds()}))))
    if probe is not None:
        hooks.append(_probe_hook(probe, encoder, clock))
    bar = tqdm(range(first, training.steps), disable=not progress, desc="training", unit="step", leave=False)
    with step_boundaries() as stop, _diverging([*encoder.parameters(), *objective.parameters()]):
        for step in bar:
            set_rate(optimizer, training.rate(step))
            batch = data.sample(training.batch_size, gen, device=device, dtype=dtype)
            z, inputs = _inputs(requires, encoder, target, batch)
            loss = objective(z, **inputs)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            record.add(step, loss)
            for hook in hooks:
                hook(step + 1, stop[0])
            if progress and step % 100 == 0:  # one host sync every 100 steps, not every step
                bar.set_postfix(loss=f"{loss.item():.4f}")
            if stop[0]:
                raise Interrupted(checkpoint.path if checkpoint is not None else None)
    encoder.eval()
    objective.eval()
    return record.logs(clock.seconds(), device)[0]
