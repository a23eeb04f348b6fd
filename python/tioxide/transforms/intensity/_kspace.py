"""The centred 3D Fourier transform of image tensors, for k-space artefacts."""

from __future__ import annotations

import torch
from torch import Tensor

_SPATIAL = (-3, -2, -1)


def to_kspace(data: Tensor) -> Tensor:
    """The centred spectrum of each channel of ``(C, I, J, K)`` (computed in float32)."""
    spectrum: Tensor = torch.fft.fftshift(torch.fft.fftn(data.float(), dim=_SPATIAL), dim=_SPATIAL)
    return spectrum


def from_kspace(spectrum: Tensor, dtype: torch.dtype) -> Tensor:
    """The real part of the image of a centred spectrum, in ``dtype``."""
    image: Tensor = torch.fft.ifftn(torch.fft.ifftshift(spectrum, dim=_SPATIAL), dim=_SPATIAL).real
    return image.to(dtype)
