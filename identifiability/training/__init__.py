"""Training: the loop, its checkpoints, and many seeds of one model trained as one batched model."""

from .devices import parse_device, resolve_device
from .checkpoint import Checkpoint
from .budget import DTYPES, MAX_LR, MAX_STEPS, Training
from .loop import FINAL_WINDOW, LOSS_RECORD, Diverged, Interrupted, Probe, TrainingLog, train
from .schedule import DECAYS, check_schedule, rate_factor
from .seeds import batchable, train_seeds

__all__ = [
    "FINAL_WINDOW",
    "LOSS_RECORD",
    "MAX_LR",
    "MAX_STEPS",
    "Checkpoint",
    "DECAYS",
    "DTYPES",
    "Diverged",
    "Interrupted",
    "Probe",
    "Training",
    "TrainingLog",
    "batchable",
    "check_schedule",
    "parse_device",
    "rate_factor",
    "resolve_device",
    "train",
    "train_seeds",
]
