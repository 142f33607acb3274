"""The contract every data process keeps, with the defaults a simple one needs.

A process is configured in ``__init__`` (its mechanism fixed by its seed) and draws batches with
``sample(n, seed, device=..., dtype=...)`` (a ``Batch`` whose tensors carry a time axis, (n, T, ...)).
What the layers above read of it, and nothing else, is declared here: the sizes, the geometry of
its latents, the assumptions it satisfies, and the baselines it offers (what the true model allows,
computed for every run on it whatever the estimator).
"""

from __future__ import annotations

from typing import Any

import torch

from .batch import Batch, Constants


class Process(Constants):
    """A data-generating process with known latents.

    Attributes:
        latent_dim: d, the size of one latent z_t.
        observed_shape: the shape of one observation x_t ((D,) for vectors, (C, H, W) for frames).
        seq_len: T, the steps of one sample (2 for pairs; 1 for single draws).
        action_dim: the size of the latent action a batch returns per transition, or None.
        latent_geometry: "sphere" where the latents are unit vectors, else "plane".
        assumptions: the names of the assumptions the process satisfies (a claim reads them).
    """

    latent_dim: int
    observed_shape: tuple[int, ...]
    seq_len: int = 2
    action_dim: int | None = None
    latent_geometry: str = "plane"

    @property
    def assumptions(self) -> tuple[str, ...]:
        return ()

    @property
    def sample_segments(self) -> int:
        """The number of segments that label each sample (``batch.u``, (n,)) and set the law of its
        latents: the auxiliary variable TCL classifies; 0 where there is none."""
        return 0

    def sample(self, n: int, seed: int | torch.Generator, *, device: str | torch.device = "cpu",
               dtype: torch.dtype = torch.float32) -> Batch:
        """n samples, (n, T, ...), from ``seed`` (a seed or a ``torch.Generator``)."""
        raise NotImplementedError

    def baselines(self, x: torch.Tensor, z: torch.Tensor) -> dict[str, Any]:
        """What the true model allows on held-out samples x (n, T, ...) with latents z (n, T, d), by
        name (each with ``to_dict``), for every run on the process: none by default."""
        return {}
