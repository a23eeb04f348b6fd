"""MONAI transforms inside tioxide pipelines."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import torch

from ..data.affine import AffineMatrix
from ..data.image import Image, ScalarImage
from ..data.subject import Subject
from ..external.imports import get_monai
from .transform import Transform, check_callable, replace_image


class MonaiAdapter(Transform):
    """Run a MONAI transform on a subject, as one of tioxide's.

    A dictionary transform (a MONAI ``MapTransform`` such as
    ``NormalizeIntensityd``) gets the subject as a dictionary: every image as
    a ``MetaTensor`` (voxels and affine) under its name, and the subject's
    metadata. The images it returns replace the subject's.

    Any other callable is an array transform: it gets each
    :class:`~tioxide.ScalarImage` the ``include``/``exclude`` arguments
    select, one at a time, as a ``MetaTensor``.

    An affine the transform changes is kept. MONAI transforms cannot be
    replayed, so the adapter leaves no entry in the history.

    Args:
        monai_transform: The MONAI transform (MONAI must be installed:
            ``pip install monai``).
        **kwargs: See :class:`~tioxide.Transform`.

    Raises:
        TypeError: ``monai_transform`` is not callable, or its result is not
            a tensor (array transforms) or a mapping (dictionary transforms).
        ImportError: MONAI is not installed (when the transform is applied).
    """

    _RECORDED = False

    def __init__(self, monai_transform: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_callable(monai_transform, "monai_transform")
        self.monai_transform = monai_transform

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        monai = get_monai()
        if isinstance(self.monai_transform, monai.transforms.MapTransform):
            self._apply_to_dictionary(subject, monai)
        else:
            self._apply_to_arrays(subject, monai)
        return subject

    def _apply_to_arrays(self, subject: Subject, monai: ModuleType) -> None:
        names = [n for n, im in self._get_images(subject).items() if isinstance(im, ScalarImage)]
        if len(names) > 1 and isinstance(self.monai_transform, monai.transforms.Randomizable):
            warnings.warn(
                "A random MONAI array transform draws new parameters for each of the "
                f"{len(names)} images, which may misalign them; its dictionary version "
                "(e.g. RandFlipd for RandFlip) applies one draw to all",
                UserWarning,
                stacklevel=2,
            )
        for name in names:
            image = subject.images[name]
            result = self.monai_transform(_meta_tensor(image, monai))
            if not isinstance(result, torch.Tensor):
                raise TypeError(
                    f"the MONAI transform returned {type(result).__name__} for image "
                    f"{name!r}, expected a tensor"
                )
            replace_image(subject, name, _updated(image, result, monai))

    def _apply_to_dictionary(self, subject: Subject, monai: ModuleType) -> None:
        given: dict[str, Any] = {n: _meta_tensor(im, monai) for n, im in subject.images.items()}
        given.update(subject.metadata)
        result = self.monai_transform(given)
        if not isinstance(result, Mapping):
            raise TypeError(
                f"the MONAI dictionary transform returned {type(result).__name__}, "
                "expected a mapping"
            )
        for name, image in list(subject.images.items()):
            value = result.get(name)
            if isinstance(value, torch.Tensor):
                replace_image(subject, name, _updated(image, value, monai))


def _meta_tensor(image: Image, monai: ModuleType) -> Any:
    affine = image.affine.data.to(device=image.data.device)
    return monai.data.MetaTensor(image.data, affine=affine)


def _updated(image: Image, result: torch.Tensor, monai: ModuleType) -> Image:
    """``image`` with the voxels (and, from a ``MetaTensor``, the affine) of ``result``."""
    if not isinstance(result, monai.data.MetaTensor):
        return image.new_like(data=result)
    affine = result.affine.detach().cpu().to(torch.float64)
    data = result.as_tensor()
    if torch.equal(affine, image.affine.data.cpu()):
        return image.new_like(data=data)
    return image.new_like(data=data, affine=AffineMatrix(affine))
