"""Transforms applied to batches (:class:`ImagesBatch`, :class:`SubjectsBatch`).

TorchIO 2 runs every transform on 5D batches. tioxide's transforms work on
subjects, so a batch is split into its elements, each element transformed,
and the results stacked again (stacking makes new tensors, so the output
shares no memory with the input). What is random follows TorchIO's rules:

- A transform that samples per element (``per_instance=True``, the default,
  on a transform whose :attr:`~Transform.supports_per_instance_params` is
  true, in a batch of more than one) draws parameters for every element. Its
  record on the batch holds one value per element, and
  :meth:`SubjectsBatch.unbatch` gives each subject its own.
- Such a transform with per-element probability
  (:attr:`~Transform.supports_per_instance_p`, ``0 < p < 1``) also decides
  for each element whether it applies; otherwise one draw decides for the
  whole batch.
- Any other transform draws one set of parameters and applies it to every
  element; its record is shared.
- ``Compose`` applies its children to the batch in turn. ``OneOf`` and
  ``SomeOf`` with ``per_instance`` choose for each element and give each
  element its own history from then on; without it they choose once.

Parameters are drawn in the order TorchIO draws its vectorised ones
(:meth:`Transform._sample_elements`; Noise and Blur, whose order differs from
element by element, override it), so a seeded batch gets TorchIO's
parameters, and for most transforms its tensors (the README lists where
TorchIO 2.0.0a2 transforms a batch otherwise than its elements).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch

from ..data.batch import ImagesBatch, SubjectsBatch, batch_record
from ..data.subject import Subject
from .copying import call_without_copy
from .wrapping import DEFAULT_IMAGE_NAME

if TYPE_CHECKING:
    from .compose import _Choice
    from .transform import Transform


def is_batch(data: Any) -> bool:
    """Whether transforms treat ``data`` as a batch."""
    return isinstance(data, ImagesBatch | SubjectsBatch)


def transform_batch(transform: Transform, data: ImagesBatch | SubjectsBatch) -> Any:
    """``transform`` applied to a batch; the result is a batch of the same kind."""
    if transform.copy:
        data = copy.deepcopy(data)
    if isinstance(data, SubjectsBatch):
        return _apply(transform, data)
    batch = SubjectsBatch({DEFAULT_IMAGE_NAME: data})
    batch.applied_transforms = list(data.applied_transforms)
    result = _apply(transform, batch)
    images: ImagesBatch = result[DEFAULT_IMAGE_NAME]
    images.applied_transforms = list(result.applied_transforms)
    return images


def _apply(transform: Transform, batch: SubjectsBatch) -> SubjectsBatch:
    from .compose import Compose, _Choice

    if isinstance(transform, Compose):
        for child in transform.transforms:
            batch = _apply_child(child, batch)
        return batch
    if isinstance(transform, _Choice):
        if transform.per_instance and batch.batch_size > 1:
            return _each_element(transform, batch)
        chosen = transform.choose()
        for child in chosen or []:
            batch = _apply_child(child, batch)
        return batch
    if transform._TAKES_BATCHES:
        return _as_written(transform, batch)
    if not _per_element_params(transform, batch):
        return _shared(transform, batch)
    return _per_element(transform, batch)


def _as_written(transform: Transform, batch: SubjectsBatch) -> SubjectsBatch:
    """A transform written for TorchIO's contract, given the whole batch."""
    # rand < p applies (TorchIO's rule): one draw for the whole batch.
    if torch.rand(1).item() >= transform.p:
        return batch
    result, params = transform._run_as_written(batch)
    transform._remember(result, params)
    return result


def _apply_child(child: Transform, batch: SubjectsBatch) -> SubjectsBatch:
    result = call_without_copy(child, batch)
    if not isinstance(result, SubjectsBatch):
        raise TypeError(f"{type(child).__name__} returned {type(result).__name__} for a batch")
    return result


def _per_element_params(transform: Transform, batch: SubjectsBatch) -> bool:
    return transform._resolve_n(batch) is not None and transform._samples_per_element(batch)


def _per_element_p(transform: Transform, batch: SubjectsBatch) -> bool:
    return bool(
        _per_element_params(transform, batch)
        and transform.supports_per_instance_p
        and 0.0 < transform.p < 1.0
    )


def restack(batch: SubjectsBatch, subjects: list[Subject]) -> SubjectsBatch:
    """The transformed elements stacked again, with the batch's history."""
    result = SubjectsBatch.from_subjects(subjects)
    if batch._per_element_history is not None:
        result.set_per_element_history(batch._per_element_history)
    result.applied_transforms = list(batch.applied_transforms)
    return result


def elements(batch: SubjectsBatch) -> list[Subject]:
    """The batch's elements as subjects without history (the batch keeps it)."""
    saved = batch._per_element_history, batch.applied_transforms
    batch._per_element_history, batch.applied_transforms = None, []
    try:
        subjects: list[Subject] = batch.unbatch()
    finally:
        batch._per_element_history, batch.applied_transforms = saved
    return subjects


def _shared(transform: Transform, batch: SubjectsBatch) -> SubjectsBatch:
    # rand < p applies (TorchIO's rule): one draw for the whole batch.
    if torch.rand(1).item() >= transform.p:
        return batch
    subjects = elements(batch)
    params = transform.make_params(subjects[0])
    # Through the elements hook: some draw for the whole batch at once, as
    # TorchIO's do (Noise: one generator, different noise in each element).
    subjects = transform._apply_elements(subjects, [params] * len(subjects), None)
    result = restack(batch, subjects)
    # Transforms run inside this one (CropOrPad's Crop) recorded themselves on
    # each element, alike since the parameters are shared.
    result.applied_transforms.extend(subjects[0].applied_transforms)
    transform._remember(result, params)
    return result


def _per_element(transform: Transform, batch: SubjectsBatch) -> SubjectsBatch:
    gated = _per_element_p(transform, batch)
    # Without per-element gating one draw decides for the batch (rand < p applies).
    if not gated and torch.rand(1).item() >= transform.p:
        return batch
    subjects = elements(batch)
    # Every element's parameters are drawn, applied or not, as TorchIO draws
    # them (one vector for the batch, then masked).
    sampled, keep = transform._sample_elements(subjects, gated=gated)
    if keep is not None and not any(keep):
        return batch
    subjects = transform._apply_elements(subjects, sampled, keep)
    params = [None if keep is not None and not keep[n] else p for n, p in enumerate(sampled)]
    result = restack(batch, subjects)
    transform._remember(result, batch_record(params, keep))
    return result


def _each_element(transform: _Choice, batch: SubjectsBatch) -> SubjectsBatch:
    """A composition choosing for each element; each element's history is its own."""
    from .compose import apply_chosen

    if transform.p == 0:
        return batch
    subjects = batch.unbatch()
    applied = False
    for n, subject in enumerate(subjects):
        chosen = transform.choose()
        if chosen is not None:
            applied = True
            subjects[n] = apply_chosen(chosen, subject)
    if not applied:
        return batch
    try:
        result = SubjectsBatch.from_subjects(subjects)
    except (RuntimeError, KeyError) as error:
        raise RuntimeError(
            f"Per-instance {type(transform).__name__} gave batch elements of different"
            " shapes or images, which cannot be stacked again; use transforms that keep"
            " shapes, or pass per_instance=False"
        ) from error
    result.set_per_element_history([subject.applied_transforms for subject in subjects])
    return result
