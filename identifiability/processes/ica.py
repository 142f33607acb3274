"""Nonlinear ICA: x = g(s) with independent (optionally segment-modulated or autoregressive) sources."""

from __future__ import annotations

import math

import torch

from identifiability._core import Seed, SettingError, as_generator, check_bool, check_choice, check_float, check_int, check_seed, derive_seed

from .batch import Batch, check_draw
from .laws import LAWS, Law, sample_standard
from .mixing import MAX_OBSERVATION_NOISE, MixedProcess


class NonlinearICA(MixedProcess):
    """Sources s with independent components, observed through an invertible MLP mixing g.

    Args:
        latent_dim: d.
        law: component law, standardised: "laplace", "uniform", "gennorm", or "gaussian" (the
            negative control: a Gaussian source is identifiable only up to rotation).
        beta: shape of "gennorm".
        mixing_layers: depth L of g, 0 (identity) to any; 1 is linear ICA.
        observed_dim: D > d lifts g injectively into R^D.
        segments: S > 0 modulates the sources per segment u (TCL / iVAE): s = m_u + a_u * s0, with
            means m ~ U[-1, 1] and scales a ~ U[0.5, 2] fixed by the mechanism seed; given u the
            sources are independent, not without it.
        segment_means: False keeps every segment's mean at 0: only the scales are modulated.
        autoregression: a in (-1, 1) makes sources temporally dependent (PCL):
            s_t = a s_{t-1} + sqrt(1 - a^2) e_t, unit variance, innovations e of ``law``.
        seq_len: T, the length of each sample's sequence (1 unless ``autoregression``).
        min_of: draw each mixing matrix as the best conditioned of N (Zimmermann et al.) instead of
            the 25th-percentile threshold (Hyvarinen & Morioka).
        seed: fixes the mechanism (g, segment parameters); ``sample`` takes the stream's seed.
    """

    def __init__(
        self,
        latent_dim: int = 5,
        law: Law = "laplace",
        *,
        beta: float = 2.0,
        mixing_layers: int = 3,
        observed_dim: int | None = None,
        segments: int = 0,
        segment_means: bool = True,
        autoregression: float | None = None,
        seq_len: int | None = None,
        min_of: int | None = None,
        observation_noise: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.latent_dim = check_int("latent_dim", latent_dim, low=1)
        self.observation_noise = check_float("observation_noise", observation_noise, low=0, high=MAX_OBSERVATION_NOISE)
        self.law = check_choice("law", law, LAWS)
        self.beta = check_float("beta", beta, low=0, low_open=True)
        self.segments = check_int("segments", segments, low=0)
        self.mean_modulated = check_bool("segment_means", segment_means)
        self.autoregression = None if autoregression is None else check_float(
            "autoregression", autoregression, low=-1, high=1, low_open=True, high_open=True
        )
        self.seq_len = 1 if autoregression is None else 2
        if seq_len is not None:
            self.seq_len = check_int("seq_len", seq_len, low=1)
        if self.seq_len > 1 and autoregression is None:
            raise SettingError("seq_len", f"> 1 needs temporally dependent sources (autoregression), got {self.seq_len}")
        self.seed = check_seed("seed", seed)
        self.mixing = self.make_mixing(
            latent_dim, mixing_layers, observed_dim=observed_dim, min_of=min_of, seed=derive_seed(seed, "mixing")
        )
        gen = as_generator(derive_seed(seed, "segments"))
        means = torch.rand(segments, latent_dim, generator=gen, dtype=torch.float64) * 2 - 1
        self.segment_means = means if segment_means else torch.zeros_like(means)
        self.segment_scales = torch.rand(segments, latent_dim, generator=gen, dtype=torch.float64) * 1.5 + 0.5

    @property
    def sample_segments(self) -> int:  # type: ignore[override]
        """S: each sample's segment u (``batch.u``) sets its sources' law."""
        return self.segments

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Names of the properties this process satisfies, for claims to check."""
        modulated = self.segments > 1  # one segment modulates nothing
        # segment-modulated sources are independent given the segment; their mixture over segments is not
        out = ["conditionally_independent" if modulated else "independent_sources", *self.mixing.assumptions]
        if self.law != "gaussian" and not (self.law == "gennorm" and self.beta == 2):
            out.append("non_gaussian")
        if modulated:
            out += ["segment_modulated", "mean_modulated"] if self.mean_modulated else ["segment_modulated"]
        if self.autoregression:  # None or 0: each step a fresh draw
            out.append("temporally_dependent")
        return (*out, *self._noise_assumptions())

    def sample(
        self, n: int, seed: Seed, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> Batch:
        """n samples: ``x`` (n, T, D), ``z`` (n, T, d), and ``u`` (n,) when segmented."""
        check_draw(n, self.seq_len * (self.latent_dim + self.observed_dim), device)
        gen = as_generator(seed, device)
        d, a = self.latent_dim, self.autoregression
        s = sample_standard(self.law, (n, self.seq_len, d), gen, beta=self.beta)
        if a is not None:  # a loop over time steps, not samples
            steps = [s[:, 0]]
            for t in range(1, self.seq_len):
                steps.append(a * steps[-1] + math.sqrt(1 - a**2) * s[:, t])
            s = torch.stack(steps, 1)
        u = None
        if self.segments:
            u = torch.randint(self.segments, (n,), generator=gen, device=gen.device)
            s = self.segment_means.to(s.device)[u, None] + self.segment_scales.to(s.device)[u, None] * s
        z = s.to(dtype)
        return Batch(x=self.observe(z, gen), z=z, u=u)

    def __repr__(self) -> str:
        extra = f", segments={self.segments}" if self.segments else ""
        extra += ", segment_means=False" if self.segments and not self.mean_modulated else ""
        extra += f", autoregression={self.autoregression}, seq_len={self.seq_len}" if self.autoregression is not None else ""
        extra += self._noise_repr()
        return f"NonlinearICA(latent_dim={self.latent_dim}, law={self.law!r}, mixing={self.mixing!r}{extra}, seed={self.seed})"
