"""A short hash of a process's mechanism, so that records can be shown to come from one problem."""

from __future__ import annotations

import hashlib
from typing import Any

import torch


def fingerprint(process: Any) -> str:
    """12 hex digits of a SHA-256 of a process's mechanism: equal for the same mechanism (the problem
    seed and the settings), different otherwise, on any machine.

    Hashed: the class's name and every public attribute, nested objects such as the mixing included:
    the settings (numbers as their ``repr``, strings, None) and the tensors the problem seed drew,
    exactly as drawn (dtype, shape and bytes; torch's CPU streams give the same bits everywhere) or
    after exactly rounded arithmetic (a draw scaled and shifted by constants). Not hashed: private
    attributes (a leading ``_``), which hold what a process computes from its draws by linear
    algebra or transcendental functions (weights scaled to unit columns, inverses, QR rotations,
    thresholds, exponentials) and its device caches, exposed as properties: their last bits depend
    on the CPU's math-library code path (``tests/test_math_paths.py`` checks the value across paths).
    """
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
