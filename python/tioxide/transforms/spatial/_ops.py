"""Crop, pad, flip and permute one image on its tensor; the new affine is computed here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ...data.affine import AffineMatrix
from ...data.image import Image
from ._padding import pad_tensor

Six = tuple[int, int, int, int, int, int]


def _apply(
    image: Image,
    affine: Tensor,
    eager: Callable[[Tensor], Tensor],
    lazy: Callable[[Any], Any],
) -> Image:
    return image.new_like(data=eager(image.data), affine=AffineMatrix(affine))


def _shifted(image: Image, voxels: tuple[int, int, int]) -> Tensor:
    """The affine with its origin moved to voxel ``voxels``."""
    matrix = image.affine.data.clone()
    matrix[:3, 3] += matrix[:3, :3] @ matrix.new_tensor([float(v) for v in voxels])
    return matrix


def crop_bounds(shape: tuple[int, int, int], cropping: Six) -> list[tuple[int, int]]:
    """The kept ``(start, stop)`` per axis, as TorchIO slices ``[ini : size - fin or None]``."""
    bounds = []
    for n, size in enumerate(shape):
        ini, fin = cropping[2 * n], cropping[2 * n + 1]
        start, stop, _ = slice(ini, size - fin or None).indices(size)
        bounds.append((start, max(start, stop)))
    return bounds


def crop(image: Image, cropping: Six) -> Image:
    """Remove ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)`` voxels; the origin follows."""
    affine = _shifted(image, (cropping[0], cropping[2], cropping[4]))
    bounds = crop_bounds(image.spatial_shape, cropping)
    index = tuple(slice(lo, hi) for lo, hi in bounds)
    return _apply(
        image,
        affine,
        lambda data: data[(slice(None), *index)],
        lambda view: view.cropped(bounds, affine),
    )


def pad(image: Image, padding: Six, mode: str, fill: float) -> Image:
    """Add ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)`` voxels; the origin follows."""
    affine = _shifted(image, (-padding[0], -padding[2], -padding[4]))

    return _apply(
        image,
        affine,
        lambda data: pad_tensor(data, padding, mode, fill),
        lambda view: view.padded(padding, mode, fill, affine),
    )


def flip(image: Image, axes: tuple[int, ...]) -> Image:
    """Reverse the voxels along spatial ``axes``; the affine is kept (as in TorchIO)."""
    affine = image.affine.data.clone()
    dims = [1 + a for a in axes]
    return _apply(
        image,
        affine,
        lambda data: torch.flip(data, dims),
        lambda view: view.flipped(axes, affine),
    )


def permute(image: Image, order: tuple[int, int, int], affine: Tensor) -> Image:
    """Spatial axis ``n`` becomes axis ``order[n]``, with the new ``affine``."""
    return _apply(
        image,
        affine,
        lambda data: data.permute(0, *(1 + n for n in order)).contiguous(),
        lambda view: view.permuted(order, affine),
    )


def with_affine(image: Image, affine: Tensor) -> Image:
    """The same voxels with another affine (an unloaded image stays unloaded)."""
    return _apply(image, affine, lambda data: data, lambda view: view.permuted((0, 1, 2), affine))
