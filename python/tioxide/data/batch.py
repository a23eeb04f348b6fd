"""Batches: images stacked into 5D tensors, and subjects made of such image batches.

What ``SubjectsLoader`` and ``ImagesLoader`` return. A batch keeps one affine
per element and, for subjects, the metadata as lists, so it can be split back
into images and subjects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor

from ._stacking import stack
from .affine import AffineMatrix
from .image import Image, ScalarImage
from .invertible import Invertible

#: Parameters of a per-element record that describe the batch rather than a value.
_BATCH_KEYS = ("_batch_size", "_batched_keys", "_keep")


def batch_record(params: list[dict[str, Any] | None], keep: list[bool] | None) -> dict[str, Any]:
    """The parameters of a transform sampled for each element of a batch, as one record.

    Each name holds a list, one value per element (as TorchIO 2 records them);
    ``_keep`` marks the elements the transform applied to.

    Args:
        params: Each element's parameters, ``None`` where it did not apply.
        keep: Which elements it applied to, or ``None`` for all.
    """
    names = list(dict.fromkeys(name for one in params if one is not None for name in one))
    record: dict[str, Any] = {
        name: [None if one is None else _listed(one.get(name)) for one in params] for name in names
    }
    record["_batch_size"] = len(params)
    record["_batched_keys"] = names
    if keep is not None:
        record["_keep"] = list(keep)
    return record


def _listed(value: Any) -> Any:
    """``value`` with tuples as lists, as TorchIO's per-element values are
    (they come from ``Tensor.tolist()``)."""
    if isinstance(value, tuple | list):
        return [_listed(v) for v in value]
    return value


def is_element_params(params: Any) -> bool:
    """Whether a record's parameters hold one value per element of a batch."""
    return isinstance(params, dict) and "_batched_keys" in params


def _is_element_record(record: Any) -> bool:
    """Whether ``record`` holds one value per element of a batch."""
    return is_element_params(getattr(record, "params", None))


def _element_history(history: list[Any], index: int) -> list[Any]:
    """Element ``index``'s part of a batch's records: per-element records cut
    down to its own parameters, those that skipped it left out."""
    result = []
    for record in history:
        if not _is_element_record(record):
            result.append(record)
            continue
        params = record.params
        size = params.get("_batch_size")
        if size is not None and not 0 <= index < size:
            raise IndexError(
                f"{record.name} was recorded for a batch of {size}; there is no element {index}"
            )
        own = element_params(params, index)
        if own is not None:
            result.append(dataclasses.replace(record, params=own))
    return result


def element_params(params: dict[str, Any], index: int) -> dict[str, Any] | None:
    """Element ``index``'s own parameters in a per-element record's
    parameters (``None`` if the transform skipped it)."""
    keep = params.get("_keep")
    if keep is not None and not keep[index]:
        return None
    names = params["_batched_keys"]
    return {
        name: value[index] if name in names else value
        for name, value in params.items()
        if name not in _BATCH_KEYS
    }


def _has_element_records(history: list[Any]) -> bool:
    return any(_is_element_record(record) for record in history)


_ImagesBatchT = TypeVar("_ImagesBatchT", bound="ImagesBatch")
_SubjectsBatchT = TypeVar("_SubjectsBatchT", bound="SubjectsBatch")


class ImagesBatch(Invertible):
    """Images of equal shape as one ``(B, C, I, J, K)`` tensor, with their affines.

    Args:
        data: The 5D tensor.
        affines: One affine per element.
        image_class: The class of the images the batch splits into.

    Raises:
        ValueError: ``data`` is not 5D, or the number of affines is not ``B``.
    """

    def __init__(
        self,
        data: Tensor,
        affines: list[AffineMatrix],
        *,
        image_class: type[Image] = ScalarImage,
    ) -> None:
        if data.ndim != 5:
            raise ValueError(f"Expected 5D tensor (B, C, I, J, K), got {data.ndim}D")
        if len(affines) != data.shape[0]:
            raise ValueError(f"Expected {data.shape[0]} affines, got {len(affines)}")
        self._data = data
        self._affines = affines
        self._image_class = image_class
        self.applied_transforms = []

    @classmethod
    def from_images(cls: type[_ImagesBatchT], images: Sequence[Image]) -> _ImagesBatchT:
        """Stack images of the same shape (their affines are copied).

        Raises:
            ValueError: No image.
            RuntimeError: The images differ in shape (from ``torch.stack``).
        """
        if not images:
            raise ValueError("Cannot create batch from empty list")
        stacked = stack([image.data for image in images])
        affines = [image.affine.clone() for image in images]
        return cls(stacked, affines, image_class=type(images[0]))

    @property
    def data(self) -> Tensor:
        """The ``(B, C, I, J, K)`` tensor."""
        return self._data

    @data.setter
    def data(self, value: Tensor) -> None:
        if value.ndim != 5:
            raise ValueError(f"Expected 5D tensor, got {value.ndim}D")
        self._data = value

    @property
    def affines(self) -> list[AffineMatrix]:
        """One affine per element."""
        return self._affines

    @property
    def batch_size(self) -> int:
        """``B``."""
        return int(self._data.shape[0])

    @property
    def device(self) -> torch.device:
        """The device of the tensor."""
        return self._data.device

    def to(self: _ImagesBatchT, *args: Any, **kwargs: Any) -> _ImagesBatchT:
        """Move or cast the tensor (as ``Tensor.to``) and the affines; returns ``self``."""
        self._data = self._data.to(*args, **kwargs)
        for affine in self._affines:
            affine.to(*args, **kwargs)
        return self

    def __getitem__(self, index: int) -> Image:
        """Element ``index`` as an image (sharing the batch's memory)."""
        return self._image_class(self._data[index], affine=self._affines[index].clone())

    def __len__(self) -> int:
        return self.batch_size

    def unbatch(self) -> list[Image]:
        """The elements as images."""
        return [self[n] for n in range(self.batch_size)]

    def __repr__(self) -> str:
        b, c, i, j, k = self._data.shape
        return (
            f"ImagesBatch({self._image_class.__name__}, batch_size={b}, shape=({c}, {i}, {j}, {k}))"
        )


class SubjectsBatch(Invertible):
    """Subjects with the same image names, each image name an :class:`ImagesBatch`.

    Image batches are read as ``batch["t1"]`` or ``batch.t1``; metadata is a
    list per name in :attr:`metadata`. Unlike TorchIO, metadata lists are also
    attributes (``batch.patch_location``) when no image has that name.

    Args:
        images: The image batches by name.
        metadata: One list per metadata name, one value per element.
    """

    def __init__(
        self,
        images: dict[str, ImagesBatch],
        *,
        metadata: dict[str, list[Any]] | None = None,
    ) -> None:
        self._images = images
        self._metadata: dict[str, list[Any]] = metadata or {}
        self.applied_transforms = []
        # Per-element history recorded before elements were transformed differently.
        self._per_element_history: list[list[Any]] | None = None

    @classmethod
    def from_subjects(cls: type[_SubjectsBatchT], subjects: Sequence[Any]) -> _SubjectsBatchT:
        """Stack subjects; the first one's image and metadata names are used.

        Raises:
            ValueError: No subject.
            KeyError: A subject lacks an image or metadata name of the first.
        """
        if not subjects:
            raise ValueError("Cannot create batch from empty list")
        first = subjects[0]
        images = {
            name: ImagesBatch.from_images([subject.images[name] for subject in subjects])
            for name in first.images
        }
        metadata = {
            name: [subject.metadata[name] for subject in subjects] for name in first.metadata
        }
        return cls(images, metadata=metadata)

    @property
    def batch_size(self) -> int:
        """``B`` (from the first image batch)."""
        return next(iter(self._images.values())).batch_size

    @property
    def images(self) -> dict[str, ImagesBatch]:
        """The image batches by name."""
        return self._images

    @property
    def metadata(self) -> dict[str, list[Any]]:
        """The metadata, one list per name."""
        return self._metadata

    @property
    def device(self) -> torch.device:
        """The device of the first image batch."""
        return next(iter(self._images.values())).device

    def to(self: _SubjectsBatchT, *args: Any, **kwargs: Any) -> _SubjectsBatchT:
        """Move or cast every image batch; returns ``self``."""
        for batch in self._images.values():
            batch.to(*args, **kwargs)
        return self

    def __getitem__(self, key: str) -> ImagesBatch:
        """The image batch called ``key``."""
        return self._images[key]

    def __getattr__(self, name: str) -> Any:
        """An image batch (or, failing that, a metadata list) by attribute."""
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._images:
            return self._images[name]
        if name in self._metadata:
            return self._metadata[name]
        raise AttributeError(f"SubjectsBatch has no attribute {name!r}")

    def __len__(self) -> int:
        return self.batch_size

    def set_per_element_history(self, histories: list[list[Any]]) -> None:
        """Give each element its own history so far; later records are shared again.

        Raises:
            ValueError: Not one history per element.
        """
        if len(histories) != self.batch_size:
            raise ValueError(
                f"Expected {self.batch_size} per-element histories, got {len(histories)}"
            )
        self._per_element_history = [list(history) for history in histories]
        self.applied_transforms = []

    def clear_history(self) -> None:
        """Forget every recorded transform, per-element ones included."""
        self.applied_transforms = []
        self._per_element_history = None

    def unbatch(self) -> list[Any]:
        """The elements as subjects, each with its history."""
        from .subject import Subject

        subjects = []
        for n in range(self.batch_size):
            entries: dict[str, Any] = {name: batch[n] for name, batch in self._images.items()}
            entries.update({name: values[n] for name, values in self._metadata.items()})
            subject = Subject(**entries)
            prefix = [] if self._per_element_history is None else self._per_element_history[n]
            own = _element_history(self.applied_transforms, n)
            subject.applied_transforms = [*prefix, *own]
            subjects.append(subject)
        return subjects

    def adopt_history(self, source: SubjectsBatch, subjects: Sequence[Any]) -> None:
        """Take over ``source``'s history after its elements were unbatched,
        processed and stacked again into this batch.

        Args:
            source: The batch the subjects came from.
            subjects: The processed subjects, in batch order: if ``source``
                had per-element histories, theirs are kept.
        """
        if source._per_element_history is not None:
            self.set_per_element_history([subject.applied_transforms for subject in subjects])
        else:
            self.applied_transforms = list(source.applied_transforms)

    def get_inverse_transform(self, *, warn: bool = True, ignore_intensity: bool = False) -> Any:
        """A ``Compose`` undoing the recorded transforms, last first; records
        holding per-element parameters are undone element by element.

        Raises:
            RuntimeError: The elements have histories of their own (a per-element
                ``OneOf``/``SomeOf``): use :meth:`apply_inverse_transform`, which
                inverts each element, or invert the unbatched subjects.
        """
        if self._per_element_history is not None:
            raise RuntimeError(
                "The elements of this batch have histories of their own (a per-element"
                " OneOf or SomeOf), so no single inverse applies to the batch; call"
                " apply_inverse_transform() (which inverts each element) or unbatch()"
                " and invert each subject"
            )
        if not _has_element_records(self.applied_transforms):
            return super().get_inverse_transform(warn=warn, ignore_intensity=ignore_intensity)
        from ..transforms.compose import Compose
        from ..transforms.inverse import InverseEachElement

        histories = [subject.applied_transforms for subject in self.unbatch()]
        each = InverseEachElement(histories, warn=warn, ignore_intensity=ignore_intensity)
        return Compose([each])

    def __repr__(self) -> str:
        names = ", ".join(self._images)
        return f"SubjectsBatch(batch_size={self.batch_size}, images=[{names}])"


#: The same class under the DICOM name (see :data:`tioxide.Study`).
StudiesBatch = SubjectsBatch
