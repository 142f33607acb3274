"""Data-generating processes with known latents (depends on torch and numpy only)."""

from .batch import Batch
from .contrastive import ContrastivePairs
from .mixing import MLPMixing, well_conditioned_matrices
from .random import as_generator, derive_seed
from .sphere import sample_vmf, uniform_sphere

__all__ = [
    "Batch",
    "ContrastivePairs",
    "MLPMixing",
    "as_generator",
    "derive_seed",
    "sample_vmf",
    "uniform_sphere",
    "well_conditioned_matrices",
]
