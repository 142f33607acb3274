"""Encoders f: x -> z_hat, all behind one interface (``Encoder``): flows with decoders and log-volume
terms, and the plain baselines."""

from .base import Encoder, Flattened, NotInvertibleError
from .bijection import Bijection, Standardize, ZukoBijection
from .conv import ConvEncoder
from .flows import BijectiveFlow, InjectiveFlow
from .log_volume import decoder_jacobian, estimated_log_volume, exact_log_volume
from .mlp import LinearEncoder, MLPEncoder
from .normflows_adapter import NormflowsBijection, from_normflows
from .whitening import Whitening

__all__ = [
    "Bijection",
    "BijectiveFlow",
    "ConvEncoder",
    "Encoder",
    "Flattened",
    "InjectiveFlow",
    "LinearEncoder",
    "MLPEncoder",
    "NormflowsBijection",
    "NotInvertibleError",
    "Standardize",
    "Whitening",
    "ZukoBijection",
    "decoder_jacobian",
    "estimated_log_volume",
    "exact_log_volume",
    "from_normflows",
]
