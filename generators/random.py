"""Seeds and random streams shared by every generator."""

from __future__ import annotations

import numpy as np
import torch

from foundation import check_seed

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
    """``gen`` if it already lives on ``device``, else a generator there with the same seed (for a
    module whose draws must follow its tensors from CPU to GPU)."""
    device = torch.device(device)
    if gen.device == device:
        return gen
    return torch.Generator(device=device).manual_seed(gen.initial_seed())
