"""Separable Gaussian smoothing of image tensors (``Blur`` and antialiasing)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _kernel(sigma: float, device: torch.device) -> tuple[Tensor, int]:
    """A normalised 1D Gaussian truncated at 3 sigma (at least one voxel each side)."""
    radius = max(math.ceil(3 * sigma), 1)
    offsets = torch.arange(2 * radius + 1, dtype=torch.float32, device=device) - radius
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum(), radius


def gaussian_smooth(data: Tensor, sigmas: tuple[float, float, float]) -> Tensor:
    """Smooth each channel of ``(C, I, J, K)`` along each axis with ``sigmas`` (in voxels).

    Borders are replicated. The result has ``data``'s dtype (computed in float32).
    """
    if all(s <= 0 for s in sigmas):
        return data
    result = data.float().unsqueeze(1)  # channels as batch: (C, 1, I, J, K)
    for axis, sigma in enumerate(sigmas):
        if sigma <= 0:
            continue
        kernel, radius = _kernel(sigma, data.device)
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = kernel.numel()
        padding = [0] * 6
        padding[2 * (2 - axis)] = padding[2 * (2 - axis) + 1] = radius
        padded = torch.nn.functional.pad(result, padding, mode="replicate")
        result = torch.nn.functional.conv3d(padded, kernel.reshape(shape))
    return result.squeeze(1).to(data.dtype)
