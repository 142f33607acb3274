"""Objectives that train encoders on paired or sequential observations."""

from .infonce import InfoNCE

__all__ = ["InfoNCE"]
