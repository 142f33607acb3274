"""Devices by name: parsed without asking the host, resolved when a run starts."""

from __future__ import annotations

import torch

from identifiability._core import SettingError


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
