"""identifiability: test whether representation learning recovers the latents that generated the data."""

from .experiment import ExperimentConfig, ExperimentResult, run_experiment

__all__ = ["ExperimentConfig", "ExperimentResult", "run_experiment"]
