"""Encoders f: x -> z_hat."""

from .mlp import MLPEncoder

__all__ = ["MLPEncoder"]
