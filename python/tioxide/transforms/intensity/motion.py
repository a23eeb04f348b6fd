"""``Motion``: k-space segments acquired at different head positions (MRI motion artefact)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...data.subject import Subject
from ..parameter_range import to_range
from ..transform import IntensityTransform, replace_image

RigidTransform = dict[str, tuple[float, float, float]]


def _rotation(degrees: Tensor) -> Tensor:
    """``Rz @ Ry @ Rx`` (float32) of Euler angles in degrees."""
    x, y, z = torch.deg2rad(degrees)
    one, zero = torch.ones(()), torch.zeros(())
    rx = torch.stack([one, zero, zero, zero, x.cos(), -x.sin(), zero, x.sin(), x.cos()])
    ry = torch.stack([y.cos(), zero, y.sin(), zero, one, zero, -y.sin(), zero, y.cos()])
    rz = torch.stack([z.cos(), -z.sin(), zero, z.sin(), z.cos(), zero, zero, zero, one])
    # As a batch of one: batched and plain matrix products round differently
    # on some CPUs (AVX-512), and TorchIO multiplies batches.
    product = rz.reshape(1, 3, 3) @ ry.reshape(1, 3, 3) @ rx.reshape(1, 3, 3)
    return product[0]


def _moved(data: Tensor, motion: RigidTransform) -> Tensor:
    """``(C, I, J, K)`` float data rotated and translated (mm as voxels) about the centre."""
    channels, *shape = data.shape
    degrees = torch.as_tensor(motion["degrees"], dtype=torch.float32)
    translation = torch.as_tensor(motion["translation"], dtype=torch.float32)
    theta = torch.zeros(1, 3, 4)
    theta[0, :, :3] = _rotation(degrees)
    theta[0, :, 3] = translation / (torch.as_tensor(shape, dtype=torch.float32) / 2)
    grid = torch.nn.functional.affine_grid(theta, [1, 1, *shape], align_corners=True)
    sampled = torch.nn.functional.grid_sample(
        data.unsqueeze(1),
        grid.expand(channels, -1, -1, -1, -1),
        mode="bilinear",
        padding_mode="zeros",
        align_corners=True,
    )
    return sampled[:, 0]


def add_motion(data: Tensor, motions: list[RigidTransform]) -> Tensor:
    """Replace k-space segments (along the first axis) with those of moved copies.

    Raises:
        ValueError: The first axis is too short for one segment per position.
    """
    if not motions:
        return data
    values = data.float()
    segments = len(motions) + 1
    length = values.shape[1]
    size = length // segments
    if size == 0:
        raise ValueError(
            f"Cannot split {length} k-space slices into {segments} motion segments; reduce"
            " num_transforms or use a larger image along the first spatial axis."
        )
    spectrum = torch.fft.fftn(values, dim=(-3, -2, -1))
    for index, motion in enumerate(motions, start=1):
        moved = torch.fft.fftn(_moved(values, motion), dim=(-3, -2, -1))
        end = length if index == segments - 1 else (index + 1) * size
        spectrum[:, index * size : end] = moved[:, index * size : end]
    result: Tensor = torch.fft.ifftn(spectrum, dim=(-3, -2, -1)).real
    return result.to(data.dtype)


class Motion(IntensityTransform):
    """Simulate motion during an MRI acquisition: ghosts and blur.

    k-space is split into ``num_transforms + 1`` segments along the first
    axis; every segment but the first comes from the image moved by a random
    rigid transform.

    Args:
        degrees: Rotation angles (a value or a range to draw them from).
        translation: Translations in voxels (a value or a range).
        num_transforms: How many positions besides the first.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: ``num_transforms`` is not a positive int.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True
    _DRAWS_FOR_SKIPPED = False

    def __init__(
        self,
        *,
        degrees: Any = 10.0,
        translation: Any = 10.0,
        num_transforms: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.degrees = to_range(degrees)
        self.translation = to_range(translation)
        if (
            isinstance(num_transforms, bool)
            or not isinstance(num_transforms, int)
            or (num_transforms < 1)
        ):
            raise ValueError(f"num_transforms must be a positive int, got {num_transforms}")
        self.num_transforms = num_transforms

    def make_params(self, subject: Subject) -> dict[str, Any]:
        motions = [
            {"degrees": self.degrees.sample(), "translation": self.translation.sample()}
            for _ in range(self.num_transforms)
        ]
        return {"transforms": motions}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            moved = add_motion(image.data, params["transforms"])
            replace_image(subject, name, image.new_like(data=moved))
        return subject
