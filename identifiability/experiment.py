"""An experiment: generator, encoder, objective and training budget, run and scored in one call."""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import numpy as np
import torch

from generators import ContrastivePairs, derive_seed

from .encoders import MLPEncoder
from .metrics import MCCResult, MetricResult, R2Result, affine_r2, mcc, raw_observation_baseline, rotation_baseline
from .objectives import InfoNCE
from .training import TrainingLog, resolve_device, train


@dataclass(frozen=True)
class ExperimentConfig:
    """Every knob of a run; the defaults are the built-in problem of ``identifiability run``.

    The problem is Zimmermann et al.'s (2021): z uniform on S^{d-1}, z' | z ~ vMF(z, kappa),
    x = g(z) through a 3-layer invertible leaky-ReLU MLP; an MLP encoder onto the sphere is trained
    with InfoNCE at temperature 1 / kappa (the matched latent model).
    """

    latent_dim: int = 5
    kappa: float = 10.0
    mixing_layers: int = 3
    hidden: tuple[int, ...] = (128, 128, 128)
    temperature: float | None = None
    steps: int = 3000
    batch_size: int = 512
    lr: float = 3e-3
    eval_samples: int = 10_000
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        checks = [
            (self.latent_dim >= 2, f"latent_dim must be at least 2 (latents live on S^(d-1)), got {self.latent_dim}"),
            (self.kappa > 0, f"kappa must be positive, got {self.kappa}"),
            (self.mixing_layers >= 0, f"mixing_layers must be non-negative, got {self.mixing_layers}"),
            (all(h >= 1 for h in self.hidden), f"hidden widths must be positive, got {self.hidden}"),
            (self.temperature is None or self.temperature > 0, f"temperature must be positive, got {self.temperature}"),
            (self.steps >= 1, f"steps must be positive, got {self.steps}"),
            (self.batch_size >= 2, f"batch_size must be at least 2, got {self.batch_size}"),
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            (self.eval_samples >= 100, f"eval_samples must be at least 100, got {self.eval_samples}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        resolve_device(self.device)

    @property
    def tau(self) -> float:
        """The InfoNCE temperature in use."""
        return self.temperature if self.temperature is not None else 1 / self.kappa


@dataclass(frozen=True)
class ExperimentResult:
    """A finished run: its scores, the baselines that give them meaning, and its timings."""

    config: ExperimentConfig
    data: str
    estimator: str
    training: TrainingLog
    r2: R2Result
    mcc: MCCResult
    raw_r2: MetricResult
    raw_mcc: MCCResult
    rotation_mcc: float
    eval_seconds: float
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready row written to a results file: config, metrics, timings, versions."""
        return {
            "config": asdict(self.config),
            "seed": self.config.seed,
            "data": self.data,
            "estimator": self.estimator,
            "metrics": {"affine_r2": self.r2.to_dict(), "mcc": self.mcc.to_dict()},
            "baselines": {
                "raw_x": {"affine_r2": self.raw_r2.score, "mcc": self.raw_mcc.score},
                "rotation_mcc": self.rotation_mcc,
            },
            "timings": {
                "train_s": self.training.seconds,
                "eval_s": self.eval_seconds,
                "final_loss": float(self.training.losses[-100:].mean()),
            },
            "device": self.training.device,
            "versions": {
                "identifiability": version("identifiability"),
                "torch": torch.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
            "created": self.created,
        }


def run_experiment(config: ExperimentConfig = ExperimentConfig(), *, progress: bool = False) -> ExperimentResult:
    """Train the configured encoder and score it on held-out samples against the true latents."""
    device = resolve_device(config.device)
    data = ContrastivePairs(config.latent_dim, config.kappa, config.mixing_layers, seed=config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(config.seed, "init"))
        encoder = MLPEncoder(data.observed_dim, config.latent_dim, config.hidden, normalize=True)
    objective = InfoNCE(config.tau)
    log = train(
        encoder, objective, data, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
        seed=config.seed, device=device, progress=progress,
    )
    start = time.perf_counter()
    held_out = data.sample(config.eval_samples, derive_seed(config.seed, "eval"), device=device)
    x, z = held_out.x[:, 0], held_out.z[:, 0]
    with torch.no_grad():
        z_hat = encoder(x)
    raw = raw_observation_baseline(x, z)
    scores = {
        "r2": affine_r2(z_hat, z, null=True),
        "mcc": mcc(z_hat, z, null=True),
        "raw_r2": raw["affine_r2"],
        "raw_mcc": raw["mcc"],
        "rotation_mcc": rotation_baseline(z),
    }
    return ExperimentResult(
        config=config,
        data=repr(data),
        estimator=f"MLPEncoder({encoder.extra_repr()}) + {objective!r}",
        training=log,
        eval_seconds=time.perf_counter() - start,
        **scores,
    )
