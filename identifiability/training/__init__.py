"""Training: the loop, its checkpoints, and many seeds of one model trained as one batched model."""

from .devices import parse_device, resolve_device
from .checkpoint import Checkpoint
from .loop import DTYPES, FINAL_WINDOW, LOSS_RECORD, MAX_STEPS, Diverged, Interrupted, Probe, TrainingLog, train
from .schedule import DECAYS, check_schedule, rate_factor
from .seeds import batchable, train_seeds

__all__ = [
    "FINAL_WINDOW",
    "LOSS_RECORD",
    "MAX_STEPS",
    "Checkpoint",
    "DECAYS",
    "DTYPES",
    "Diverged",
    "Interrupted",
    "Probe",
    "TrainingLog",
    "batchable",
    "check_schedule",
    "parse_device",
    "rate_factor",
    "resolve_device",
    "train",
    "train_seeds",
]
