"""Video-like sequences: moving blobs rendered into small frames, with their positions as latents."""

from __future__ import annotations

import math
from typing import Literal

import torch

from identifiability._core import Seed, SettingError, as_generator, check_choice, check_float, check_int, check_seed, derive_seed

from .batch import Batch, check_draw
from .dynamics import _JUMP_ANGLE, LatentDynamics
from .mixing import MAX_OBSERVATION_NOISE
from .process import Process
from .render import render_splats

PATHS = ("circle", "square", "figure8")


def _on_path(path: str, phase: torch.Tensor, radius: float) -> torch.Tensor:
    """(..., 2) points of a closed path of half-extent ``radius`` at ``phase`` (radians)."""
    if path == "circle":
        return radius * torch.stack([torch.cos(phase), torch.sin(phase)], -1)
    if path == "figure8":  # lemniscate of Gerono
        return radius * torch.stack([torch.sin(phase), torch.sin(phase) * torch.cos(phase)], -1)
    # square: the perimeter walked at constant speed, one side per quarter turn
    s = torch.remainder(phase / (math.pi / 2), 4.0)
    side, f = s.floor(), s - s.floor()
    # the corner a side starts from, in closed form: side k starts at angle (2k - 1) pi / 4
    angle = (2 * side - 1) * (math.pi / 4)
    corner = lambda a: radius * math.sqrt(2) * torch.stack([torch.cos(a), torch.sin(a)], -1)  # noqa: E731
    start, end = corner(angle), corner(angle + math.pi / 2)
    return start + f[..., None] * (end - start)


class VideoSequences(Process):
    """Frames (n, T, C, H, W) of J blobs; the true latents z (n, T, 2J) are the blob positions.

    Either ``dynamics`` (a ``LatentDynamics`` preset name) drives a 2J-dimensional latent state that
    is squashed into the frame by ``bound * tanh(state / bound)`` (smooth and injective, so objects
    stay inside with a margin), or ``path`` moves each blob along a closed path at a constant phase
    speed with 135-degree phase jumps at rate ``jump_rate`` (the LDM paper's dot-motion videos).
    Each blob has its own channel (C = J), so objects cannot be swapped.

    Args:
        n_objects: J.
        size: H = W.
        dynamics: a ``LatentDynamics`` preset (with ``uncertainty``) when ``path`` is None.
        path: "circle", "square" or "figure8".
        radius: half-extent of the path (3 puts positions in [-3, 3]).
        speed: phase advance per frame (radians).
        jump_rate: probability of a 135-degree phase jump per frame.
        blob_width: blob standard deviation in pixels.
        margin: pixels kept free at the border under ``dynamics``.
        pixel_noise: standard deviation of additive Gaussian pixel noise.
        noise_mode: "constant"; "random" (each sequence draws its own level in [0, pixel_noise]);
            "state" (the level grows with the first blob's distance from the centre).
        seq_len: T.
        seed: fixes the mechanism.
    """

    def __init__(
        self,
        n_objects: int = 2,
        size: int = 16,
        *,
        dynamics: str = "gauss_ar1",
        uncertainty: float = 0.5,
        path: str | None = None,
        radius: float = 3.0,
        speed: float = 2 * math.pi / 20,
        jump_rate: float = 0.01,
        blob_width: float = 1.0,
        margin: float = 2.0,
        pixel_noise: float = 0.0,
        noise_mode: Literal["constant", "random", "state"] = "constant",
        seq_len: int = 5,
        seed: int = 0,
    ) -> None:
        self.n_objects = check_int("n_objects", n_objects, low=1)
        self.size = check_int("size", size, low=4)
        self.seq_len = check_int("seq_len", seq_len, low=1)
        self.radius = check_float("radius", radius, low=0, low_open=True)
        self.speed = check_float("speed", speed)
        self.jump_rate = check_float("jump_rate", jump_rate, low=0, high=1)
        self.blob_width = check_float("blob_width", blob_width, low=0, low_open=True)
        self.pixel_noise = check_float("pixel_noise", pixel_noise, low=0, high=MAX_OBSERVATION_NOISE)  # frames are in [0, 1]
        self.noise_mode = check_choice("noise_mode", noise_mode, ("constant", "random", "state"))
        self.path = None if path is None else check_choice("path", path, PATHS)
        self.seed = check_seed("seed", seed)
        margin = check_float("margin", margin, low=0)
        self.bound = (size - 1) / 2 - margin
        if path is not None and radius > (size - 1) / 2:
            raise SettingError("radius", f"{radius:g} leaves the {size}-pixel frame")
        if path is None and self.bound <= 0:
            raise SettingError("margin", f"{margin:g} leaves no room in a {size}-pixel frame")
        self.dynamics = None if path is not None else LatentDynamics(
            dynamics, 2 * n_objects, uncertainty=uncertainty, seq_len=max(seq_len, 2), mixing_layers=0,
            seed=derive_seed(seed, "dynamics"),
        )
        self.colours = torch.eye(n_objects)

    @classmethod
    def ldm_dots(cls, path: str = "circle", *, pixel_noise: float = 0.0, noise_mode: str = "constant", **kw) -> VideoSequences:
        """The LDM paper's dot-motion videos: one blob of width 1 pixel on a 10 x 10 grid, positions
        in [-3, 3], moving along ``path`` with 135-degree jumps at rate 0.01."""
        return cls(1, 10, path=path, radius=3.0, jump_rate=0.01, blob_width=1.0, pixel_noise=pixel_noise,
                   noise_mode=noise_mode, **kw)  # type: ignore[arg-type]

    @property
    def latent_dim(self) -> int:
        """2J."""
        return 2 * self.n_objects

    @property
    def observed_shape(self) -> tuple[int, ...]:
        """The shape of one frame: (C, H, W)."""
        return (self.n_objects, self.size, self.size)

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Names of the properties this process satisfies, for claims to check."""
        base = ("injective_rendering", "distinguishable_objects")
        motion = ("markov", "multimodal_transitions") if self.path else ("markov",)
        return base + motion + (("pixel_noise",) if self.pixel_noise else ())

    def _positions(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(n, T, J, 2) positions and the per-step jump indicators or modes."""
        if self.path is None:
            assert self.dynamics is not None
            batch = self.dynamics.sample(n, gen, device=gen.device, dtype=torch.float64)
            state = batch.z[:, : self.seq_len]
            r = None if batch.r is None else batch.r[:, : self.seq_len - 1]
            return (self.bound * torch.tanh(state / self.bound)).reshape(n, self.seq_len, self.n_objects, 2), r
        kw = dict(generator=gen, device=gen.device, dtype=torch.float64)
        start = torch.rand(n, 1, self.n_objects, **kw) * 2 * math.pi
        jumps = torch.rand(n, self.seq_len - 1, self.n_objects, **kw) < self.jump_rate
        increments = self.speed + _JUMP_ANGLE * jumps
        phase = start + torch.cat([torch.zeros_like(start), increments.cumsum(1)], 1)
        return _on_path(self.path, phase, self.radius), jumps

    def sample(
        self, n: int, seed: Seed, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> Batch:
        """n sequences: frames ``x`` (n, T, J, H, W), positions ``z`` (n, T, 2J), ``r`` the jumps or modes."""
        check_draw(n, self.seq_len * (self.latent_dim + self.n_objects * self.size**2), device)
        gen = as_generator(seed, device)
        positions, r = self._positions(n, gen)
        frames = render_splats(positions.to(dtype), self.constant("colours", positions.to(dtype)), self.size, self.blob_width)
        if self.pixel_noise:
            level = torch.full((n, 1, 1, 1, 1), self.pixel_noise, device=gen.device, dtype=torch.float64)
            if self.noise_mode == "random":
                level = level * torch.rand(n, 1, 1, 1, 1, generator=gen, device=gen.device, dtype=torch.float64)
            elif self.noise_mode == "state":
                level = self.pixel_noise * (1 + positions[:, :, 0].norm(dim=-1) / self.radius)[..., None, None, None]
            noise = torch.randn(frames.shape, generator=gen, device=gen.device, dtype=torch.float64)
            frames = frames + (level * noise).to(dtype)
        return Batch(x=frames, z=positions.reshape(n, self.seq_len, -1).to(dtype), r=r)

    def __repr__(self) -> str:
        motion = f"path={self.path!r}" if self.path else f"dynamics={self.dynamics!r}"
        noise = f", pixel_noise={self.pixel_noise:g}" + (f" ({self.noise_mode})" if self.noise_mode != "constant" else "") if self.pixel_noise else ""
        return f"VideoSequences(n_objects={self.n_objects}, size={self.size}, {motion}, seq_len={self.seq_len}{noise}, seed={self.seed})"
