"""Data-generating processes with known latents (depends on torch and numpy only).

Every process keeps the ``Process`` contract: configured in ``__init__`` (its mechanism fixed by
``seed``), it declares its sizes, latent geometry and ``assumptions``, offers its ``baselines``, and
``sample(n, seed=...)`` returns a ``Batch`` whose tensors carry a time axis: (n, T, ...), T = 2 for
pairs.
"""

from .batch import Batch
from .content_style import ContentStyle
from .contrastive import ContrastivePairs, reflect_into_unit_box
from .dynamics import PRESETS, LatentDynamics
from .fingerprint import fingerprint
from .ica import NonlinearICA
from .laws import LAWS, sample_gamma, sample_standard
from .mixing import MLPMixing, orthonormal_lift, reference_count, well_conditioned_matrices
from .oracle import OracleR2
from .process import Process
from .render import pixel_centres, render_splats
from .sphere import sample_vmf, uniform_sphere
from .video import PATHS, VideoSequences

__all__ = [
    "LAWS",
    "PATHS",
    "PRESETS",
    "Batch",
    "ContentStyle",
    "ContrastivePairs",
    "LatentDynamics",
    "MLPMixing",
    "NonlinearICA",
    "OracleR2",
    "Process",
    "VideoSequences",
    "fingerprint",
    "orthonormal_lift",
    "pixel_centres",
    "reflect_into_unit_box",
    "reference_count",
    "render_splats",
    "sample_gamma",
    "sample_standard",
    "sample_vmf",
    "uniform_sphere",
    "well_conditioned_matrices",
]
