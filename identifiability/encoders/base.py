"""The one interface every encoder implements, so objectives and trainers never ask which it is."""

from __future__ import annotations

import torch
from torch import nn


class NotInvertibleError(TypeError):
    """Raised when a decoder or log-volume is asked of an encoder that has none."""


class Encoder(nn.Module):
    """f: x -> z_hat, mapping the trailing input axes and keeping the leading (batch, time) ones.

    Invertible encoders (``invertible = True``) also offer ``decode`` and
    ``encode_with_log_volume``, whose log-volume term is defined by
    log p_x(x) = log p_z(f(x)) + log_volume(x) on the data manifold.

    Attributes:
        in_dim: D, the flattened size of one observation.
        out_dim: d.
    """

    invertible: bool = False
    in_dim: int
    out_dim: int

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) observations -> (..., d) codes."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def initialize(self, x: torch.Tensor) -> None:
        """A data-dependent start from a training batch x (..., D), before the first step: none by
        default; flows standardise their input with it."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(..., d) codes -> (..., D) observations on the data manifold; f(decode(z)) = z."""
        raise NotInvertibleError(f"{type(self).__name__} is not invertible: it has no decoder")

    def draw_noise(self, shape: torch.Size | tuple[int, ...], device: torch.device | str, dtype: torch.dtype) -> torch.Tensor | None:
        """The noise ``encode_with_log_volume`` would draw for observations of ``shape`` (..., D), from this
        encoder's own stream as that call draws it (and advancing it alike), or None where it draws none.
        The batched trainer draws each seed's here, outside ``vmap``, and passes it as ``noise``."""
        return None

    def encode_with_log_volume(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(..., D) -> codes (..., d) and the log-volume term (...,); ``noise`` as ``draw_noise`` draws it
        (drawn here where it is None and the encoder draws any)."""
        raise NotInvertibleError(
            f"{type(self).__name__} is not invertible: it has no log-volume term; use a flow encoder, or an "
            "entropy estimator that works from samples"
        )


class PlainEncoder(Encoder):
    """A plain module of one's own as an encoder: ``module(x)``, with no data-dependent start and no
    inverse."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def as_encoder(module: nn.Module) -> Encoder:
    """``module`` if it keeps the ``Encoder`` contract, else a ``PlainEncoder`` of it (once, where a run
    is built, so that nothing downstream asks which it is)."""
    return module if isinstance(module, Encoder) else PlainEncoder(module)


class Flattened(Encoder):
    """An encoder of vectors applied to observations of shape ``shape`` (frames), flattened."""

    def __init__(self, encoder: Encoder, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.encoder, self.shape = encoder, tuple(shape)
        self.in_dim, self.out_dim = encoder.in_dim, encoder.out_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(..., *shape) -> (..., d)."""
        return self.encoder(x.flatten(start_dim=-len(self.shape)))

    @property
    def invertible(self) -> bool:  # type: ignore[override]
        return self.encoder.invertible

    def initialize(self, x: torch.Tensor) -> None:
        self.encoder.initialize(x.flatten(start_dim=-len(self.shape)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(..., d) -> (..., *shape), where the encoder of vectors has a decoder."""
        return self.encoder.decode(z).unflatten(-1, self.shape)

    def draw_noise(self, shape: torch.Size | tuple[int, ...], device: torch.device | str, dtype: torch.dtype) -> torch.Tensor | None:
        """The encoder of vectors' noise for the flattened frames of ``shape`` (..., *shape), shaped as them."""
        lead = tuple(shape[: len(shape) - len(self.shape)])
        noise = self.encoder.draw_noise((*lead, self.in_dim), device, dtype)
        return None if noise is None else noise.unflatten(-1, self.shape)

    def encode_with_log_volume(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(..., *shape) -> codes (..., d) and the encoder's log-volume term (...,) of the flattened frames."""
        flat = None if noise is None else noise.flatten(start_dim=-len(self.shape))
        return self.encoder.encode_with_log_volume(x.flatten(start_dim=-len(self.shape)), flat)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"
