"""The built-in objectives by name: the named SSL methods as settings of the two LDM dials, the
Kalman family, AdaSSL, SimVAE, the ER bound, TCL and PCL, and the supervised references.

Each is one decorated builder: its keyword parameters are its settings, with their defaults, and
nothing else is one; its docstring's first line is its summary (``run --help`` prints it); what it
needs from the run (the code's dimension, the process's action size, the observation's size, a seed
of the training stream) it reads from the context. Byol's and simsiam's losses have no temperature
(scaling a cosine loss does not change Adam's steps, so it would be a dial that does nothing), and
the plane's sigma is absorbed by the unnormalised encoder's scale. ``preset`` builds one outside a
run. The comments state what was measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import nn

from identifiability._core import MAX_CONCENTRATION, SettingError, check_choice, check_float, check_int
from identifiability.processes import ContrastivePairs, Process

from ..objectives import (KDE, KNN, LDM, PCL, TCL, AdaSSL, EntropyReconstruction, FlowExact, HeteroscedasticInfoNCE,
                          KalmanFilterLDM, KalmanGain, KalmanPredictive, LogDet, NoEntropy, NonlinearPredictive, OracleEdit, Plane,
                          SimVAE, Sphere, StopGradient, VarianceCovariance)
from ..objectives.networks import mlp
from ..objectives.supervised import Supervised, SupervisedFilter
from ..registry import OBJECTIVES, Context, register_objective


def matched(data: Process) -> bool:
    """Whether the data are the theory's sphere with vMF pairs, where temperature 1 / kappa matches."""
    return isinstance(data, ContrastivePairs) and data.latent_geometry == "sphere"


def default_objective(geometry: str) -> str:
    """The objective a run on latents of ``geometry`` trains unless told: InfoNCE on the sphere, its
    Gaussian (plane) form elsewhere. The one owner of the decision: a spec reads the geometry its
    process's registration declares, AdaSSL's base the built data's, and ``experiment.build``
    refuses a process whose data disagree with its declaration."""
    return "infonce" if geometry == "sphere" else "plane-kde-ldm"


def _matched(default: float) -> dict[str, Callable[[Context], Any]]:
    """A contrastive objective's temperature: 1 / kappa where the data are on the sphere with vMF pairs
    (the matched latent model, the theory's condition), else ``default``."""
    return {"temperature": lambda c: 1 / c.data.kappa if matched(c.data) else default}


def _sphere(temperature: float, predictor: nn.Module | None = None) -> Sphere:
    bounds = dict(low=1 / MAX_CONCENTRATION, high=MAX_CONCENTRATION)  # see _core.limits
    return Sphere(1 / check_float("temperature", temperature, **bounds), predictor=predictor)


def _predictor(dim: int) -> nn.Module:
    return mlp(dim, dim, (4 * dim,), negative_slope=0.0)  # BYOL's ReLU predictor


def _ema(ema: float) -> float:
    return check_float("ema", ema, low=0, high=1, high_open=True)


# --- the classic SSL losses as LDM ----------------------------------------------------------------


@register_objective("infonce", derived=_matched(0.1))
def infonce(context: Context, *, temperature: float = 0.1) -> LDM:
    """InfoNCE on the sphere (the Sphere x KDE setting of LDM)."""
    # -F = InfoNCE(temperature) - log n; 0.1 as in Zimmermann et al. (2021) off the matched case
    return LDM(_sphere(temperature), KDE())


@register_objective("simclr", derived=_matched(0.5))
def simclr(context: Context, *, temperature: float = 0.5) -> LDM:
    """SimCLR's NT-Xent: InfoNCE with negatives from both views."""
    # -F = NT-Xent - log(2n - 1); 0.5, SimCLR's default
    return LDM(_sphere(temperature), KDE(pooled=True))


@register_objective("vicreg")
def vicreg(context: Context) -> LDM:
    """VICReg with its (25, 25, 1) weights."""
    # -F = VICReg loss + (d/2) log(2 pi sigma^2), sigma^2 = d / 50
    return LDM(Plane(math.sqrt(context.latent_dim / 50)), VarianceCovariance(), mi=True)


@register_objective("vicreg-ldm")
def vicreg_ldm(context: Context) -> LDM:
    """The VICReg family as LDM: plane alignment and log-det entropy."""
    return LDM(Plane(1.0), LogDet())


@register_objective("byol")
def byol(context: Context, *, ema: float = 0.99) -> LDM:
    """BYOL: a predictor distils an EMA target (stop-gradient)."""
    # ema 0.99, the decay most reimplementations use (the paper anneals 0.996 -> 1)
    return LDM(Sphere(1.0, predictor=_predictor(context.latent_dim)), StopGradient(), ema=_ema(ema))


@register_objective("simsiam")
def simsiam(context: Context) -> LDM:
    """SimSiam: BYOL without the EMA target."""
    return LDM(Sphere(1.0, predictor=_predictor(context.latent_dim)), StopGradient())


@register_objective("jepa")
def jepa(context: Context, *, ema: float = 0.99) -> LDM:
    """JEPA-style: a predictor regresses an EMA target's code in the plane (L2, stop-gradient)."""
    return LDM(Plane(1.0, predictor=_predictor(context.latent_dim)), StopGradient(), ema=_ema(ema))


@register_objective("cpc", derived=_matched(0.1))
def cpc(context: Context, *, temperature: float = 0.1) -> LDM:
    """CPC: InfoNCE with a bilinear critic."""
    # a linear predictor before the vMF kernel, started at the identity (InfoNCE's critic); 0.1 as InfoNCE.
    # From torch's random start the critic stalled: affine R^2 0.22 on the sphere (d = 5, 2 layers, 1500
    # steps, seed 0; raw x 0.84); from the identity 0.999 (issue 27)
    dim = context.latent_dim
    critic = nn.Linear(dim, dim, bias=False)
    nn.init.eye_(critic.weight)
    return LDM(_sphere(temperature, critic), KDE())


# --- the Kalman family ----------------------------------------------------------------------------


@register_objective("kalman")
def kalman(context: Context) -> LDM:
    """Kalman-predictive LDM on pairs: z' | z ~ N(A z + b, I), contrastive entropy."""
    # A, b learned, Q = I. Measured on gauss_ar1 (d = 4, 3-layer mixing, 2000 steps): affine R^2 0.97;
    # with Q learned too 0.71; with the log-det entropy, which sees second moments only, 0.05-0.52.
    return LDM(KalmanPredictive(context.latent_dim, learn_noise=False), KDE())


@register_objective("kalman-flow")
def kalman_flow(context: Context, *, learn_noise: bool = True) -> LDM:
    """Kalman-predictive LDM with a flow's exact entropy (maximum likelihood; --encoder flow)."""
    # The Kalman latent model with the exact entropy of a flow encoder (its log-volume), i.e. maximum
    # likelihood of the observed pairs; Q is learned, the flow's exact entropy fixing the code's scale.
    # Measured on gauss_ar1 (d = 4, 3-layer mixing, lr 1e-3): with D = d, affine R^2 0.86 at 600 steps;
    # lifted to D = 8 the decoder's volume collapses (the log-volume grows ~2 nats per 10 steps) and
    # training diverges within ~30 steps, also with a reconstruction penalty of weight 1 to 100
    # (rectangular flows') added: the lifted case is open.
    return LDM(KalmanPredictive(context.latent_dim, learn_noise=learn_noise), FlowExact())


@register_objective("nonlinear-predictive")
def nonlinear_predictive(context: Context, *, learn_noise: bool = False) -> LDM:
    """Predictive LDM with an MLP predictor: z' | z ~ N(h(z), sigma^2 I), contrastive entropy."""
    # sigma = 1 by default, as kalman's Q = I
    return LDM(NonlinearPredictive(context.latent_dim, learn_noise=learn_noise), KDE())


@register_objective("kalman-stopgrad")
def kalman_stopgrad(
    context: Context, *, code_noise: float = 0.5, learn_noise: bool = True, ema: float = 0.0, marginal: str = "logdet",
) -> LDM:
    """Predictive LDM with a Kalman-gain target and the stop-gradient entropy plug-in (seed 001)."""
    # The target of z' is the filter's update of A z + b by z' (gain Q (Q + R)^{-1}, R = code_noise^2 I),
    # held fixed; H[z, z'] = H[z] + H[z' | z], the conditional part plugged in (BYOL / JEPA), the marginal
    # part by the log-det (or none); ema > 0 encodes z' by an EMA encoder.
    noise = check_float("code_noise", code_noise, low=0, high=10)
    base = {"logdet": LogDet, "none": lambda: None}[check_choice("marginal", marginal, ("logdet", "none"))]()
    model = KalmanGain(context.latent_dim, learn_noise=learn_noise, observation_noise=noise)
    return LDM(model, StopGradient(base), ema=_ema(ema) or None)


@register_objective("kalman-alignment")
def kalman_alignment(context: Context) -> LDM:
    """The Kalman alignment term without entropy: collapses (a negative control)."""
    return LDM(KalmanPredictive(context.latent_dim, learn_noise=False), NoEntropy())


@register_objective("kalman-filter")
def kalman_filter(context: Context) -> KalmanFilterLDM:
    """Kalman-predictive LDM on sequences, through a sampling-free Kalman filter."""
    # The encoder learns the contrastive LDM under the filter's predictive law, the filter (A, b, Q, R)
    # the codes' exact sequence likelihood. Measured on gauss_ar1 (d = 4, T = 8, 3-layer mixing, 1500
    # steps x 256, seed 0): affine R^2 0.987 per frame (0.963 when the contrastive term also trained R,
    # Q = I; the first form, a stop-gradient likelihood + per-step marginal KDE, 0.32); with observation
    # noise 0.5 on linear mixing (d = 2, T = 16, 600 steps) its state scores 0.873 against the exact
    # filter's 0.892 and a one-frame oracle's 0.797
    return KalmanFilterLDM(context.latent_dim)


@register_objective("kalman-filter-flow")
def kalman_filter_flow(context: Context) -> KalmanFilterLDM:
    """The Kalman filter with a flow's exact entropy: the sequences' likelihood (--encoder flow)."""
    return KalmanFilterLDM(context.latent_dim, entropy="exact")


# --- the LDM paper's ablation grid: a registration per cell ---------------------------------------


def _grid_cell(space: str, estimator: str, entropy: Callable[[], Any], form: str) -> None:
    """Register ``{space}-{estimator}-{form}``. The sphere's temperature defaults to 0.1 (beta = 10,
    the grid's value when it was measured, see benchmarks/sweeps/ldm_grid.toml); the plane has no
    setting (its sigma sets only the code's scale)."""
    mi = form == "mi"
    if space == "plane":
        def build(context: Context) -> LDM:
            return LDM(Plane(1.0), entropy(), mi=mi)
    else:
        def build(context: Context, *, temperature: float = 0.1) -> LDM:  # type: ignore[misc]
            return LDM(_sphere(temperature), entropy(), mi=mi)
    build.__doc__ = f"LDM ablation grid: {space} latent model x {estimator} entropy x {form.upper()} form"
    register_objective(f"{space}-{estimator}-{form}", derived=_matched(0.1) if space == "sphere" else None)(build)


for _space in ("plane", "sphere"):
    for _estimator, _entropy in {"logdet": LogDet, "kde": KDE, "knn": KNN}.items():
        for _form in ("ldm", "mi"):
            _grid_cell(_space, _estimator, _entropy, _form)


# --- AdaSSL (seed 000) ------------------------------------------------------------------------------

CONTRASTIVE_BASES = ("infonce", "simclr", "cpc", "plane-kde-ldm", "sphere-kde-ldm")
# AdaSSL's contrastive base follows the data's geometry (infonce on the sphere, plane-kde-ldm off it)
# and keeps its own temperature 0.1 everywhere: on the sphere (d = 5, 3000 steps, seeds 0 / 1) AdaSSL-V
# scored R^2 0.59 / 0.52 at 0.1 against 0.36 / 0.30 matched at kappa 1, and 0.98 / 0.99 against
# 0.57 / 0.41 at kappa 50 (benchmarks/dials_and_seeds.py).
BASE = {"base": lambda c: default_objective(c.data.latent_geometry)}


def _base(context: Context, base: str, temperature: float | None, bases: tuple[str, ...] = CONTRASTIVE_BASES) -> nn.Module:
    """AdaSSL's base objective (of ``bases``) at its own defaults, handed the temperature where it has one."""
    check_choice("base", base, bases)
    entry = OBJECTIVES[base]
    if temperature is not None and "temperature" not in entry.settings:
        raise SettingError("temperature", f"has no effect on the base {base!r}, which has no temperature")
    given = {} if temperature is None else {"temperature": temperature}
    return entry.build(context, **{**entry.settings, **given})


@register_objective("adassl-v", derived=BASE)
def adassl_v(context: Context, *, base: str = "infonce", temperature: float | None = None, editor: str = "additive",
             beta: float = 1.0, warmup: int = 500) -> AdaSSL:
    """AdaSSL, variational: a latent r absorbs one-to-many pairs (contrastive base)."""
    return AdaSSL(context.latent_dim, _base(context, base, temperature), "v", seed=context.stream("objective"),
                  editor=editor, beta=beta, warmup=warmup)


@register_objective("adassl-s", derived=BASE)
def adassl_s(context: Context, *, base: str = "infonce", temperature: float | None = None, l0: float = 0.05,
             rank: int = 2) -> AdaSSL:
    """AdaSSL, sparse: a gated latent r (contrastive base)."""
    return AdaSSL(context.latent_dim, _base(context, base, temperature), "s", seed=context.stream("objective"),
                  l0=l0, rank=rank)


@register_objective("adassl-v-byol")
def adassl_v_byol(context: Context, *, ema: float = 0.99, editor: str = "additive", beta: float = 1.0,
                  warmup: int = 500) -> AdaSSL:
    """AdaSSL, variational, on BYOL's distillation base."""
    return AdaSSL(context.latent_dim, byol(context, ema=ema), "v", seed=context.stream("objective"), editor=editor,
                  beta=beta, warmup=warmup)


@register_objective("adassl-s-byol")
def adassl_s_byol(context: Context, *, ema: float = 0.99, l0: float = 0.05, rank: int = 2) -> AdaSSL:
    """AdaSSL, sparse, on BYOL's distillation base."""
    return AdaSSL(context.latent_dim, byol(context, ema=ema), "s", seed=context.stream("objective"), l0=l0, rank=rank)


@register_objective("adassl-oracle", derived=BASE)
def adassl_oracle(context: Context, *, base: str = "infonce", temperature: float | None = None) -> OracleEdit:
    """AdaSSL's upper bound: the edit is given the process's true latent action."""
    # on a contrastive base or on BYOL's (then it distils from the EMA target too)
    action_dim = context.data.action_dim
    if action_dim is None:
        raise SettingError("objective", "adassl-oracle needs a process that returns its latent action (jump, sparse_resample, action)")
    return OracleEdit(context.latent_dim, _base(context, base, temperature, (*CONTRASTIVE_BASES, "byol")), action_dim)


@register_objective("h-infonce")
def h_infonce(context: Context) -> HeteroscedasticInfoNCE:
    """Heteroscedastic InfoNCE: a concentration per anchor."""
    return HeteroscedasticInfoNCE(context.latent_dim)


# --- generative and bound-based objectives -------------------------------------------------------


@register_objective("er")
def er(context: Context) -> EntropyReconstruction:
    """The entropy + reconstruction bound I[z; z'] >= H[z'] + <log q(z' | z)>."""
    # seed 004
    return EntropyReconstruction(NonlinearPredictive(context.latent_dim), KNN())


@register_objective("simvae")
def simvae(context: Context, *, view_variance: float = 0.1, learn_view_variance: bool = False,
           hidden: tuple[int, ...] = (128, 128), noise_scale: float = 0.1) -> SimVAE:
    """SimVAE: the views as draws of a generative model, fitted by an ELBO."""
    # seed 003; view variance 0.1 as measured in the AdaSSL uncertainty benchmark (matched to jump's
    # noise it is 0.005)
    return SimVAE(context.latent_dim, context.observed_size, view_variance=view_variance,
                  learn_view_variance=learn_view_variance, hidden=hidden, noise_scale=noise_scale,
                  seed=context.stream("objective"))


# --- nonlinear ICA by auxiliary-variable classification ------------------------------------------


def _segments(context: Context) -> int:
    """The number of segments that label each sample (``Process.sample_segments``: ``ica`` with segments > 0)."""
    data = context.data
    segments = data.sample_segments
    if not segments:
        raise SettingError("objective", f"tcl classifies the segment of each sample, and {data!r} has none: "
                                        "use the process ica with segments > 0")
    return segments


@register_objective("tcl")
def tcl(context: Context) -> TCL:
    """TCL: a logistic regression on (z, z^2) tells each sample's segment (needs ica with segments > 0)."""
    return TCL(context.latent_dim, _segments(context))


@register_objective("pcl")
def pcl(context: Context, *, form: str = "mlp", width: int = 16) -> PCL:
    """PCL: a logistic regression sum_i B_i(z_t,i, z_t+1,i) tells consecutive pairs from permuted ones."""
    return PCL(context.latent_dim, form, width)


# --- the supervised references of verdicts -------------------------------------------------------


@register_objective("supervised")
def supervised(context: Context) -> Supervised:
    """Regress the true latents: the supervised reference of a verdict, not a self-supervised method."""
    return Supervised()


@register_objective("supervised-filter")
def supervised_filter(context: Context) -> SupervisedFilter:
    """Regress the true latents from a Kalman filter's state: the reference of a filter's verdict."""
    return SupervisedFilter(context.latent_dim)


# --- outside a run -------------------------------------------------------------------------------


class _Sizes(Process):
    """What a builder reads of a process, given by hand (``preset``): sizes only."""

    def __init__(self, latent_dim: int, observed_dim: int | None, action_dim: int | None) -> None:
        self.latent_dim, self.action_dim, self._observed_dim = latent_dim, action_dim, observed_dim

    @property
    def observed_shape(self) -> tuple[int, ...]:  # type: ignore[override]
        if self._observed_dim is None:
            raise SettingError("observed_dim", "this objective models the observations: give their size")
        return (self._observed_dim,)

    def __repr__(self) -> str:
        return f"sizes(latent_dim={self.latent_dim}, observed_dim={self._observed_dim}, action_dim={self.action_dim})"


def preset(name: str, dim: int, *, seed: int = 0, action_dim: int | None = None, observed_dim: int | None = None,
           **settings: Any) -> nn.Module:
    """The objective registered as ``name`` for codes of dimension ``dim``, built outside a run: with
    ``settings`` (``OBJECTIVES[name].settings`` lists them; the rest take their defaults, none derived
    from data), its own noise drawn from the ``seed``'s "objective" stream as in a run of that seed;
    ``action_dim`` where it reads the process's latent action (adassl-oracle), ``observed_dim`` where
    it models observations (simvae)."""
    context = Context(seed=seed, problem_seed=0, data=_Sizes(check_int("dim", dim, low=1), observed_dim, action_dim))
    entry = OBJECTIVES[name]
    return entry.build(context, **entry.resolve(context, settings, OBJECTIVES.kind, derive=False))
