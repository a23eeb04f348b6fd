"""Crop, pad, flip and permute one image: eagerly on its tensor, or lazily on its file.

An image that is not loaded and whose backend reads regions gets a new image
of the same file whose backend is a :class:`RegionView`: nothing is read until
the data is needed, and then only the kept voxels. Loaded images (and images
a plain custom reader must load whole) are changed on their tensor. Both
paths compute the affine the same way and give equal tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ...data.affine import AffineMatrix
from ...data.image import Image
from ._padding import pad_tensor
from ._view import RegionView

Six = tuple[int, int, int, int, int, int]


def _view_of(image: Image) -> RegionView | None:
    """The view to build on, if ``image`` can be changed without reading it."""
    if image.is_loaded or image._channels_last or not image._has_source():
        return None
    if not image._reads_lazily():
        return None
    image._ensure_backend()
    backend = image._backend
    if backend is None:
        return None
    return RegionView.of(backend, image.affine.data)


def _image_of_view(image: Image, view: RegionView) -> Image:
    """A new unloaded image of ``image``'s source, reading through ``view``."""
    sources = (image._path, image._remote_zarr_uri, image._zarr_store, image._stream)
    source = next(s for s in sources if s is not None)
    points, boxes = image._copy_annotations()
    new = type(image)(
        source,
        reader=image._reader,
        reader_kwargs=dict(image._reader_kwargs),
        affine=AffineMatrix(view.affine),
        points=points,
        bounding_boxes=boxes,
        **image.metadata,
    )
    new._backend = view
    return new


def _apply(
    image: Image,
    affine: Tensor,
    eager: Callable[[Tensor], Tensor],
    lazy: Callable[[RegionView], RegionView],
) -> Image:
    view = _view_of(image)
    if view is not None:
        return _image_of_view(image, lazy(view))
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
