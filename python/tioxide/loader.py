"""Data loaders that collate subjects and images into batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch.utils.data import DataLoader, Dataset

from .data.batch import ImagesBatch, SubjectsBatch


def collate_subjects(batch: Sequence[Any]) -> SubjectsBatch:
    """Stack subjects into a :class:`SubjectsBatch` (a ``collate_fn`` for ``DataLoader``)."""
    return SubjectsBatch.from_subjects(list(batch))


def collate_images(batch: Sequence[Any]) -> ImagesBatch:
    """Stack images into an :class:`ImagesBatch` (a ``collate_fn`` for ``DataLoader``)."""
    return ImagesBatch.from_images(list(batch))


def _refuse_collate_fn(kwargs: dict[str, Any], loader: str) -> None:
    if "collate_fn" in kwargs:
        raise ValueError(
            f"{loader} sets collate_fn itself; use a torch DataLoader for another collate_fn"
        )


class SubjectsLoader(DataLoader[Any]):
    """A ``DataLoader`` whose batches are :class:`SubjectsBatch` es.

    Args:
        dataset: A dataset of subjects (a :class:`Queue`, a :class:`GridSampler` …).
        **kwargs: ``DataLoader`` arguments, except ``collate_fn``.

    Raises:
        ValueError: ``collate_fn`` is given.
    """

    def __init__(self, dataset: Dataset[Any], **kwargs: Any) -> None:
        _refuse_collate_fn(kwargs, "SubjectsLoader")
        super().__init__(dataset, collate_fn=collate_subjects, **kwargs)


class ImagesLoader(DataLoader[Any]):
    """A ``DataLoader`` whose batches are :class:`ImagesBatch` es.

    Args:
        dataset: A dataset of images.
        **kwargs: ``DataLoader`` arguments, except ``collate_fn``.

    Raises:
        ValueError: ``collate_fn`` is given.
    """

    def __init__(self, dataset: Dataset[Any], **kwargs: Any) -> None:
        _refuse_collate_fn(kwargs, "ImagesLoader")
        super().__init__(dataset, collate_fn=collate_images, **kwargs)


#: The same names for studies (see :data:`tioxide.Study`).
StudiesLoader = SubjectsLoader
collate_studies = collate_subjects
