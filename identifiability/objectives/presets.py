"""Named methods as settings of the two LDM dials, each with the settings it really has.

Every preset is ``preset(name, dim, **settings)``. The keyword parameters of a preset's function are
its settings, and nothing else is: byol's and simsiam's losses have no temperature (scaling a
cosine loss does not change Adam's steps, so it would be a dial that does nothing), and the plane's
sigma is absorbed by the unnormalised encoder's scale. ``action_dim``, ``observed_dim`` and ``seed``
are what a preset needs from its surroundings, not settings.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from torch import nn

from foundation import MAX_CONCENTRATION, SettingError, check_choice, check_float

from .adassl import AdaSSL, OracleEdit
from .entropy import KDE, KNN, FlowExact, LogDet, NoEntropy, StopGradient, VarianceCovariance
from .entropy_reconstruction import EntropyReconstruction
from .heteroscedastic import HeteroscedasticInfoNCE
from .kalman_filter import KalmanFilterLDM
from .latent_models import KalmanPredictive, NonlinearPredictive, Plane, Sphere
from .ldm import LDM
from .networks import mlp
from .simvae import SimVAE

# What a preset may need from its surroundings; everything else a preset's function takes is a setting.
NEEDS = ("dim", "action_dim", "observed_dim", "seed")


def _sphere(temperature: float, predictor: nn.Module | None = None) -> Sphere:
    bounds = dict(low=1 / MAX_CONCENTRATION, high=MAX_CONCENTRATION)  # see foundation.limits
    return Sphere(1 / check_float("temperature", temperature, **bounds), predictor=predictor)


def _predictor(dim: int) -> nn.Module:
    return mlp(dim, dim, (4 * dim,), negative_slope=0.0)  # BYOL's ReLU predictor


def _ema(ema: float) -> float:
    return check_float("ema", ema, low=0, high=1, high_open=True)


def _grid() -> dict[str, Callable[..., LDM]]:
    """The LDM paper's ablation grid {plane, sphere} x {logdet, kde, knn} x {ldm, mi}. The sphere's
    temperature defaults to 0.1 (beta = 10, the grid's value when it was measured, see
    benchmarks/sweeps/ldm_grid.toml); the plane has no setting (its sigma sets only the code's scale)."""

    def plane(entropy: Callable[[], Any], mi: bool) -> Callable[..., LDM]:
        return lambda dim: LDM(Plane(1.0), entropy(), mi=mi)

    def sphere(entropy: Callable[[], Any], mi: bool) -> Callable[..., LDM]:
        return lambda dim, temperature=0.1: LDM(_sphere(temperature), entropy(), mi=mi)

    estimators = {"logdet": LogDet, "kde": KDE, "knn": KNN}
    return {
        f"{space}-{est}-{form}": make(entropy, form == "mi")
        for space, make in (("plane", plane), ("sphere", sphere))
        for est, entropy in estimators.items()
        for form in ("ldm", "mi")
    }


def _adassl(variant: str, distil: bool) -> Callable[..., AdaSSL]:
    """AdaSSL on a contrastive base (its temperature reaches the base where the base has one) or
    on BYOL's distillation base (its ema). The variational variant's settings are its editor and its
    KL weight with warm-up; the sparse one's its L0 weight and the rank of its editor."""
    if variant == "v":
        def regulariser(editor="additive", beta=1.0, warmup=500):
            return dict(editor=editor, beta=beta, warmup=warmup)
    else:
        def regulariser(l0=0.05, rank=2):
            return dict(l0=l0, rank=rank)
    own = inspect.signature(regulariser).parameters.values()
    if distil:
        def build(dim, seed, ema=0.99, **settings):
            return AdaSSL(dim, _NAMED["byol"](dim, ema=ema), variant, seed=seed, **regulariser(**settings))
        head = [inspect.Parameter("ema", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0.99)]
    else:
        def build(dim, seed, base="infonce", temperature=None, **settings):
            return AdaSSL(dim, _base(dim, base, temperature), variant, seed=seed, **regulariser(**settings))
        head = [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v) for k, v in (("base", "infonce"), ("temperature", None))]
    needs = [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD) for k in ("dim", "seed")]
    build.__signature__ = inspect.Signature([*needs, *head, *(p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in own)])  # type: ignore[attr-defined]
    return build


def _base(dim: int, base: str, temperature: float | None, bases: tuple[str, ...] | None = None) -> LDM:
    """AdaSSL's base preset (of ``bases``, the contrastive ones by default), handed the temperature
    where it has one."""
    check_choice("base", base, bases or CONTRASTIVE_BASES)
    if "temperature" not in inspect.signature(_NAMED[base]).parameters:
        if temperature is not None:
            raise SettingError("temperature", f"has no effect on the base {base!r}, which has no temperature")
        return _NAMED[base](dim)
    return _NAMED[base](dim) if temperature is None else _NAMED[base](dim, temperature=temperature)


# Where the data are on the sphere with vMF pairs, the contrastive presets' temperature defaults to
# 1 / kappa (the matched latent model, the theory's condition; the experiment layer derives it);
# elsewhere to the value listed here. AdaSSL's base keeps its own 0.1 everywhere: on the sphere
# (d = 5, 3000 steps, seeds 0 / 1) AdaSSL-V scored R^2 0.59 / 0.52 at 0.1 against 0.36 / 0.30
# matched at kappa 1, and 0.98 / 0.99 against 0.57 / 0.41 at kappa 50 (benchmarks/dials_and_seeds.py).
_NAMED: dict[str, Callable[..., nn.Module]] = {
    # InfoNCE: -F = InfoNCE(temperature) - log n; 0.1 as in Zimmermann et al. (2021) off the matched case
    "infonce": lambda dim, temperature=0.1: LDM(_sphere(temperature), KDE()),
    # SimCLR's NT-Xent (negatives from both views): -F = NT-Xent - log(2n - 1); 0.5, SimCLR's default
    "simclr": lambda dim, temperature=0.5: LDM(_sphere(temperature), KDE(pooled=True)),
    # VICReg with its (25, 25, 1) weights: -F = VICReg loss + (d/2) log(2 pi sigma^2), sigma^2 = d / 50
    "vicreg": lambda dim: LDM(Plane(math.sqrt(dim / 50)), VarianceCovariance(), mi=True),
    "vicreg-ldm": lambda dim: LDM(Plane(1.0), LogDet()),
    # BYOL: ema 0.99, the decay most reimplementations use (the paper anneals 0.996 -> 1)
    "byol": lambda dim, ema=0.99: LDM(Sphere(1.0, predictor=_predictor(dim)), StopGradient(), ema=_ema(ema)),
    "simsiam": lambda dim: LDM(Sphere(1.0, predictor=_predictor(dim)), StopGradient()),
    # CPC: InfoNCE with a bilinear (linear-predictor) critic; 0.1 as InfoNCE
    "cpc": lambda dim, temperature=0.1: LDM(_sphere(temperature, nn.Linear(dim, dim, bias=False)), KDE()),
    # Kalman-predictive LDM: A, b learned, Q = I, contrastive entropy under the Kalman kernel.
    # Measured on gauss_ar1 (d = 4, 3-layer mixing, 2000 steps): affine R^2 0.97; with Q learned
    # too 0.71; with the log-det entropy, which sees second moments only, 0.05-0.52.
    "kalman": lambda dim: LDM(KalmanPredictive(dim, learn_noise=False), KDE()),
    # the LDM paper's statement: the Kalman latent model with the exact entropy of a flow encoder (its
    # log-volume), i.e. maximum likelihood of the observed pairs; Q is learned, the flow's exact entropy
    # fixing the code's scale. Measured on gauss_ar1 (d = 4, 3-layer mixing, lr 1e-3): with D = d,
    # affine R^2 0.86 at 600 steps; lifted to D = 8 the decoder's volume collapses (the log-volume
    # grows ~2 nats per 10 steps) and training diverges within ~30 steps, also with a reconstruction
    # penalty of weight 1 to 100 (rectangular flows') added: the lifted case is open (needs --encoder flow)
    "kalman-flow": lambda dim, learn_noise=True: LDM(KalmanPredictive(dim, learn_noise=learn_noise), FlowExact()),
    # the Kalman alignment alone, without an entropy term: it collapses (the claims' negative control)
    "kalman-alignment": lambda dim: LDM(KalmanPredictive(dim, learn_noise=False), NoEntropy()),
    # the sampling-free Bayesian filter on sequences (T >= 2), same dials: the encoder learns the contrastive
    # LDM under the filter's predictive law, the filter (A, b, Q, R) the codes' exact sequence likelihood.
    # Measured on gauss_ar1 (d = 4, T = 8, 3-layer mixing, 1500 steps x 256, seed 0): affine R^2 0.987 per
    # frame (0.963 when the contrastive term also trained R, Q = I; the first form, a stop-gradient likelihood
    # + per-step marginal KDE, 0.32); with observation noise 0.5 on linear mixing (d = 2, T = 16, 600 steps)
    # its state scores 0.873 against the exact filter's 0.892 and a one-frame oracle's 0.797
    "kalman-filter": lambda dim: KalmanFilterLDM(dim),
    # the same filter with an invertible encoder and exact entropy: the sequences' exact likelihood (needs
    # --encoder flow)
    "kalman-filter-flow": lambda dim: KalmanFilterLDM(dim, entropy="exact"),
    **_grid(),
    # AdaSSL (seed 000) on the contrastive and the distillation base, its oracle and baseline. The
    # contrastive base follows the data's geometry (infonce on the sphere, plane-kde-ldm off it).
    "adassl-v": _adassl("v", distil=False),
    "adassl-s": _adassl("s", distil=False),
    "adassl-v-byol": _adassl("v", distil=True),
    "adassl-s-byol": _adassl("s", distil=True),
    # the oracle on a contrastive base or on BYOL's (then it distils from the EMA target too)
    "adassl-oracle": lambda dim, action_dim, base="infonce", temperature=None: OracleEdit(
        dim, _base(dim, base, temperature, (*CONTRASTIVE_BASES, "byol")), action_dim
    ),
    "h-infonce": lambda dim: HeteroscedasticInfoNCE(dim),
    # the entropy + reconstruction bound (seed 004)
    "er": lambda dim: EntropyReconstruction(NonlinearPredictive(dim), KNN()),
    # SimVAE (seed 003): a generative model of the views, fitted by an ELBO; view variance 0.1 as
    # measured in the AdaSSL uncertainty benchmark (matched to jump's noise it is 0.005)
    "simvae": lambda dim, observed_dim, seed, view_variance=0.1, learn_view_variance=False, hidden=(128, 128), noise_scale=0.1: SimVAE(
        dim, observed_dim, view_variance=view_variance, learn_view_variance=learn_view_variance, hidden=hidden,
        noise_scale=noise_scale, seed=seed,
    ),
}
PRESETS: tuple[str, ...] = tuple(_NAMED)
CONTRASTIVE_BASES = ("infonce", "simclr", "cpc", "plane-kde-ldm", "sphere-kde-ldm")


def settings_of(name: str) -> dict[str, Any]:
    """A preset's settings with their defaults (the keyword parameters of its function that are not
    in ``NEEDS``)."""
    check_choice("objective", name, PRESETS)
    parameters = inspect.signature(_NAMED[name]).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in NEEDS and p.default is not inspect.Parameter.empty}


def needs_of(name: str) -> tuple[str, ...]:
    """What a preset needs from its surroundings, of ``NEEDS``."""
    check_choice("objective", name, PRESETS)
    return tuple(p for p in inspect.signature(_NAMED[name]).parameters if p in NEEDS)


def preset(name: str, dim: int, **settings: Any) -> nn.Module:
    """The objective of a named method for d = ``dim`` embeddings, with ``settings`` (see
    ``settings_of``) and what it needs (``action_dim`` for adassl-oracle, ``observed_dim`` for
    simvae, ``seed`` for the parts with their own noise) as keywords.

    Names: infonce, simclr, vicreg, vicreg-ldm, byol, simsiam, cpc, kalman, kalman-filter, the LDM
    paper's ablation grid {plane, sphere} x {logdet, kde, knn} x {ldm, mi} (e.g. "sphere-kde-mi"),
    AdaSSL's adassl-v, adassl-s (contrastive base), adassl-v-byol, adassl-s-byol (distillation base),
    adassl-oracle, the h-infonce baseline, er (the ER bound) and simvae.
    """
    accepted = set(settings_of(name)) | set(needs_of(name))
    unknown = sorted(set(settings) - accepted)
    if unknown:
        raise SettingError(unknown[0], f"is not a setting of the objective {name!r} (its settings: {', '.join(settings_of(name)) or 'none'})")
    if dim < 1:
        raise SettingError("dim", f"must be positive, got {dim}")
    if "seed" in needs_of(name) and "seed" not in settings:
        settings["seed"] = 0
    return _NAMED[name](dim, **settings)
