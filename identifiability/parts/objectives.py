"""The built-in objectives by name: every preset of ``objectives.presets``, its settings those of the
preset, with what the preset needs from its surroundings taken from the run (the code's dimension,
the generator's action size, the observation's size, a seed of the training stream) and, where the
data allow the theory's match, the defaults derived from them."""

from __future__ import annotations

import inspect
from typing import Any

from foundation import SettingError
from generators import ContrastivePairs, NonlinearICA, Process

from ..objectives.presets import PRESETS, needs_of, preset, settings_of
from ..objectives.supervised import Supervised, SupervisedFilter
from ..registry import Context, register_objective

SUMMARIES = {
    "infonce": "InfoNCE on the sphere (the Sphere x KDE setting of LDM)",
    "simclr": "SimCLR's NT-Xent: InfoNCE with negatives from both views",
    "vicreg": "VICReg with its (25, 25, 1) weights",
    "vicreg-ldm": "the VICReg family as LDM: plane alignment and log-det entropy",
    "byol": "BYOL: a predictor distils an EMA target (stop-gradient)",
    "simsiam": "SimSiam: BYOL without the EMA target",
    "cpc": "CPC: InfoNCE with a bilinear critic",
    "kalman": "Kalman-predictive LDM on pairs: z' | z ~ N(A z + b, I), contrastive entropy",
    "kalman-filter": "Kalman-predictive LDM on sequences, through a sampling-free Kalman filter",
    "kalman-filter-flow": "the Kalman filter with a flow's exact entropy: the sequences' likelihood (--encoder flow)",
    "kalman-alignment": "the Kalman alignment term without entropy: collapses (a negative control)",
    "kalman-flow": "Kalman-predictive LDM with a flow's exact entropy (maximum likelihood; --encoder flow)",
    "adassl-v": "AdaSSL, variational: a latent r absorbs one-to-many pairs (contrastive base)",
    "adassl-s": "AdaSSL, sparse: a gated latent r (contrastive base)",
    "adassl-v-byol": "AdaSSL, variational, on BYOL's distillation base",
    "adassl-s-byol": "AdaSSL, sparse, on BYOL's distillation base",
    "adassl-oracle": "AdaSSL's upper bound: the edit is given the generator's true latent action",
    "h-infonce": "heteroscedastic InfoNCE: a concentration per anchor",
    "er": "the entropy + reconstruction bound I[z; z'] >= H[z'] + <log q(z' | z)>",
    "simvae": "SimVAE: the views as draws of a generative model, fitted by an ELBO",
}


def _grid_summary(name: str) -> str:
    space, estimator, form = name.split("-")
    return f"LDM ablation grid: {space} latent model x {estimator} entropy x {form.upper()} form"


def matched(data: Process) -> bool:
    """Whether the data are the theory's sphere with vMF pairs, where temperature 1 / kappa matches."""
    return isinstance(data, ContrastivePairs) and data.latent_geometry == "sphere"


def default_objective(geometry: str) -> str:
    """The objective a run on latents of ``geometry`` trains unless told: InfoNCE on the sphere, its
    Gaussian (plane) form elsewhere. The one owner of the decision: a spec reads the geometry its
    generator's registration declares, AdaSSL's base the built data's, and ``experiment.build``
    refuses a generator whose data disagree with its declaration."""
    return "infonce" if geometry == "sphere" else "plane-kde-ldm"


def _action_dim(context: Context) -> int:
    dim = context.data.action_dim
    if dim is None:
        raise SettingError("objective", "adassl-oracle needs a generator that returns its latent action (jump, sparse_resample, action)")
    return dim


_NEEDED = {
    "action_dim": _action_dim,
    "observed_dim": lambda context: context.observed_size,
    "seed": lambda context: context.stream("objective"),
}


def _register(name: str) -> None:
    settings, needs = settings_of(name), [n for n in needs_of(name) if n != "dim"]

    def build(context: Context, **values: Any):
        return preset(name, context.latent_dim, **{n: _NEEDED[n](context) for n in needs}, **values)

    context = inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    build.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [context, *(inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in settings.items())]
    )
    build.__doc__ = SUMMARIES.get(name) or _grid_summary(name)
    derived = {}
    if "temperature" in settings and "base" not in settings:  # the matched 1 / kappa on the sphere with vMF pairs
        derived["temperature"] = lambda c, own=settings["temperature"]: 1 / c.data.kappa if matched(c.data) else own
    if "base" in settings:  # AdaSSL's contrastive base follows the data's geometry
        derived["base"] = lambda c: default_objective(c.data.latent_geometry)
    register_objective(name, derived=derived)(build)


for _name in PRESETS:
    _register(_name)


@register_objective("supervised")
def supervised(context: Context) -> Supervised:
    """Regress the true latents: the supervised reference of a verdict, not a self-supervised method."""
    return Supervised()


@register_objective("supervised-filter")
def supervised_filter(context: Context) -> SupervisedFilter:
    """Regress the true latents from a Kalman filter's state: the reference of a filter's verdict."""
    return SupervisedFilter(context.latent_dim)


def _segments(context: Context) -> int:
    """The number of segments of a segment-modulated generator (``ica`` with segments > 0)."""
    data = context.data
    segments = data.segments if isinstance(data, NonlinearICA) else 0  # nonstat_noise's segments are not per sample
    if not segments:
        raise SettingError("objective", f"tcl classifies the segment of each sample, and {data!r} has none: "
                                        "use the generator ica with segments > 0")
    return segments


@register_objective("tcl")
def tcl(context: Context) -> TCL:
    """TCL: a logistic regression on (z, z^2) tells each sample's segment (needs ica with segments > 0)."""
    from ..objectives.tcl import TCL

    return TCL(context.latent_dim, _segments(context))


@register_objective("pcl")
def pcl(context: Context, *, form: str = "mlp", width: int = 16) -> PCL:
    """PCL: a logistic regression sum_i B_i(z_t,i, z_t+1,i) tells consecutive pairs from permuted ones."""
    from ..objectives.pcl import PCL

    return PCL(context.latent_dim, form, width)
