"""The built-in processes by name: the problems a run trains on. Each is seeded by the problem seed."""

from __future__ import annotations

from identifiability._core import SettingError
from identifiability.processes import PRESETS, ContentStyle, ContrastivePairs, LatentDynamics, NonlinearICA, VideoSequences
from identifiability.processes.dynamics import RESAMPLING

from ..registry import Context, register_process


@register_process("sphere", geometry="sphere")
def sphere(context: Context, *, latent_dim: int = 5, kappa: float = 10.0, mixing_layers: int = 3) -> ContrastivePairs:
    """Zimmermann et al.: z uniform on the sphere, z' | z von Mises-Fisher(z, kappa), x = g(z)."""
    return ContrastivePairs(latent_dim, kappa, mixing_layers, seed=context.problem_seed)


@register_process("box")
def box(context: Context, *, latent_dim: int = 5, scale: float = 0.1, mixing_layers: int = 3) -> ContrastivePairs:
    """z uniform on [0, 1]^d, z' = z + N(0, scale^2) reflected at the walls, x = g(z)."""
    return ContrastivePairs(latent_dim, mixing_layers=mixing_layers, seed=context.problem_seed, space="box", scale=scale)


@register_process("real")
def real(context: Context, *, latent_dim: int = 5, scale: float = 0.1, mixing_layers: int = 3) -> ContrastivePairs:
    """z standard Laplace on R^d, z' = z + N(0, scale^2), x = g(z)."""
    return ContrastivePairs(
        latent_dim, mixing_layers=mixing_layers, seed=context.problem_seed, space="real", marginal="laplace", scale=scale
    )


@register_process("ica")
def ica(
    context: Context, *, latent_dim: int = 5, law: str = "laplace", autoregression: float = 0.7, seq_len: int = 2,
    segments: int = 0, segment_means: bool = True, mixing_layers: int = 3, observed_dim: int = 0,
    observation_noise: float = 0.0,
) -> NonlinearICA:
    """Independent sources through g: autoregressive (PCL's setting), segment-modulated (TCL's)."""
    return NonlinearICA(
        latent_dim, law, autoregression=autoregression, seq_len=seq_len, segments=segments, segment_means=segment_means,
        mixing_layers=mixing_layers,
        observed_dim=observed_dim or None, observation_noise=observation_noise, seed=context.problem_seed,
    )


@register_process("content_style")
def content_style(
    context: Context, *, latent_dim: int = 5, content_dim: int = 3, change: float = 0.75, dependence: float = 0.0,
    mixing_layers: int = 3, observed_dim: int = 0, observation_noise: float = 0.0,
) -> ContentStyle:
    """von Kugelgen et al.: both views share the content, the second redraws each style latent with
    probability ``change``; the style depends on the content by ``dependence``; x = g(c, s)."""
    return ContentStyle(latent_dim, content_dim, change=change, dependence=dependence, mixing_layers=mixing_layers,
                        observed_dim=observed_dim or None, observation_noise=observation_noise, seed=context.problem_seed)


def _dynamics(preset: str) -> None:
    def build(
        context: Context, *, latent_dim: int = 5, uncertainty: float = 0.5, seq_len: int = 2, mixing_layers: int = 3,
        observed_dim: int = 0, observation_noise: float = 0.0,
    ) -> LatentDynamics:
        return LatentDynamics(
            preset, latent_dim, uncertainty=uncertainty, seq_len=seq_len, mixing_layers=mixing_layers,
            observed_dim=observed_dim or None, observation_noise=observation_noise, seed=context.problem_seed,
        )

    build.__doc__ = f"Latent dynamics: {PRESETS[preset]}; x = g(z) + observation_noise * N(0, I)."
    register_process(preset)(build)


for _preset in PRESETS:
    if _preset not in RESAMPLING:  # they have a setting of their own, below
        _dynamics(_preset)


def _resampling(preset: str) -> None:
    def build(
        context: Context, *, latent_dim: int = 5, uncertainty: float = 0.5, marginal: str = "gaussian", seq_len: int = 2,
        mixing_layers: int = 3, observed_dim: int = 0, observation_noise: float = 0.0,
    ) -> LatentDynamics:
        return LatentDynamics(
            preset, latent_dim, uncertainty=uncertainty, seq_len=seq_len, marginal=marginal, mixing_layers=mixing_layers,
            observed_dim=observed_dim or None, observation_noise=observation_noise, seed=context.problem_seed,
        )

    build.__doc__ = (f"Latent dynamics: {PRESETS[preset]}, \"gaussian\" or \"uniform\" (the box); "
                     "x = g(z) + observation_noise * N(0, I).")
    register_process(preset)(build)


for _preset in RESAMPLING:
    _resampling(_preset)


@register_process("video")
def video(
    context: Context, *, latent_dim: int = 4, uncertainty: float = 0.5, seq_len: int = 2, pixel_noise: float = 0.0,
) -> VideoSequences:
    """latent_dim / 2 Gaussian blobs moving by gauss_ar1 dynamics, rendered into 16 x 16 frames (+ pixel_noise * N(0, I))."""
    if latent_dim % 2:
        raise SettingError("latent_dim", f"must be even for video (2 latents per blob), got {latent_dim}")
    return VideoSequences(latent_dim // 2, 16, uncertainty=uncertainty, seq_len=seq_len, pixel_noise=pixel_noise,
                          seed=context.problem_seed)
