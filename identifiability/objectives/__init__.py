"""Objectives: latent distribution matching with two dials, a latent model P_theta(z' | z) and an
entropy estimator H; the named SSL methods are settings of them, registered by name in
``identifiability.parts.objectives``."""

from .adassl import AdaSSL, OracleEdit, gaussian_kl, straight_through_bernoulli
from .base import INPUTS, Objective, consecutive_pairs
from .entropy import KDE, KNN, EntropyEstimator, FlowExact, LogDet, NoEntropy, StopGradient, VarianceCovariance
from .entropy_reconstruction import EntropyReconstruction
from .heteroscedastic import HeteroscedasticInfoNCE
from .kalman_filter import KalmanFilterLDM
from .latent_models import KalmanGain, KalmanPredictive, LatentModel, NonlinearPredictive, Plane, Sphere
from .ldm import LDM
from .pcl import PCL
from .simvae import SimVAE
from .tcl import TCL

__all__ = [
    "AdaSSL",
    "EntropyReconstruction",
    "HeteroscedasticInfoNCE",
    "INPUTS",
    "Objective",
    "OracleEdit",
    "PCL",
    "SimVAE",
    "TCL",
    "gaussian_kl",
    "straight_through_bernoulli",
    "KDE",
    "KNN",
    "LDM",
    "EntropyEstimator",
    "FlowExact",
    "KalmanFilterLDM",
    "KalmanGain",
    "KalmanPredictive",
    "LatentModel",
    "LogDet",
    "NoEntropy",
    "NonlinearPredictive",
    "Plane",
    "Sphere",
    "StopGradient",
    "VarianceCovariance",
    "consecutive_pairs",
]
