"""The optimisation a run takes, as one frozen value: the only home of its defaults."""

from __future__ import annotations

from dataclasses import dataclass
import torch

from identifiability._core import check_choice, check_float, check_int

from .schedule import check_schedule, rate_factor

MAX_STEPS = 2**62  # beyond any run; keeps step counts in int64
MAX_LR = 10.0  # Adam steps of this size already leave any encoder's useful range
# The floating dtypes a run may train in, by name: float32 (the default) or float64, whose rounding
# differs between CPUs' math-library paths about 10^8 times less (benchmarks/math_paths.py).
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Training:
    """``steps`` of Adam on fresh batches of ``batch_size``, its learning rate ``lr`` warmed up linearly
    over ``lr_warmup`` steps, then following ``lr_schedule`` (a registered decay, ``DECAYS``),
    parameters and batches in ``dtype`` ("float32" or "float64", ``DTYPES``)."""

    steps: int = 3000
    batch_size: int = 512
    lr: float = 3e-3
    # benchmarks/time_to_identify.py, sphere d = 10, problem 0, unwhitened encoder: cosine R^2 0.99 at 14k of 20k steps,
    # constant 0.986 after 20k; at d = 5 (3000 steps) the two agree on all three problems
    lr_schedule: str = "cosine"
    lr_warmup: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_int("steps", self.steps, low=1, high=MAX_STEPS)
        check_choice("dtype", self.dtype, DTYPES)
        check_int("batch_size", self.batch_size, low=2)
        check_float("lr", self.lr, low=0, high=MAX_LR, low_open=True)
        check_schedule(self.lr_schedule, self.lr_warmup, self.steps)

    @property
    def torch_dtype(self) -> torch.dtype:
        """``dtype`` as a torch dtype."""
        return DTYPES[self.dtype]

    def rate(self, step: int) -> float:
        """The learning rate at ``step`` (0-based)."""
        return self.lr * rate_factor(step, self.steps, self.lr_schedule, self.lr_warmup)
