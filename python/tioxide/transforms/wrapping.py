"""Turn any transform input into a :class:`Subject` and the result back into the input's type.

Transforms work on subjects. An :class:`Image` becomes a one-image subject
that carries the image's history; tensors, numpy arrays, ``SimpleITK`` and
``nibabel`` images become a :class:`ScalarImage` in such a subject; a dict
(MONAI style) becomes a subject of its entries. The unwrap function returns
the same kind of object as was given.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..data import sources
from ..data.image import Image, ScalarImage
from ..data.sitk_backend import import_sitk
from ..data.subject import Subject

#: The name under which a lone image travels through a transform (as in TorchIO).
DEFAULT_IMAGE_NAME = "tio_default_image"

Unwrap = Callable[[Subject], Any]


def wrap(data: Any) -> tuple[Subject, Unwrap]:
    """A subject to transform and the function that turns it back into ``data``'s type.

    Raises:
        TypeError: ``data`` is of a type transforms do not accept.
    """
    if isinstance(data, Subject):
        return data, _same
    if isinstance(data, Image):
        return _single(data), _to_image
    if isinstance(data, dict):
        return _wrap_dict(data)
    if isinstance(data, Tensor):
        return _single(ScalarImage(data)), _to_tensor
    if isinstance(data, np.ndarray):
        # TorchIO computes on float32 copies of arrays and accepts 3D ones.
        tensor = torch.as_tensor(data.copy(), dtype=torch.float32)
        if tensor.ndim == 3:
            tensor = tensor.unsqueeze(0)
        return _single(ScalarImage(tensor)), _to_numpy
    if sources.is_sitk_image(data):
        return _single(ScalarImage(data)), _to_sitk
    if sources.is_nibabel_image(data):
        return _single(ScalarImage(data)), _to_nibabel
    raise TypeError(
        "Expected Subject, Image, Tensor, ndarray, dict, SimpleITK Image or NIfTI image,"
        f" got {type(data).__name__}"
    )


def _single(image: Image) -> Subject:
    subject = Subject(**{DEFAULT_IMAGE_NAME: image})
    subject.applied_transforms = list(image.applied_transforms)
    return subject


def _same(subject: Subject) -> Subject:
    return subject


def _default_image(subject: Subject) -> Image:
    image: Image = subject[DEFAULT_IMAGE_NAME]
    return image


def _to_image(subject: Subject) -> Image:
    image = _default_image(subject)
    image.applied_transforms = list(subject.applied_transforms)
    return image


def _to_tensor(subject: Subject) -> Tensor:
    return _default_image(subject).data


def _to_numpy(subject: Subject) -> np.ndarray[Any, Any]:
    return _default_image(subject).data.cpu().numpy()


def _channels_last_array(image: Image) -> np.ndarray[Any, Any]:
    array = image.data.cpu().numpy()
    return array[0] if array.shape[0] == 1 else np.moveaxis(array, 0, -1)


def _to_sitk(subject: Subject) -> Any:
    sitk: Any = import_sitk()
    image = _default_image(subject)
    array = _channels_last_array(image)
    # The inverse of reading a SimpleITK image (tioxide.data.sitk_backend): SimpleITK
    # arrays are (K, J, I[, C]) and its geometry is LPS+, the image's is RAS+.
    # (TorchIO 2.0.0a2 skips both conversions, so its round trip moves the image.)
    array = np.ascontiguousarray(np.swapaxes(array, 0, 2))
    result = sitk.GetImageFromArray(array, isVector=image.num_channels > 1)
    lps = np.diag([-1.0, -1.0, 1.0]) @ image.affine.numpy()[:3]
    spacing = np.linalg.norm(lps[:, :3], axis=0)
    result.SetSpacing(spacing.tolist())
    result.SetOrigin(lps[:, 3].tolist())
    result.SetDirection((lps[:, :3] / spacing).reshape(-1).tolist())
    return result


def _to_nibabel(subject: Subject) -> Any:
    nib: Any = importlib.import_module("nibabel")
    image = _default_image(subject)
    return nib.Nifti1Image(_channels_last_array(image), image.affine.numpy())


def _wrap_dict(data: dict[Any, Any]) -> tuple[Subject, Unwrap]:
    entries = {
        str(key): ScalarImage(value) if isinstance(value, Tensor) else value
        for key, value in data.items()
    }
    keys = list(entries)

    def unwrap(subject: Subject) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key in keys:
            value = subject[key] if key in subject else subject.metadata.get(key)
            result[key] = value.data if isinstance(value, Image) else value
        return result

    return Subject(**entries), unwrap
