"""A short hash of a process's mechanism, so that records can be shown to come from one problem."""

from __future__ import annotations

import hashlib
from typing import Any

import torch


def fingerprint(process: Any) -> str:
    """12 hex digits of a SHA-256 over the process's class and every parameter it holds (numbers,
    strings and tensor bytes, nested objects such as its mixing included, caches left out): equal
    for the same mechanism (the problem seed and its settings), different otherwise, on any machine."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            value = value.detach().to("cpu").contiguous()
            digest.update(f"tensor{value.dtype}{tuple(value.shape)}".encode())
            digest.update(value.numpy().tobytes())
        elif isinstance(value, (list, tuple)):
            digest.update(f"seq{len(value)}".encode())
            for item in value:
                feed(item)
        elif isinstance(value, (bool, int, float, str, type(None))):
            digest.update(repr(value).encode())
        elif hasattr(value, "__dict__"):
            digest.update(type(value).__qualname__.encode())
            for key in sorted(vars(value)):
                if not key.startswith("_"):
                    digest.update(key.encode())
                    feed(vars(value)[key])
        else:
            raise TypeError(f"cannot fingerprint a {type(value).__name__}")

    feed(process)
    return digest.hexdigest()[:12]
