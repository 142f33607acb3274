"""identifiability: test whether representation learning recovers the latents that generated the data."""

from .experiment import ExperimentResult, build, run_experiment, run_experiments
from .parts.objectives import preset
from .registry import register_encoder, register_process, register_objective
from .specs import Evaluation, ExperimentSpec, Part, Training

__all__ = [
    "Evaluation",
    "ExperimentResult",
    "ExperimentSpec",
    "Part",
    "Training",
    "build",
    "preset",
    "register_encoder",
    "register_process",
    "register_objective",
    "run_experiment",
    "run_experiments",
]
