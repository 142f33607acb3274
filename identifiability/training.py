"""The trainer: Adam on fresh generator batches, deterministic under a seed."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm.auto import tqdm

from foundation import SettingError, as_generator, check_float, check_int, derive_seed
from generators import Batch

from .objectives.base import INPUTS


class PairSource(Protocol):
    """What the trainer needs of a generator."""

    def sample(self, n: int, seed: int | torch.Generator, *, device: torch.device | str = ..., dtype: torch.dtype = ...) -> Batch: ...


MAX_STEPS = 2**62  # beyond any run; keeps step counts in int64

# Losses kept per run: every step up to this many, else every k-th step, so the record never
# grows with the step count beyond it (a run of 10^12 steps allocates as much as one of 2000).
LOSS_RECORD = 2000
FINAL_WINDOW = 100  # the final loss is the mean of the last this many steps


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


def parse_device(name: str | torch.device) -> torch.device | None:
    """The device a name means, without asking the host: None for "auto"; only CPU and CUDA."""
    if str(name) == "auto":
        return None
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise SettingError("device", f"must be cpu, cuda, cuda:N or auto, got {name!r}") from None
    if device.type not in ("cpu", "cuda"):
        raise SettingError("device", f"must be cpu, cuda, cuda:N or auto, got {name!r}")
    return device


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when present, else CPU; a device this machine lacks is a SettingError."""
    device = parse_device(name)
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SettingError("device", f"{name} was asked for but this machine has no CUDA GPU")
    return device


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
    if "action" in requires:
        if batch.r is None:
            raise ValueError("the objective requires the generator's latent action, which this generator does not return")
        inputs["action"] = batch.r
    if "observations" in requires:
        inputs["observations"] = batch.x
    return z, inputs


def train(
    encoder: torch.nn.Module,
    objective: torch.nn.Module,
    data: PairSource,
    *,
    steps: int,
    batch_size: int,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> TrainingLog:
    """Train ``encoder`` (and the objective's own parameters) in place on ``steps`` fresh batches.

    The encoder keeps the leading axes, so a batch x (n, T, ...) becomes z_hat (n, T, d), which the
    objective turns into a scalar loss. The objective gets, as keywords, exactly the inputs its
    ``requires`` names (``objectives.base.INPUTS``: log-volume terms from
    ``encoder.encode_with_log_volume``, the true latent action, the observations, the encodings of an
    EMA copy of the encoder with decay ``objective.ema``); a plain module without ``requires`` gets
    none. Same seed, same device: same numbers.
    """
    steps = check_int("steps", steps, low=1, high=MAX_STEPS)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_float("lr", lr, low=0, low_open=True)
    device = resolve_device(device)
    encoder.to(device).train()
    objective.to(device).train()
    # fused: the step count stays a tensor (the default Adam reads it on the host every step)
    optimizer = torch.optim.Adam([*encoder.parameters(), *objective.parameters()], lr=lr, fused=True)
    requires = frozenset(getattr(objective, "requires", ()))
    if requires - INPUTS.keys():
        raise ValueError(f"the objective requires {sorted(requires - INPUTS.keys())}, which no trainer provides")
    ema = getattr(objective, "ema", None)
    if "target" in requires and ema is None:
        raise ValueError("the objective requires an EMA target but sets no ema decay")
    target = copy.deepcopy(encoder).requires_grad_(False) if "target" in requires else None
    gen = as_generator(derive_seed(seed, "train"), device)
    stride = -(-steps // LOSS_RECORD)  # ceil: at most LOSS_RECORD recorded steps
    losses = torch.empty(-(-steps // stride), device=device)
    window = torch.zeros(min(steps, FINAL_WINDOW), device=device)  # the last steps' losses, in a ring
    start = time.perf_counter()
    bar = tqdm(range(steps), disable=not progress, desc="training", unit="step", leave=False)
    for step in bar:
        batch = data.sample(batch_size, gen, device=device)
        z, inputs = _inputs(requires, encoder, target, batch)
        loss = objective(z, **inputs)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if target is not None:
            with torch.no_grad():
                for t, o in zip(target.parameters(), encoder.parameters()):
                    t.lerp_(o, 1 - ema)
        window[step % len(window)] = loss.detach()
        if step % stride == 0:
            losses[step // stride] = loss.detach()
        if progress and step % 100 == 0:  # one host sync every 100 steps, not every step
            bar.set_postfix(loss=f"{loss.item():.4f}")
    encoder.eval()
    objective.eval()
    return TrainingLog(
        losses=losses.cpu(), loss_steps=torch.arange(0, steps, stride), final_loss=float(window.mean()),
        seconds=time.perf_counter() - start, device=str(device),
    )
