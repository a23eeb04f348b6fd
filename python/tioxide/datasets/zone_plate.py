"""A synthetic volume of concentric rings of rising frequency."""

from __future__ import annotations

import numpy as np

from ..data.image import ScalarImage
from ..data.subject import Subject


class ZonePlate(Subject):
    """A 3-D zone plate: ``sin(k r^2)`` rings whose frequency rises with the
    radius ``r``, fading out towards the edge (Jähne, *Practical Handbook on
    Image Processing for Scientific Applications*, eq. 10.63). Aliasing shows
    at once in it, which makes it a test image for resampling and filters.

    Args:
        size: Voxels along each axis (at least 3).

    Raises:
        ValueError: ``size`` is below 3.
    """

    def __init__(self, size: int = 501) -> None:
        if size < 3:
            raise ValueError(f"Size must be at least 3, got {size}")
        self.size = size
        super().__init__(image=_zone_plate(size))


def _zone_plate(size: int) -> ScalarImage:
    # Coordinates centred on 0; an even size has one more positive index.
    last = size // 2
    first = last - size + 1
    axis = np.arange(first, last + 1)
    # meshgrid's default "xy" indexing swaps the first two axes; the volume
    # is symmetric in them, but the order is kept to equal TorchIO's bits.
    xx, yy, zz = np.meshgrid(axis, axis, axis)
    radius = np.sqrt(xx**2 + yy**2 + zz**2)
    edge = float(first)  # negative: the rings' scale and the fade's centre
    rings = np.sin(0.8 * np.pi * radius**2 / (2 * edge))
    fade = 0.5 * np.tanh((edge - radius) / (edge / 10)) + 0.5
    affine = np.eye(4)
    affine[:3, 3] = first
    return ScalarImage((rings * fade)[np.newaxis], affine=affine)
