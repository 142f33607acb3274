"""Checkpoints: everything a training run needs to continue exactly where it stopped.

A checkpoint holds the encoder, the objective, the optimiser and the EMA target, every random
stream (the data stream and the parts' own), the step and the loss record. It is written to a
temporary file and renamed over the old one, so a run killed while writing leaves the previous
checkpoint intact, and it loads with ``torch.load(weights_only=True)``: tensors, numbers and strings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from identifiability._core import SettingError, check_int


def streams(*modules: torch.nn.Module) -> dict[str, torch.Generator]:
    """Every random stream a module holds as an attribute, by a stable name ("0.base._gen")."""
    found = {}
    for index, module in enumerate(modules):
        for prefix, sub in module.named_modules():
            for attr, value in vars(sub).items():
                if isinstance(value, torch.Generator):
                    found[f"{index}.{prefix}.{attr}"] = value
    return found


def _set_stream(modules: tuple[torch.nn.Module, ...], name: str, device: str, state: torch.Tensor) -> None:
    """Restore the stream ``name`` (a new generator where the saved one lived on another device)."""
    index, rest = name.split(".", 1)
    prefix, attr = rest.rsplit(".", 1)
    owner = modules[int(index)].get_submodule(prefix) if prefix else modules[int(index)]
    generator = getattr(owner, attr)  # the attribute `streams` found holding a torch.Generator
    if str(generator.device) != device:
        generator = torch.Generator(device=device)
        setattr(owner, attr, generator)
    generator.set_state(state)


@dataclass(frozen=True)
class Checkpoint:
    """Where and how often a training run saves itself.

    Attributes:
        path: the checkpoint file (its folder must exist).
        every: steps between saves.
        identity: what run it belongs to (a spec's key): a file of another run is refused.
    """

    path: Path
    every: int = 500
    identity: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        check_int("checkpoint_every", self.every, low=1)
        if not self.path.parent.is_dir():
            raise SettingError("checkpoint", f"folder {str(self.path.parent)!r} does not exist")

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically (a temporary file renamed over the checkpoint)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        torch.save({"identity": self.identity, **state}, temporary)
        os.replace(temporary, self.path)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None where there is none yet."""
        if not self.path.exists():
            return None
        state = torch.load(self.path, weights_only=True, map_location="cpu")
        if state.get("identity") != self.identity:
            raise SettingError("checkpoint", f"{str(self.path)!r} belongs to another run ({state.get('identity')!r})")
        return state

    def remove(self) -> None:
        """Delete the checkpoint (the run it belonged to is done and recorded)."""
        self.path.unlink(missing_ok=True)


def capture(
    step: int,
    modules: tuple[torch.nn.Module, ...],
    optimizer: torch.optim.Optimizer,
    data_stream: torch.Generator,
    record: dict[str, Any],
) -> dict[str, Any]:
    """The state of a run after ``step`` steps: ``modules`` (encoder, objective, EMA target or
    none), the optimiser, the data stream, the modules' own streams and the loss ``record``."""
    return {
        "step": step,
        "modules": [m.state_dict() for m in modules],
        "optimizer": optimizer.state_dict(),
        "data_stream": data_stream.get_state(),
        "streams": {name: (str(g.device), g.get_state()) for name, g in streams(*modules).items()},
        **record,
    }


def restore(
    state: dict[str, Any], modules: tuple[torch.nn.Module, ...], optimizer: torch.optim.Optimizer, data_stream: torch.Generator
) -> None:
    """Put a captured state back into freshly built modules, optimiser and data stream."""
    for module, saved in zip(modules, state["modules"], strict=True):
        module.load_state_dict(saved)
    optimizer.load_state_dict(state["optimizer"])
    data_stream.set_state(state["data_stream"])
    held = streams(*modules)
    for name, (device, generator_state) in state["streams"].items():
        if name in held:  # a stream the modules no longer hold is one they no longer draw from (an inflated flow's probes)
            _set_stream(modules, name, device, generator_state)
