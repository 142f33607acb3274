"""The trainer: Adam on fresh generator batches, deterministic under a seed."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm.auto import tqdm

from generators import Batch, derive_seed
from generators.random import as_generator


class PairSource(Protocol):
    """What the trainer needs of a generator."""

    def sample(self, n: int, seed: int | torch.Generator, *, device: torch.device | str = ..., dtype: torch.dtype = ...) -> Batch: ...


@dataclass(frozen=True)
class TrainingLog:
    """What a training run did: ``losses`` (steps,) on the CPU, wall ``seconds``, the ``device``."""

    losses: torch.Tensor
    seconds: float
    device: str


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when present, else CPU; an unavailable device is a ValueError."""
    if str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"unknown device {name!r}; use cpu, cuda or auto") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for but no CUDA GPU is available")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {name!r}; use cpu, cuda or auto")
    return device


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
    objective turns into a scalar loss. Objectives that need log-volume terms get them from
    ``encoder.encode_with_log_volume``; an objective with ``needs_action`` gets the batch's true
    latent action ``r``; one with ``needs_observations`` (a generative objective) gets the
    observations ``x`` it reconstructs; one with ``ema`` set gets its second view from an EMA copy of the encoder
    (the BYOL target). Same seed, same device: same numbers.
    """
    if steps < 1 or batch_size < 2:
        raise ValueError(f"need steps >= 1 and batch_size >= 2, got steps={steps}, batch_size={batch_size}")
    device = resolve_device(device)
    encoder.to(device).train()
    objective.to(device).train()
    optimizer = torch.optim.Adam([*encoder.parameters(), *objective.parameters()], lr=lr)
    ema = getattr(objective, "ema", None)
    target = copy.deepcopy(encoder).requires_grad_(False) if ema is not None else None
    needs_volume = getattr(objective, "needs_log_volume", False)
    needs_action = getattr(objective, "needs_action", False)
    needs_observations = getattr(objective, "needs_observations", False)
    gen = as_generator(derive_seed(seed, "train"), device)
    losses = torch.empty(steps, device=device)
    start = time.perf_counter()
    bar = tqdm(range(steps), disable=not progress, desc="training", unit="step", leave=False)
    for step in bar:
        batch = data.sample(batch_size, gen, device=device)
        if needs_volume:
            z, log_volume = encoder.encode_with_log_volume(batch.x)
            loss = objective(z, log_volume=log_volume)
        elif needs_action:  # the oracle is handed the generator's true latent action
            loss = objective(encoder(batch.x), action=batch.r)
        elif needs_observations:
            loss = objective(encoder(batch.x), observations=batch.x)
        elif target is not None:
            z = encoder(batch.x)
            with torch.no_grad():
                z_target = target(batch.x)
            loss = objective(torch.stack([z[:, :-1], z_target[:, 1:]], 2).flatten(0, 1))
        else:
            loss = objective(encoder(batch.x))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if target is not None:
            with torch.no_grad():
                for t, o in zip(target.parameters(), encoder.parameters()):
                    t.lerp_(o, 1 - ema)
        losses[step] = loss.detach()
        if progress and step % 100 == 0:  # one host sync every 100 steps, not every step
            bar.set_postfix(loss=f"{losses[step].item():.4f}")
    encoder.eval()
    objective.eval()
    return TrainingLog(losses=losses.cpu(), seconds=time.perf_counter() - start, device=str(device))
