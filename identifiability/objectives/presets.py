"""Named methods as settings of the two LDM dials."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import nn

from .adassl import AdaSSL, OracleEdit
from .entropy import KDE, KNN, LogDet, StopGradient, VarianceCovariance
from .entropy_reconstruction import EntropyReconstruction
from .heteroscedastic import HeteroscedasticInfoNCE
from .latent_models import KalmanPredictive, NonlinearPredictive, Plane, Sphere
from .kalman_filter import KalmanFilterLDM
from .ldm import LDM
from .simvae import SimVAE
from .networks import mlp


def _predictor(dim: int) -> nn.Module:
    return mlp(dim, dim, (4 * dim,), negative_slope=0.0)  # BYOL's ReLU predictor


def _grid() -> dict[str, Callable[..., LDM]]:
    spaces = {"plane": lambda dim: Plane(1.0), "sphere": lambda dim: Sphere(10.0)}
    estimators = {"logdet": LogDet, "kde": KDE, "knn": KNN}
    return {
        f"{space}-{est}-{form}": (lambda dim, s=make_space, e=make_est, mi=form == "mi": LDM(s(dim), e(), mi=mi))
        for space, make_space in spaces.items()
        for est, make_est in estimators.items()
        for form in ("ldm", "mi")
    }


_NAMED: dict[str, Callable[..., nn.Module]] = {
    # InfoNCE: -F = InfoNCE(temperature) - log n
    "infonce": lambda dim, temperature=0.1: LDM(Sphere(1 / temperature), KDE()),
    # SimCLR's NT-Xent (negatives from both views): -F = NT-Xent - log(2n - 1)
    "simclr": lambda dim, temperature=0.5: LDM(Sphere(1 / temperature), KDE(pooled=True)),
    # VICReg with its (25, 25, 1) weights: -F = VICReg loss + (d/2) log(2 pi sigma^2), sigma^2 = d / 50
    "vicreg": lambda dim: LDM(Plane(math.sqrt(dim / 50)), VarianceCovariance(), mi=True),
    "vicreg-ldm": lambda dim: LDM(Plane(1.0), LogDet()),
    "byol": lambda dim, ema=0.99: LDM(Sphere(1.0, predictor=_predictor(dim)), StopGradient(), ema=ema),
    "simsiam": lambda dim: LDM(Sphere(1.0, predictor=_predictor(dim)), StopGradient()),
    # CPC: InfoNCE with a bilinear (linear-predictor) critic
    "cpc": lambda dim, temperature=0.1: LDM(Sphere(1 / temperature, predictor=nn.Linear(dim, dim, bias=False)), KDE()),
    # Kalman-predictive LDM: A, b learned, Q = I, contrastive entropy under the Kalman kernel.
    # Measured on gauss_ar1 (d = 4, 3-layer mixing, 2000 steps): affine R^2 0.97; with Q learned
    # too 0.71; with the log-det entropy, which sees second moments only, 0.05-0.52.
    "kalman": lambda dim: LDM(KalmanPredictive(dim, learn_noise=False), KDE()),
    # the sampling-free Bayesian filter on sequences (T >= 2), same dials
    "kalman-filter": lambda dim: KalmanFilterLDM(dim, KDE(), learn_noise=False),
    **_grid(),
    # AdaSSL (seed 000) on the contrastive and the distillation base, its oracle and baseline
    "adassl-v": lambda dim, base="infonce", **kw: AdaSSL(dim, _NAMED[base](dim), "v", **kw),
    "adassl-s": lambda dim, base="infonce", **kw: AdaSSL(dim, _NAMED[base](dim), "s", **kw),
    "adassl-v-byol": lambda dim, **kw: AdaSSL(dim, _NAMED["byol"](dim), "v", **kw),
    "adassl-s-byol": lambda dim, **kw: AdaSSL(dim, _NAMED["byol"](dim), "s", **kw),
    "adassl-oracle": lambda dim, action_dim, base="infonce": OracleEdit(dim, _NAMED[base](dim), action_dim),
    "h-infonce": lambda dim: HeteroscedasticInfoNCE(dim),
    # the entropy + reconstruction bound (seed 004)
    "er": lambda dim: EntropyReconstruction(NonlinearPredictive(dim), KNN()),
    # SimVAE (seed 003): a generative model of the views, fitted by an ELBO
    "simvae": lambda dim, observed_dim, **kw: SimVAE(dim, observed_dim, **kw),
}
PRESETS: tuple[str, ...] = tuple(_NAMED)


def preset(name: str, dim: int, **settings: Any) -> nn.Module:
    """The LDM objective of a named method for d = ``dim`` embeddings.

    Names: infonce, simclr, vicreg, vicreg-ldm, byol, simsiam, cpc, kalman, kalman-filter, and the LDM paper's
    ablation grid {plane, sphere} x {logdet, kde, knn} x {ldm, mi} (e.g. "sphere-kde-mi"); AdaSSL's
    adassl-v, adassl-s (contrastive base), adassl-v-byol, adassl-s-byol (distillation base),
    adassl-oracle (needs ``action_dim``) and the h-infonce baseline; er (the ER bound); simvae (needs
    ``observed_dim``, the entries of one flattened observation).
    ``settings`` override a preset's knobs (temperature for infonce, simclr and cpc; ema for byol;
    editor, beta, warmup, l0 and the contrastive ``base`` preset for AdaSSL; view_variance, hidden,
    noise_scale for simvae).
    """
    if name not in _NAMED:
        raise ValueError(f"unknown objective {name!r}; choose from {', '.join(PRESETS)}")
    if dim < 1:
        raise ValueError(f"dim must be positive, got {dim}")
    return _NAMED[name](dim, **settings)
