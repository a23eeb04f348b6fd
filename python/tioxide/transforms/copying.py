"""The copy a transform makes of its input (``copy=True``), without copying voxels needlessly.

``copy=True`` promises that the input is never changed and that the output
shares nothing with it. A deep copy keeps that promise by cloning every
tensor first, although most transforms then build new tensors anyway. The
built-in transforms never write into the tensors they are given, so for them
the input is copied with its tensors shared; afterwards only the output
tensors that still share memory with the input (a crop is a view, an
excluded image is untouched) are cloned, and only the voxels they hold.
User-defined transforms, which may write in place, get a deep copy.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Iterator
from typing import Any

from torch import Tensor

from ..data.image import Image
from ..data.subject import Subject


@contextlib.contextmanager
def copy_off(transform: Any) -> Iterator[None]:
    """The transform's ``copy`` switched off meanwhile (the caller copied the
    input once already; TorchIO's compositions do the same to their children,
    which may look at it)."""
    saved = transform.copy
    transform.copy = False
    try:
        yield
    finally:
        transform.copy = saved


def call_without_copy(transform: Any, data: Any) -> Any:
    """``transform(data)`` with the transform's ``copy`` off for the call."""
    with copy_off(transform):
        return transform(data)


def writes_nothing(transform: Any) -> bool:
    """Whether ``transform`` (and every transform it contains) is a built-in one."""
    if not type(transform).__module__.startswith("tioxide.transforms."):
        return False
    children = getattr(transform, "transforms", None)
    return children is None or all(writes_nothing(child) for child in children)


def _image_sharing_voxels(image: Image) -> Image:
    """A copy of ``image`` whose tensor (if loaded) is the same object."""
    new = object.__new__(type(image))
    new.__dict__.update(image.__dict__)
    new._metadata = copy.deepcopy(image._metadata)
    new._reader_kwargs = dict(image._reader_kwargs)
    new._affine = None if image._affine is None else image._affine.clone()
    new._points, new._bounding_boxes = image._copy_annotations()
    new.applied_transforms = copy.deepcopy(image.applied_transforms)
    if image._backend is not None:
        new._backend = copy.copy(image._backend)
    return new


def copy_sharing_voxels(data: Any) -> tuple[Any, list[int]] | None:
    """A copy of a subject, image or tensor sharing its voxels, and the storages shared.

    Returns ``None`` for other inputs (they are deep-copied instead).
    """
    if isinstance(data, Tensor):
        return data, [_storage(data)]
    if isinstance(data, Image):
        return _image_sharing_voxels(data), _storages([data])
    if isinstance(data, Subject):
        images = data.images.values()
        # The deep copy of everything else meets the images in the memo.
        memo: dict[int, Any] = {id(image): _image_sharing_voxels(image) for image in images}
        return copy.deepcopy(data, memo), _storages(images)
    return None


def copy_input(transform: Any, data: Any) -> tuple[Any, list[int]]:
    """The copy ``transform`` works on, and the input storages its output must not share."""
    if writes_nothing(transform):
        shared = copy_sharing_voxels(data)
        if shared is not None:
            return shared
    return copy.deepcopy(data), []


def unshare(result: Any, storages: list[int]) -> Any:
    """Clone the output tensors that share memory with the input."""
    if not storages:
        return result
    shared = set(storages)
    if isinstance(result, Tensor):
        return result.clone() if _storage(result) in shared else result
    images = result.images.values() if isinstance(result, Subject) else [result]
    for image in images:
        if image.is_loaded and _storage(image.data) in shared:
            image.set_data(image.data.clone())
    return result


def _storage(tensor: Tensor) -> int:
    return int(tensor.untyped_storage().data_ptr())


def _storages(images: Iterable[Image]) -> list[int]:
    return [_storage(image.data) for image in images if image.is_loaded]
