"""A vectorised, differentiable Gaussian-splat rasteriser."""

from __future__ import annotations

import torch


def pixel_centres(size: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(size,) pixel centre coordinates, unit spacing, centred on 0 (e.g. -4.5 ... 4.5 for 10)."""
    return torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2


def render_splats(positions: torch.Tensor, colours: torch.Tensor, size: int, width: float) -> torch.Tensor:
    """Render isotropic Gaussian blobs.

    Args:
        positions: (..., J, 2) blob centres (x, y) in pixel units around the image centre.
        colours: (J, C) channel intensities of each blob.
        size: H = W.
        width: blob standard deviation in pixels.

    Returns:
        (..., C, H, W) images: sum_j colour_j exp(-|pixel - position_j|^2 / (2 width^2)). The
        Gaussian is separable, so the cost is one (H x J) by (J x W) product per channel.
    """
    grid = pixel_centres(size, positions.device, positions.dtype)
    gx = torch.exp(-((grid - positions[..., 0:1]) ** 2) / (2 * width**2))  # (..., J, W)
    gy = torch.exp(-((grid - positions[..., 1:2]) ** 2) / (2 * width**2))  # (..., J, H)
    return torch.einsum("...jh,...jw,jc->...chw", gy, gx, colours.to(positions))
