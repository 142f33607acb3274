"""Seeds and random streams: one seed names a family of independent streams, and a stream that moves to
another device continues there."""

from __future__ import annotations

import numpy as np
import torch

from .checks import check_seed

Seed = int | torch.Generator


def derive_seed(seed: int, *keys: int | str) -> int:
    """An independent 63-bit seed for the stream named by ``keys`` under ``seed``.

    Uses numpy's ``SeedSequence`` so that streams derived from one seed do not overlap, e.g.
    ``derive_seed(seed, "mechanism")`` and ``derive_seed(seed, "eval")``.
    """
    check_seed("seed", seed)
    words = [k if isinstance(k, int) else int.from_bytes(k.encode(), "little") for k in keys]
    state = np.random.SeedSequence(entropy=seed, spawn_key=words).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def as_generator(seed: Seed, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device``: ``seed`` itself if it is one, else a new seeded one."""
    if isinstance(seed, torch.Generator):
        if seed.device != torch.device(device):
            raise ValueError(f"generator lives on {seed.device}, samples are requested on {device}")
        return seed
    return torch.Generator(device=device).manual_seed(check_seed("seed", seed))


def on_device(gen: torch.Generator, device: torch.device | str) -> torch.Generator:
    """``gen`` if it already lives on ``device``, else a generator there seeded by a draw from
    ``gen``: the stream continues on the new device instead of restarting from its first seed (a
    CPU and a CUDA generator cannot share state), and each move gives fresh numbers."""
    device = torch.device(device)
    if gen.device == device:
        return gen
    seed = int(torch.randint(0, 2**63 - 1, (), generator=gen, device=gen.device))
    return torch.Generator(device=device).manual_seed(seed)
