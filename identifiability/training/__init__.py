"""Training: the loop, its checkpoints, and many seeds of one model trained as one batched model."""

from .devices import parse_device, resolve_device
from .checkpoint import Checkpoint
from .loop import FINAL_WINDOW, LOSS_RECORD, MAX_STEPS, Diverged, Interrupted, TrainingLog, train
from .seeds import batchable, train_seeds

__all__ = [
    "FINAL_WINDOW",
    "LOSS_RECORD",
    "MAX_STEPS",
    "Checkpoint",
    "Diverged",
    "Interrupted",
    "TrainingLog",
    "batchable",
    "parse_device",
    "resolve_device",
    "train",
    "train_seeds",
]
