"""Many seeds of one model trained as one batched model (torch.func), each with its own data stream.

S encoders and objectives of one architecture (different initial weights, different data) become
one set of stacked parameters with a leading seed axis; a step draws a batch from each seed's own
stream, evaluates every seed's loss at once under ``vmap`` (with what each seed's batch holds, its
EMA target's encodings, its encoder's log-volume, and the noise its objective and its encoder draw from
their own streams, where the objective asks for them or they draw any; on a CPU, a ``pairwise``
objective's seeds in cache-sized chunks) and takes one fused Adam step on the stacked parameters,
which is elementwise, so each seed follows the path it would alone up to the rounding of the
batched products: not bit for bit, even on one math-library path; after 15 steps within 2e-5
relative, or 5e-4 where the loss reads nearest neighbours, whose order a rounding can flip
(measured over three math-library paths: tests/test_sweeps.py).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch.func import functional_call, stack_module_state
from tqdm.auto import tqdm

from identifiability._core import as_generator, derive_seed

from ..objectives.base import Objective, as_objective
from .checkpoint import streams
from .devices import resolve_device
from .budget import Training
from .loop import LossRecord, TrainingLog, batch_inputs, cast_to, optimizer_for, requirements, set_rate


# What a batched step gives an objective besides the encodings: what each seed's batch holds, its EMA
# target's encodings, and its encoder's log-volume (``encode_with_log_volume``, with the noise the encoder
# draws in ``draw_noise``).
BATCHED_INPUTS = frozenset({"target", "action", "observations", "segment", "latents", "log_volume"})


def batchable(encoder: torch.nn.Module, objective: torch.nn.Module) -> bool:
    """Whether a run's parts can train batched: the objective needs nothing a batched step cannot
    give (``BATCHED_INPUTS``), the encoder and the objective's parts hold no streams of their own, and the
    objective draws no noise or draws all of it in ``draw_noise`` (which the batched step calls for each
    seed outside ``vmap``, as it calls the encoder's)."""
    objective = as_objective(objective)
    return (objective.requires <= BATCHED_INPUTS and not streams(encoder, *objective.children())
            and (not streams(objective) or _draws_noise(type(objective))))


def _encoder_noise(encoders: Sequence[torch.nn.Module], batches: Sequence[Any], dtype: torch.dtype) -> torch.Tensor | None:
    """(S, *x) the noise each seed's encoder draws from its own stream for its batch (``draw_noise``, as
    its ``encode_with_log_volume`` alone would), or None where they draw none (one architecture: all alike)."""
    drawn = [encoder.draw_noise(batch.x.shape, batch.x.device, dtype) for encoder, batch in zip(encoders, batches)]
    return None if drawn[0] is None else torch.stack(drawn)


class _WithLogVolume(torch.nn.Module):
    """An encoder whose call is its ``encode_with_log_volume`` (for ``functional_call``)."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        # an encoder that draws no noise is called as the plain trainer calls it (one of one's own may take no noise)
        return self.encoder.encode_with_log_volume(x) if noise is None else self.encoder.encode_with_log_volume(x, noise)


def _write_back(module: torch.nn.Module, stacked: dict[str, torch.Tensor], index: int) -> None:
    """Load seed ``index``'s slice of the stacked parameters and buffers into ``module``, keeping what its
    state dict holds besides (extra state: a flow's count of noise draws); buffers it does not save
    (derived ones, such as a coupling's merge order) are left as they are."""
    state = module.state_dict()
    state.update({k: v[index] for k, v in stacked.items() if k in state})
    module.load_state_dict(state)


# On a CPU the seeds' losses of a ``pairwise`` objective run under ``vmap`` in chunks of as many seeds as
# keep their (B, B) float matrices (a contrastive objective's logits, batch B) within CHUNK_BYTES together:
# the 16 seeds of the default problem at once make (16, 512, 512) logits, 17 MB, which leave a core's cache, so
# that every elementwise pass over them runs from memory. A batched step of the default problem at S = 16,
# one thread (as sweep workers run; AMD EPYC, 2 MB of L2 a core), at once -> in chunks of 4 (1 MB of logits a
# seed): 122.9 -> 110.0 ms alone, 121.4 -> 110.5 and 129.6 -> 108.6 ms with two such processes side by side
# (1.10-1.19x); with two threads 77.1 -> 74.9 ms. Beside another training, the small problem (batch 64) ran
# 18.9 ms at once and 25.9 ms in chunks of 4, so small batches keep every seed in one chunk, and flows under
# the Kalman LDM, whose loss holds no (B, B) matrix, 1.2-1.3x slower in chunks of 4 than at once. On a GPU
# one chunk: its memory is not a cache.
CHUNK_BYTES = 4 * 2**20


def seeds_per_chunk(objective: Objective, seeds: int, batch_size: int, dtype: torch.dtype, device: torch.device) -> int | None:
    """How many seeds a batched step evaluates at once under ``vmap``: None for all of them."""
    if device.type != "cpu" or not objective.pairwise:
        return None
    chunk = max(1, CHUNK_BYTES // (batch_size**2 * dtype.itemsize))
    return chunk if chunk < seeds else None


def _draws_noise(kind: type[Objective]) -> bool:
    """Whether objectives of this class draw noise in ``draw_noise``."""
    return kind.draw_noise is not Objective.draw_noise


def train_seeds(
    members: Sequence[tuple[torch.nn.Module, torch.nn.Module, Any, int]],
    training: Training = Training(),
    *,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> list[TrainingLog]:
    """Train each (encoder, objective, data, seed) of ``members`` as ``train`` would with ``training``,
    all at once.

    The encoders (and the objectives) must share an architecture and be ``batchable``; each member
    draws its batches from its own data with its own seed's "train" stream. The trained weights are
    written back into each member's modules; the logs come back in order.
    """
    device = resolve_device(device)
    encoders, objectives = [m[0] for m in members], [m[1] for m in members]
    dtype = cast_to(training.torch_dtype, *encoders, *objectives, device=device)
    if not all(batchable(e, o) for e, o in zip(encoders, objectives)):
        raise ValueError("these parts cannot train batched (the objective needs an input a batched step does not give, "
                         "or a part holds a stream of its own, drawn from outside the objective's and the encoder's draw_noise)")
    requires, emas = {requirements(as_objective(o)) for o in objectives}, {as_objective(o).ema for o in objectives}
    # one objective: one class with one configuration (its modules' repr: settings and shapes, never a weight;
    # stacking would pass seeds of AdaSSL's two variants alike and run seed 0's for all)
    kinds, configurations = {type(as_objective(o)) for o in objectives}, {repr(as_objective(o)) for o in objectives}
    if len(requires) > 1 or len(emas) > 1 or len(kinds) > 1 or len(configurations) > 1:
        raise ValueError("the seeds' objectives must be one objective: they differ in their class, their settings, the "
                         "inputs they need or their EMA decay")
    if len({repr(e) for e in encoders}) > 1:  # settings and shapes, never a weight: the shell is seed 0's
        raise ValueError("the seeds' encoders must be one encoder: they differ in their settings")
    (requires,), (ema,), (kind,) = requires, emas, kinds
    noisy = _draws_noise(kind)
    encoder_params, encoder_buffers = stack_module_state(encoders)
    objective_params, objective_buffers = stack_module_state(objectives)
    encoder_shell, objective_shell = copy.deepcopy(encoders[0]).to("meta"), copy.deepcopy(objectives[0]).to("meta")
    log_volume = "log_volume" in requires
    volume_shell = _WithLogVolume(encoder_shell)
    # each seed's EMA copy of its encoder, moved towards it after every step as ``train`` moves its own
    target: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] | None = None
    if "target" in requires:
        target = ({k: v.detach().clone() for k, v in encoder_params.items()}, {k: v.clone() for k, v in encoder_buffers.items()})

    def loss(encoder_state: tuple, objective_state: tuple, target_state: tuple | None, x: torch.Tensor,
             inputs: dict[str, torch.Tensor], noise: torch.Tensor | None) -> torch.Tensor:
        if log_volume:
            state = tuple({f"encoder.{k}": v for k, v in part.items()} for part in encoder_state)
            z, volume = functional_call(volume_shell, state, (x, noise))
            inputs = inputs | {"log_volume": volume}
        else:
            z = functional_call(encoder_shell, encoder_state, (x,))
        if target_state is not None:
            inputs = inputs | {"target": functional_call(encoder_shell, target_state, (x,))}
        return functional_call(objective_shell, objective_state, (z,), inputs)

    chunk = seeds_per_chunk(as_objective(objectives[0]), len(members), training.batch_size, dtype, device)

    def batched(noise: torch.Tensor | None) -> Any:
        return torch.vmap(loss, in_dims=(0, 0, None if target is None else 0, 0, 0, None if noise is None else 0), chunk_size=chunk)

    optimizer = optimizer_for([*encoder_params.values(), *objective_params.values()], training.lr)
    sources = [(m[2], as_generator(derive_seed(m[3], "train"), device)) for m in members]
    record = LossRecord(training.steps, device, runs=len(members), dtype=dtype)
    start = time.perf_counter()
    for step in tqdm(range(training.steps), disable=not progress, desc=f"training {len(members)} seeds", unit="step", leave=False):
        set_rate(optimizer, training.rate(step))
        batches = [data.sample(training.batch_size, gen, device=device, dtype=dtype) for data, gen in sources]
        inputs = [batch_inputs(requires, batch, dtype) for batch in batches]
        if noisy:  # each seed's own stream, drawn here as its run alone draws it inside the loss
            for objective, batch, given in zip(objectives, batches, inputs):
                given["noise"] = objective.draw_noise(tuple(batch.x.shape[:2]), batch.x.device, dtype)
        noise = _encoder_noise(encoders, batches, dtype) if log_volume else None
        losses = batched(noise)((encoder_params, encoder_buffers), (objective_params, objective_buffers), target,
                                torch.stack([batch.x for batch in batches]), {k: torch.stack([i[k] for i in inputs]) for k in inputs[0]},
                                noise)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # each seed's parameters get the gradient of its own loss only
        optimizer.step()
        if target is not None:
            with torch.no_grad():
                for t, o in zip(target[0].values(), encoder_params.values()):
                    t.lerp_(o, 1 - ema)
        record.add(step, losses)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        for i, (encoder, objective) in enumerate(zip(encoders, objectives)):
            _write_back(encoder, encoder_params | encoder_buffers, i)
            _write_back(objective, objective_params | objective_buffers, i)
            encoder.eval()
            objective.eval()
    return record.logs(seconds, device)
