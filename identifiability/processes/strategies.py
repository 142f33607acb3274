"""Hypothesis strategies over valid process configurations (needs hypothesis installed).

Each strategy draws a ready process; shrinking heads for small dimensions, shallow mixing and
the first preset or law listed.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .contrastive import ContrastivePairs
from .dynamics import PRESETS, LatentDynamics
from .ica import NonlinearICA
from .laws import LAWS
from .video import PATHS, VideoSequences

seeds = st.integers(0, 2**16)
depths = st.integers(0, 4)


@st.composite
def nonlinear_ica(draw, max_dim: int = 6) -> NonlinearICA:
    """NonlinearICA with any law, depth, optional lift, segments or autoregression."""
    d = draw(st.integers(1, max_dim))
    kind = draw(st.sampled_from(["iid", "segments", "autoregressive"]))
    return NonlinearICA(
        d,
        draw(st.sampled_from(LAWS)),
        beta=draw(st.floats(0.5, 4.0)),
        mixing_layers=draw(depths),
        observed_dim=draw(st.none() | st.integers(d, d + 4)),
        segments=draw(st.integers(2, 5)) if kind == "segments" else 0,
        autoregression=draw(st.floats(-0.9, 0.9)) if kind == "autoregressive" else None,
        seed=draw(seeds),
    )


@st.composite
def contrastive_pairs(draw, max_dim: int = 6) -> ContrastivePairs:
    """ContrastivePairs on any space with a valid marginal and conditional."""
    space = draw(st.sampled_from(["sphere", "box", "real"]))
    d = draw(st.integers(2 if space == "sphere" else 1, max_dim))
    marginal = {"sphere": "uniform", "box": "uniform"}.get(space) or draw(st.sampled_from(["gaussian", "laplace", "uniform"]))
    conditional = "vmf" if space == "sphere" else draw(st.sampled_from(["gaussian", "laplace", "gennorm"]))
    return ContrastivePairs(
        d,
        kappa=draw(st.floats(0.5, 100.0)),
        mixing_layers=draw(depths),
        seed=draw(seeds),
        space=space,
        marginal=marginal,
        conditional=conditional,
        scale=draw(st.floats(0.01, 1.0)),
        boundary=draw(st.sampled_from(["reflect", "truncate"])),
        observed_dim=draw(st.none() | st.integers(d, d + 4)),
    )


@st.composite
def latent_dynamics(draw, max_dim: int = 6) -> LatentDynamics:
    """LatentDynamics with any preset, uncertainty, length and nuisance dimensions."""
    return LatentDynamics(
        draw(st.sampled_from(list(PRESETS))),
        draw(st.integers(1, max_dim)),
        uncertainty=draw(st.floats(0.0, 1.0)),
        seq_len=draw(st.integers(2, 5)),
        nuisance_dim=draw(st.integers(0, 2)),
        mixing_layers=draw(depths),
        seed=draw(seeds),
    )


@st.composite
def video_sequences(draw) -> VideoSequences:
    """VideoSequences driven by a dynamics preset or a path, at 16 or 32 pixels."""
    if draw(st.booleans()):
        return VideoSequences.ldm_dots(draw(st.sampled_from(PATHS)), seq_len=draw(st.integers(1, 4)), seed=draw(seeds))
    return VideoSequences(
        draw(st.integers(1, 3)),
        draw(st.sampled_from([16, 32])),
        dynamics=draw(st.sampled_from(list(PRESETS))),
        uncertainty=draw(st.floats(0.0, 1.0)),
        seq_len=draw(st.integers(1, 4)),
        seed=draw(seeds),
    )


processes = st.one_of(nonlinear_ica(), contrastive_pairs(), latent_dynamics(), video_sequences())
