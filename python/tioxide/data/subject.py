"""``Subject``: named images, points and bounding boxes of one case, plus metadata."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
import torch

from .bboxes import BoundingBoxes
from .image import Image
from .invertible import Invertible
from .points import Points

_Self = TypeVar("_Self", bound="Subject")
_Entry = Image | Points | BoundingBoxes


class Subject(Invertible):
    """The data of one case: images, points and boxes by name, and metadata.

    Keyword arguments are sorted by type: :class:`Image` values (scalar images
    and label maps) are images, :class:`Points` and :class:`BoundingBoxes`
    values are annotations, and anything else is metadata. Entries are read as
    ``subject["t1"]`` or ``subject.t1``; iterating, ``len`` and ``in`` see the
    images, points and boxes (not metadata). Indexing with ints and slices
    crops every image the same way.

    Args:
        **kwargs: The entries and metadata.

    Raises:
        ValueError: No keyword argument at all.

    Examples:
        >>> import torch, tioxide as tio
        >>> subject = tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 4, 4, 4)), age=45)
        >>> subject.spatial_shape, subject.age, list(subject)
        ((4, 4, 4), 45, ['t1'])
    """

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs:
            raise ValueError("A Subject must contain at least one entry")
        self._images: dict[str, Image] = {}
        self._points: dict[str, Points] = {}
        self._bounding_boxes: dict[str, BoundingBoxes] = {}
        self._metadata: dict[str, Any] = {}
        for name, value in kwargs.items():
            if isinstance(value, Image):
                self._images[name] = value
            elif isinstance(value, Points):
                self._points[name] = value
            elif isinstance(value, BoundingBoxes):
                self._bounding_boxes[name] = value
            else:
                self._metadata[name] = value
        self.applied_transforms = []

    def _stores(self) -> tuple[dict[str, Any], ...]:
        return (self._images, self._points, self._bounding_boxes)

    # -- access -------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        """An entry or metadata value by attribute (``subject.t1``, ``subject.age``)."""
        if name.startswith("_"):
            raise AttributeError(name)
        for store in (*self._stores(), self._metadata):
            if name in store:
                return store[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __getitem__(self, item: str | int | slice | tuple[Any, ...]) -> Any:
        """An entry by name, or a new subject with every image cropped.

        A spatial index is in ``(I, J, K)`` order (the channels are kept) and
        follows :meth:`Image.__getitem__`; points, boxes, metadata and the
        transform history are carried over unchanged.

        Raises:
            KeyError: A name that is not an image, points or boxes entry.
            RuntimeError: Cropping a subject without images or whose images
                have different spatial shapes.
            TypeError: An index of another type.
        """
        if isinstance(item, str):
            for store in self._stores():
                if item in store:
                    return store[item]
            raise KeyError(item)
        return self._crop(item)

    def __contains__(self, name: object) -> bool:
        return any(name in store for store in self._stores())

    def __iter__(self) -> Iterator[str]:
        for store in self._stores():
            yield from store

    def __len__(self) -> int:
        return sum(len(store) for store in self._stores())

    # -- properties -----------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, Any]:
        """The values that are not images, points or boxes."""
        return self._metadata

    @property
    def images(self) -> dict[str, Image]:
        """The images by name (a new dict)."""
        return dict(self._images)

    @property
    def points(self) -> dict[str, Points]:
        """The point sets by name (a new dict)."""
        return dict(self._points)

    @property
    def bounding_boxes(self) -> dict[str, BoundingBoxes]:
        """The bounding boxes by name (a new dict)."""
        return dict(self._bounding_boxes)

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        """The images' ``(I, J, K)``.

        Raises:
            RuntimeError: Images differ in spatial shape, or there is no image.
        """
        self._check_consistent_attribute("spatial_shape")
        return self._first_image().spatial_shape

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """The images' ``(C, I, J, K)``.

        Raises:
            RuntimeError: Images differ in shape, or there is no image.
        """
        self._check_consistent_attribute("shape")
        return self._first_image().shape

    @property
    def spacing(self) -> tuple[float, float, float]:
        """The images' voxel size.

        Raises:
            RuntimeError: Images differ in spacing (beyond 1e-6), or there is no image.
        """
        self._check_consistent_attribute("spacing")
        return self._first_image().spacing

    @property
    def device(self) -> torch.device:
        """The device of every entry (the CPU for a subject of metadata only).

        Raises:
            RuntimeError: Entries are on different devices.
        """
        devices: list[torch.device] = [
            entry.device for store in self._stores() for entry in store.values()
        ]
        if not devices:
            return torch.device("cpu")
        if any(device != devices[0] for device in devices):
            raise RuntimeError(f"Inconsistent devices: {devices}")
        return devices[0]

    def all_points(self) -> dict[str | tuple[str, str], Points]:
        """Subject points by name, then image points by ``(image_name, points_name)``."""
        result: dict[str | tuple[str, str], Points] = {k: v for k, v in self._points.items()}
        for image_name, image in self._images.items():
            for name, points in image.points.items():
                result[(image_name, name)] = points
        return result

    def all_bounding_boxes(self) -> dict[str | tuple[str, str], BoundingBoxes]:
        """Subject boxes by name, then image boxes by ``(image_name, boxes_name)``."""
        result: dict[str | tuple[str, str], BoundingBoxes] = {
            k: v for k, v in self._bounding_boxes.items()
        }
        for image_name, image in self._images.items():
            for name, boxes in image.bounding_boxes.items():
                result[(image_name, name)] = boxes
        return result

    # -- methods ----------------------------------------------------------------------

    def load(self) -> None:
        """Read every image's voxels into memory."""
        for image in self._images.values():
            image.load()

    def plot(self, **kwargs: Any) -> Any:
        """Plot every image as a row of three orthogonal views (needs ``tioxide[plot]``).

        Images not loaded read only the slices shown. See
        :func:`tioxide.visualization.plot_subject` for the keyword arguments.
        """
        from ..visualization import plot_subject

        return plot_subject(self, **kwargs)

    def to(self: _Self, *args: Any, **kwargs: Any) -> _Self:
        """Move or cast every image, point set and box set; returns ``self``."""
        for store in self._stores():
            for entry in store.values():
                entry.to(*args, **kwargs)
        return self

    def _first_image(self) -> Image:
        # TorchIO lets StopIteration escape here; a RuntimeError says what is wrong.
        for image in self._images.values():
            return image
        raise RuntimeError(f"{self!r} has no images")

    def _check_consistent_attribute(
        self, attribute: str, rtol: float = 1e-6, atol: float = 1e-6
    ) -> None:
        """Raise ``RuntimeError`` if the images disagree on ``attribute``."""
        named = [(name, getattr(image, attribute)) for name, image in self._images.items()]
        if len(named) < 2:
            return
        first_name, first = named[0]
        for name, value in named[1:]:
            if not _all_close(first, value, rtol, atol):
                raise RuntimeError(
                    f"Inconsistent {attribute}: {first_name}={first}, {name}={value}"
                )

    def _crop(self, item: Any) -> Subject:
        if not self._images:
            raise RuntimeError("Cannot spatially slice a Subject with no images")
        self._check_consistent_attribute("spatial_shape")
        if isinstance(item, int | slice) or item is Ellipsis:
            items: tuple[Any, ...] = (item,)
        elif isinstance(item, tuple):
            items = item
        else:
            raise TypeError(f"Index type {type(item).__name__} not understood")
        entries: dict[str, Any] = {
            name: image[(slice(None), *items)] for name, image in self._images.items()
        }
        entries.update(self._points)
        entries.update(self._bounding_boxes)
        entries.update(self._metadata)
        new = type(self)(**entries)
        new.applied_transforms = list(self.applied_transforms)
        return new

    # -- display ----------------------------------------------------------------------

    def __repr__(self) -> str:
        parts = []
        if self._images:
            parts.append(f"images: {tuple(self._images)}")
        if self._points:
            parts.append(f"points: {tuple(self._points)}")
        if self._bounding_boxes:
            parts.append(f"bboxes: {tuple(self._bounding_boxes)}")
        return f"{type(self).__name__}({'; '.join(parts)})"

    def _repr_html_(self) -> str:
        """HTML tables of the subject's entries for Jupyter (see :mod:`.repr_html`)."""
        from .repr_html import subject_to_html

        return subject_to_html(self)


#: DICOM calls a case a study (a set of series); the same class under that name.
Study = Subject


def _all_close(first: Any, value: Any, rtol: float, atol: float) -> bool:
    """``np.allclose(first, value)`` for values of one shape (``False`` if the
    shapes differ); tuples of numbers, such as every patch's spatial shape,
    without numpy's cost (about 60 us a call)."""
    if isinstance(first, tuple) and isinstance(value, tuple):
        plain = (int, float)
        if all(type(v) in plain for v in first) and all(type(v) in plain for v in value):
            return len(first) == len(value) and all(
                a == b
                or (math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(b))
                for a, b in zip(first, value, strict=True)
            )
    if np.shape(first) != np.shape(value):
        return False
    return bool(np.allclose(first, value, rtol=rtol, atol=atol))
