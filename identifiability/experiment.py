"""An experiment: generator, encoder, objective and training budget, run and scored in one call."""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import numpy as np
import torch

from foundation import SettingError, check_choice, check_fits, check_float, check_int, check_seed

from generators import PRESETS, ContrastivePairs, LatentDynamics, MLPMixing, NonlinearICA, VideoSequences, derive_seed
from generators.sphere import MAX_KAPPA

from .encoders import ConvEncoder, InjectiveFlow, LinearEncoder, MLPEncoder
from .metrics import MCCResult, MetricResult, R2Result, affine_r2, dci, mcc, raw_observation_baseline, rotation_baseline
from .objectives import PRESETS as OBJECTIVES
from .objectives import LDM, preset
from .training import MAX_STEPS, TrainingLog, parse_device, resolve_device, train


def _problem(c: ExperimentConfig):
    """The generator a config names; every one yields pairs or sequences (T >= 2)."""
    if c.generator == "sphere":
        return ContrastivePairs(c.latent_dim, c.kappa, c.mixing_layers, seed=c.seed)
    if c.generator in ("box", "real"):
        marginal = "uniform" if c.generator == "box" else "laplace"
        return ContrastivePairs(c.latent_dim, mixing_layers=c.mixing_layers, seed=c.seed, space=c.generator, marginal=marginal)
    if c.generator == "ica":  # time-contrastive pairs of autoregressive Laplace sources (PCL)
        return NonlinearICA(c.latent_dim, "laplace", autoregression=0.7, seq_len=c.seq_len, mixing_layers=c.mixing_layers, seed=c.seed)
    if c.generator == "video":
        return VideoSequences(c.latent_dim // 2, 16, uncertainty=c.uncertainty, seq_len=c.seq_len, seed=c.seed)
    return LatentDynamics(
        c.generator, c.latent_dim, uncertainty=c.uncertainty, seq_len=c.seq_len, mixing_layers=c.mixing_layers, seed=c.seed
    )


GENERATORS: tuple[str, ...] = ("sphere", "box", "real", "ica", *PRESETS, "video")
ENCODERS: tuple[str, ...] = ("mlp", "linear", "conv", "flow")


def _observed_dim(data) -> int:
    """Entries of one flattened observation x_t."""
    return data.n_objects * data.size**2 if isinstance(data, VideoSequences) else data.observed_dim


def _encoder(c: ExperimentConfig, data) -> torch.nn.Module:
    """The encoder a config names, shaped for the generator's observations."""
    if isinstance(data, VideoSequences):
        if c.encoder == "conv":
            return ConvEncoder(data.n_objects, data.size, c.latent_dim)
        flat = (MLPEncoder(_observed_dim(data), c.latent_dim, c.hidden) if c.encoder == "mlp"
                else LinearEncoder(_observed_dim(data), c.latent_dim))
        return torch.nn.Sequential(torch.nn.Flatten(start_dim=-3), flat)
    if c.encoder == "mlp":
        return MLPEncoder(data.observed_dim, c.latent_dim, c.hidden, normalize=c.on_sphere)
    if c.encoder == "linear":
        return LinearEncoder(data.observed_dim, c.latent_dim, normalize=c.on_sphere)
    return InjectiveFlow(data.observed_dim, c.latent_dim)


def _describe(encoder: torch.nn.Module) -> str:
    inner = encoder[-1] if isinstance(encoder, torch.nn.Sequential) else encoder
    return f"{type(inner).__name__}({inner.extra_repr()})"


def _describe_objective(name: str, objective: torch.nn.Module) -> str:
    """"name (Class)", with the two dials where the objective has them: "infonce (LDM: Sphere x KDE)"."""
    kind = type(objective).__name__
    if not hasattr(objective, "entropy"):
        return f"{name} ({kind})"
    mi = " x MI" if isinstance(objective, LDM) and objective.mi else ""
    return f"{name} ({kind}: {type(objective.latent_model).__name__} x {type(objective.entropy).__name__}{mi})"


ACTION_GENERATORS = ("jump", "sparse_resample", "action")
# kappa is bounded where the vMF law stops meaning anything more (see generators.sphere); an
# objective's temperature, its inverse, likewise.
MAX_CONCENTRATION = MAX_KAPPA
MAX_LR = 10.0  # Adam steps of this size already leave any encoder's useful range


def _action_dim(data: LatentDynamics) -> int:
    """Features per transition of the generator's latent action ``batch.r``."""
    return {"jump": 1, "sparse_resample": data.latent_dim, "action": data.action_dim}[data.preset]


@dataclass(frozen=True)
class ExperimentConfig:
    """Every knob of a run; the defaults are the built-in problem of ``identifiability run``.

    The default problem is Zimmermann et al.'s (2021): z uniform on S^{d-1}, z' | z ~ vMF(z, kappa),
    x = g(z) through a 3-layer invertible leaky-ReLU MLP; an MLP encoder onto the sphere is trained
    with InfoNCE at temperature 1 / kappa (the matched latent model). ``generator`` names another
    problem from ``GENERATORS``: "box" and "real" contrastive pairs, "ica" (autoregressive Laplace
    sources, PCL), a ``LatentDynamics`` preset (with ``uncertainty``), or "video" (latent_dim / 2
    blobs in 16 x 16 frames), with ``encoder`` and ``objective`` (a preset) chosen by name; off the
    sphere the encoder is unnormalised and the default objective is "plane-kde-ldm" (InfoNCE with a
    Gaussian kernel).
    """

    generator: str = "sphere"
    encoder: str = "mlp"
    objective: str | None = None
    latent_dim: int = 5
    kappa: float = 10.0
    uncertainty: float = 0.5
    seq_len: int = 2
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
        """Validate every field without asking the host anything (the device is checked when a run
        starts), so a config written on one machine rebuilds on another."""
        check_choice("generator", self.generator, GENERATORS)
        check_choice("encoder", self.encoder, ENCODERS)
        if self.objective is not None:
            check_choice("objective", self.objective, OBJECTIVES)
        check_int("latent_dim", self.latent_dim, low=2)
        check_float("kappa", self.kappa, low=0, high=MAX_CONCENTRATION, low_open=True)
        check_float("uncertainty", self.uncertainty, low=0, high=1)
        check_int("seq_len", self.seq_len, low=2)
        check_int("mixing_layers", self.mixing_layers, low=0)
        object.__setattr__(self, "hidden", tuple(check_int("hidden", h, low=1) for h in self.hidden))
        if self.temperature is not None:
            check_float("temperature", self.temperature, low=1 / MAX_CONCENTRATION, high=MAX_CONCENTRATION)
        check_int("steps", self.steps, low=1, high=MAX_STEPS)
        check_int("batch_size", self.batch_size, low=2)
        check_float("lr", self.lr, low=0, high=MAX_LR, low_open=True)
        check_int("eval_samples", self.eval_samples, low=100)
        check_seed("seed", self.seed)
        parse_device(self.device)
        combinations = [
            ("latent_dim", self.generator != "video" or self.latent_dim % 2 == 0,
             f"must be even for video (2 latents per blob), got {self.latent_dim}"),
            ("objective", self.objective != "adassl-oracle" or self.generator in ACTION_GENERATORS,
             f"adassl-oracle needs a generator that returns its latent action: {', '.join(ACTION_GENERATORS)}"),
            ("encoder", self.encoder != "conv" or self.generator == "video", "conv is for video frames only"),
            ("encoder", self.encoder != "flow" or self.generator != "video", "flow acts on vectors, not video frames"),
            ("encoder", self.encoder != "flow" or not self.on_sphere,
             "flow cannot map onto the sphere: use mlp or linear there, or another generator"),
            ("seq_len", self.seq_len == 2 or self.generator not in ("sphere", "box", "real"),
             f"must be 2 for contrastive pairs, got {self.seq_len}"),
        ]
        for name, ok, reason in combinations:
            if not ok:
                raise SettingError(name, reason)

    def memory_plan(self) -> dict[str, float]:
        """Estimated peak bytes of a run, by the setting that drives them (within a factor of
        about 2): the mixing's weights and reference draws, a training step (the generator's
        float64 draws, the encoder's activations, the objective's pairwise matrices) and the
        evaluation (held-out draws and the metrics' float64 copies)."""
        d, steps = self.latent_dim, self.seq_len
        observed = (d // 2) * 16**2 if self.generator == "video" else d
        pairs = self.batch_size * (steps - 1)
        per_row = steps * (observed + d)
        defaults = {f.name: f.default for f in fields(ExperimentConfig)}

        def blame(*names: str) -> str:  # the setting furthest above its default names the term
            name = max(names, key=lambda n: getattr(self, n) / max(defaults[n], 1))
            return f"{name}={getattr(self, name)}"

        terms = [
            (blame("latent_dim", "mixing_layers"), float(sum(MLPMixing.memory(d, self.mixing_layers).values()))),
            (blame("batch_size", "seq_len", "latent_dim"), 32.0 * self.batch_size * per_row
             + 12.0 * self.batch_size * steps * sum(self.hidden) + 24.0 * (2 * pairs) ** 2),
            (blame("eval_samples", "seq_len", "latent_dim"), 64.0 * self.eval_samples * per_row),
        ]
        plan: dict[str, float] = {}
        for name, size in terms:
            plan[name] = plan.get(name, 0.0) + size
        return plan

    @property
    def on_sphere(self) -> bool:
        """Whether the latents live on the sphere (normalised encoder, cosine InfoNCE)."""
        return self.generator == "sphere"

    @property
    def objective_name(self) -> str:
        """The objective in use: InfoNCE on the sphere, its Gaussian (plane) form elsewhere."""
        return self.objective or ("infonce" if self.on_sphere else "plane-kde-ldm")

    def build_objective(self, data=None):
        """The objective, with the sphere's temperature matched to the data (1 / kappa), the
        oracle sized to the generator's latent action and SimVAE's decoder to its observations; AdaSSL's contrastive base follows the
        geometry like the default objective does (sphere InfoNCE, else its Gaussian form)."""
        settings = {}
        if self.objective_name == "adassl-oracle":
            settings["action_dim"] = _action_dim(data)
        if self.objective_name == "simvae":
            settings["observed_dim"] = _observed_dim(data)
        if self.objective_name in ("adassl-v", "adassl-s", "adassl-oracle") and not self.on_sphere:
            settings["base"] = "plane-kde-ldm"  # the contrastive base matched to latents off the sphere
        if self.objective_name in ("infonce", "simclr", "cpc"):
            settings["temperature"] = self.temperature or (1 / self.kappa if self.on_sphere else 0.1)
        return preset(self.objective_name, self.latent_dim, **settings)


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
    filtered_r2: R2Result | None = None
    dci_score: float | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready row written to a results file: config, metrics, timings, versions."""
        return {
            "config": asdict(self.config),
            "seed": self.config.seed,
            "data": self.data,
            "estimator": self.estimator,
            "metrics": {
                "affine_r2": self.r2.to_dict(),
                "mcc": self.mcc.to_dict(),
                **({"filtered_affine_r2": self.filtered_r2.to_dict()} if self.filtered_r2 else {}),
                **({"dci_disentanglement": self.dci_score} if self.dci_score is not None else {}),
            },
            "baselines": {
                "raw_x": {"affine_r2": self.raw_r2.score, "mcc": self.raw_mcc.score},
                "rotation_mcc": self.rotation_mcc,
            },
            "timings": {
                "train_s": self.training.seconds,
                "eval_s": self.eval_seconds,
                "final_loss": self.training.final_loss,
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


def run_experiment(
    config: ExperimentConfig = ExperimentConfig(), *, progress: bool = False, with_dci: bool = False
) -> ExperimentResult:
    """Train the configured encoder and score it on held-out samples against the true latents
    (``with_dci`` adds DCI disentanglement with tree importances, gated on informativeness).
    A device this machine lacks, or a run that would not fit in its memory, is refused first."""
    device = resolve_device(config.device)
    check_fits(config.memory_plan(), device)
    data = _problem(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(config.seed, "init"))
        encoder = _encoder(config, data)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(config.seed, "objective"))
        objective = config.build_objective(data)
    log = train(
        encoder, objective, data, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
        seed=config.seed, device=device, progress=progress,
    )
    start = time.perf_counter()
    held_out = data.sample(config.eval_samples, derive_seed(config.seed, "eval"), device=device)
    x, z = held_out.x[:, 0], held_out.z[:, 0]
    with torch.no_grad():
        z_hat = encoder(x)
        # A filtering objective's state estimate at the last step, beside the encoding itself.
        filtered = objective.filter(encoder(held_out.x))[0][:, -1] if hasattr(objective, "filter") else None
    raw = raw_observation_baseline(x.flatten(1), z)
    scores = {
        "r2": affine_r2(z_hat, z, null=True),
        "mcc": mcc(z_hat, z, null=True),
        "raw_r2": raw["affine_r2"],
        "raw_mcc": raw["mcc"],
        "rotation_mcc": rotation_baseline(z),
        "filtered_r2": None if filtered is None else affine_r2(filtered, held_out.z[:, -1]),
        "dci_score": dci(z_hat, z).score if with_dci else None,
    }
    return ExperimentResult(
        config=config,
        data=repr(data),
        estimator=f"{_describe(encoder)} + {_describe_objective(config.objective_name, objective)}",
        training=log,
        eval_seconds=time.perf_counter() - start,
        **scores,
    )
