"""``ToReferenceSpace``: place images (e.g. network outputs) in a reference image's space."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from ...data.affine import AffineMatrix
from ...data.image import Image
from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image
from . import _ops


def reference_space_affine(reference: Image, shape: tuple[int, int, int]) -> AffineMatrix:
    """The affine of a grid of ``shape`` voxels covering ``reference``'s field of view."""
    affine = reference.affine
    direction = affine.direction.cpu().numpy().astype(np.float64)
    old_spacing = np.asarray(affine.spacing, dtype=np.float64)
    old_shape = np.asarray(reference.spatial_shape, dtype=np.float64)
    new_shape = np.asarray(shape, dtype=np.float64)
    new_spacing = old_spacing * (old_shape / new_shape)
    centre = np.asarray(affine.origin) + direction @ ((old_shape - 1) / 2 * old_spacing)
    matrix = np.eye(4)
    matrix[:3, :3] = direction * new_spacing
    matrix[:3, 3] = centre - direction @ ((new_shape - 1) / 2 * new_spacing)
    return AffineMatrix(matrix)


class ToReferenceSpace(SpatialTransform):
    """Give images the affine that spreads their voxels over ``reference``'s field of view.

    Useful to put a (lower resolution) network output back in the space of
    the input. The voxels are not changed.

    Args:
        reference: The image whose space is used.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        TypeError: ``reference`` is not an :class:`~tioxide.Image`.
    """

    def __init__(self, reference: Image, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(reference, Image):
            got = type(reference).__name__
            raise TypeError(f"reference must be a TorchIO Image (a tioxide Image), got {got}")
        self.reference = reference

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            affine = reference_space_affine(self.reference, image.spatial_shape)
            replace_image(subject, name, _ops.with_affine(image, affine.data.clone()))
        return subject

    @staticmethod
    def from_tensor(tensor: Tensor, reference: Image) -> Image:
        """An image of ``reference``'s class holding ``tensor`` in ``reference``'s space."""
        shape = (int(tensor.shape[-3]), int(tensor.shape[-2]), int(tensor.shape[-1]))
        return type(reference)(tensor, affine=reference_space_affine(reference, shape))
