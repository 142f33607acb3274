"""The built-in encoders by name, shaped for the process's observations and onto the sphere where
the objective's geometry is (the code scored is then the code the objective trained)."""

from __future__ import annotations

from collections.abc import Sequence

from identifiability._core import SettingError, check_int

from ..encoders import ConvEncoder, Encoder, Flattened, InjectiveFlow, LinearEncoder, MLPEncoder
from ..registry import Context, register_encoder


def _on_vectors(context: Context, encoder: Encoder) -> Encoder:
    """``encoder`` on flattened observations where they are frames."""
    shape = context.data.observed_shape
    return encoder if len(shape) == 1 else Flattened(encoder, shape)


@register_encoder("mlp")
def mlp(context: Context, *, hidden: Sequence[int] = (128, 128, 128), whiten: bool = True) -> Encoder:
    """A leaky-ReLU MLP (on flattened frames for video), its input whitened on the start batch."""
    # Whitening measured on the sphere (benchmarks/time_to_identify.py, InfoNCE, lr 3e-3 cosine, problems
    # 0-2): d = 10 past R^2 0.99 at 11 000-14 500 of 20 000 steps, 0.996-0.998 at the end, against
    # 0.995 / 0.933 / 0.873 unwhitened; d = 5, 0.997-0.998 after 3000 steps against 0.988 / 0.991 / 0.779.
    sphere = context.geometry == "sphere"
    return _on_vectors(context, MLPEncoder(context.observed_size, context.latent_dim, tuple(hidden), normalize=sphere,
                                           whiten=whiten))


@register_encoder("linear")
def linear(context: Context) -> Encoder:
    """A linear map (on flattened frames for video): the baseline."""
    return _on_vectors(context, LinearEncoder(context.observed_size, context.latent_dim, normalize=context.geometry == "sphere"))


@register_encoder("conv")
def conv(context: Context, *, width: int = 32) -> ConvEncoder:
    """Strided convolutions and an MLP head, for video frames."""
    shape = context.data.observed_shape
    if len(shape) != 3 or shape[1] != shape[2]:
        raise SettingError("encoder", f"conv is for video frames (C, H, W); this process's observations are {shape}")
    return ConvEncoder(shape[0], shape[1], context.latent_dim, width=width, normalize=context.geometry == "sphere")


@register_encoder("flow")
def flow(
    context: Context, *, hidden: Sequence[int] = (64, 64), layers: int = 4, coupling: str = "affine", likelihood: str = "inflated",
    inflation: float = 0.05, whiten: bool = True,
) -> Encoder:
    """An injective flow (zuko couplings) with a decoder and an exact likelihood (on flattened frames for video),
    its input whitened on the start batch."""
    # Whitening measured on gauss_ar1 (d = 4, 3 layers) lifted to D = 32, kalman-flow, seed 0, 2000 steps:
    # affine R^2 0.933 whitened, 0.76 not (0.858 at 4000 steps, 0.884 at 6000)
    if context.geometry == "sphere":
        raise SettingError("encoder", "flow cannot map onto the sphere the objective needs: use mlp or linear, or a plane objective")
    layers = check_int("layers", layers, low=1)
    return _on_vectors(context, InjectiveFlow(context.observed_size, context.latent_dim, hidden=tuple(hidden), n_layers=layers,
                                              coupling=coupling, likelihood=likelihood, inflation=inflation, whiten=whiten,
                                              seed=context.stream("encoder")))
