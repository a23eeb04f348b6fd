"""The transform base classes: ``Transform``, ``SpatialTransform``, ``IntensityTransform``.

A transform is a ``torch.nn.Module``. Calling it on a :class:`Subject`,
:class:`Image`, tensor, numpy array, dict, ``SimpleITK.Image`` or
``nibabel`` image returns an object of the same type:

1. the input is copied (unless ``copy=False``; without cloning voxels the
   built-in transforms do not write, see :mod:`.copying`) and wrapped into a
   subject (:mod:`.wrapping`);
2. with probability ``p`` the transform samples its parameters
   (:meth:`Transform.make_params`) and applies them
   (:meth:`Transform.apply_transform`);
3. an :class:`AppliedTransform` record is appended to the subject's (or the
   image's) ``applied_transforms``, from which the history can be inverted.

Random numbers come from torch's global generator, drawn in the same order as
TorchIO 2.0.0a2 draws them, so ``torch.manual_seed`` reproduces TorchIO's
results. tioxide's own transforms work on the :class:`Subject` itself (images
are 4D, lazy images stay lazy); a batch given to them is transformed element
by element (:mod:`.batching`). Subclasses written outside tioxide get
TorchIO 2's contract instead: ``make_params`` and ``apply_transform``
receive a ``SubjectsBatch`` (a subject becomes a batch of one; its images
are 5D image batches whose ``data`` can be set), so that transforms written
for TorchIO work unchanged.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data.batch import ImagesBatch, SubjectsBatch, element_params, is_element_params
from ..data.image import Image, ScalarImage
from ..data.subject import Subject
from .batching import elements, is_batch, restack, transform_batch
from .copying import copy_input, unshare
from .history import AppliedTransform, register
from .wrapping import wrap


def _names(value: Sequence[str] | str | None, what: str) -> list[str] | None:
    """``include``/``exclude`` as a list; a lone string is one name (TorchIO would
    test substrings of it)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what} must be a sequence of image names, got {value!r}")
    return list(value)


class Transform(nn.Module):
    """Base class of all transforms.

    Args:
        p: Probability of applying the transform, in ``[0, 1]``.
        copy: Deep-copy the input first. If ``False`` the input subject is
            changed in place (its images are replaced).
        per_instance: On a batch, sample parameters (and, where supported,
            decide ``p``) for each element, for transforms that support it;
            ``False`` applies one draw to every element (see :mod:`.batching`).
        include: Names of the only images to transform.
        exclude: Names of images not to transform.

    Raises:
        ValueError: ``p`` outside ``[0, 1]``.
        TypeError: ``include``/``exclude`` that are not sequences of names.
    """

    def __init__(
        self,
        *,
        p: float = 1.0,
        copy: bool = True,
        per_instance: bool = True,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(p, int | float) or not 0 <= p <= 1:
            raise ValueError(f"Probability must be in [0, 1], got {p}")
        self.p = p
        self.copy = copy
        self.per_instance = per_instance
        self.include = _names(include, "include")
        self.exclude = _names(exclude, "exclude")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(cls)
        owner = next(k for k in cls.__mro__ if "apply_transform" in k.__dict__)
        cls._TAKES_BATCHES = not owner.__module__.startswith("tioxide.")
        if owner is cls and not cls._TAKES_BATCHES:
            cls.apply_transform = _also_on_batches(cls.__dict__["apply_transform"])  # type: ignore[method-assign]

    #: Whether ``make_params``/``apply_transform`` take a ``SubjectsBatch``
    #: (TorchIO's contract, for subclasses written outside tioxide).
    _TAKES_BATCHES: bool = False

    # -- applying ---------------------------------------------------------------

    def forward(self, data: Any) -> Any:
        """Apply the transform; the result has the type of ``data``.

        Raises:
            TypeError: ``data`` is of a type transforms do not accept.
        """
        if is_batch(data):
            return transform_batch(self, data)
        batched = not isinstance(data, Subject | Image)
        shared: list[int] = []
        if self.copy:
            data, shared = copy_input(self, data)
        subject, unwrap = wrap(data)
        subject = self._apply_to_subject(subject, batched=batched)
        return unshare(unwrap(subject), shared)

    #: Whether a batch's elements get parameters of their own (see :mod:`.batching`).
    _PER_INSTANCE_PARAMS: bool = False
    #: Whether a batch's elements are also each gated by ``p`` on their own.
    _PER_INSTANCE_P: bool = False

    def _sample_elements(
        self, subjects: list[Subject], *, gated: bool
    ) -> tuple[list[dict[str, Any]], list[bool] | None]:
        """Each element's parameters when a batch's elements get their own
        (:mod:`.batching`), drawn in TorchIO's order, and, if ``gated``,
        which elements the transform applies to (``None``: all)."""
        keep = self._gate(len(subjects), gated=gated)
        if keep is None or self._DRAWS_FOR_SKIPPED:
            return [self.make_params(subject) for subject in subjects], keep
        # Elements gated out draw nothing ({} stands in for their parameters).
        return [self.make_params(s) if k else {} for s, k in zip(subjects, keep, strict=True)], keep

    #: Whether, on a batch gated element by element, the elements left out
    #: still draw parameters: TorchIO's transforms that sample the whole
    #: batch at once (Gamma, Affine ...) do; those that sample element by
    #: element (Flip, Spike, Ghosting, Swap, Motion, Anisotropy) skip them.
    _DRAWS_FOR_SKIPPED: bool = True

    def _gate(self, n: int, *, gated: bool) -> list[bool] | None:
        """Which of ``n`` elements a per-element ``p`` applies the transform
        to (one draw each, rand < p applies), or ``None`` if not ``gated``."""
        return (torch.rand(n) < self.p).tolist() if gated else None

    def _apply_elements(
        self, subjects: list[Subject], params: list[dict[str, Any]], keep: list[bool] | None
    ) -> list[Subject]:
        """The elements transformed with their own parameters (those ``keep``
        leaves out unchanged)."""
        skipped = [False] * len(subjects) if keep is None else [not k for k in keep]
        return [
            subject if skip else self.apply_transform(subject, own)
            for subject, own, skip in zip(subjects, params, skipped, strict=True)
        ]

    def _resolve_n(self, batch: SubjectsBatch) -> int | None:
        """TorchIO's helper for transforms written for it: the batch size when
        this transform samples each element's parameters, else ``None``."""
        active = self.per_instance and self.supports_per_instance_params
        return batch.batch_size if active and batch.batch_size > 1 else None

    def _samples_per_element(self, batch: SubjectsBatch) -> bool:
        """Whether, on ``batch``, this transform samples each element's
        parameters (when it supports that and ``per_instance`` asks for it)."""
        return True

    @property
    def supports_per_instance_params(self) -> bool:
        """Whether this transform can sample parameters for each element of a batch."""
        return self._PER_INSTANCE_PARAMS

    @property
    def supports_per_instance_p(self) -> bool:
        """Whether this transform can decide ``p`` for each element of a batch."""
        return self._PER_INSTANCE_P

    def _apply_to_subject(self, subject: Subject, *, batched: bool) -> Subject:
        """Apply (with probability ``p``) to a subject, in place, and record it.

        Args:
            subject: The subject to change.
            batched: Whether TorchIO would see a batch here (the input was not
                a subject or image, or this runs inside a composition); a few
                transforms draw random numbers differently then, as TorchIO's do.
        """
        # rand < p applies: p=0 never does, p=1 always does (TorchIO's rule).
        if torch.rand(1).item() >= self.p:
            return subject
        if self._TAKES_BATCHES:
            return self._apply_as_batch(subject)
        params = self.make_params(subject)
        subject = self.apply_transform(subject, params)
        self._remember(subject, params)
        return subject

    def _apply_as_batch(self, subject: Subject) -> Subject:
        """TorchIO's contract: the subject as a batch of one, transformed by
        ``make_params``/``apply_transform`` written for batches. The results
        go back into ``subject`` (changed in place, as by tioxide's own
        transforms); points and boxes given to the subject itself stay as
        they are (TorchIO drops them)."""
        batch, params = self._run_as_written(SubjectsBatch.from_subjects([subject]))
        out: Subject = batch.unbatch()[0]
        for name, image in out.images.items():
            replace_image(subject, name, image)
        subject._metadata.update(out.metadata)
        self._remember(subject, params)
        return subject

    def _run_as_written(self, batch: SubjectsBatch) -> tuple[SubjectsBatch, dict[str, Any]]:
        """``make_params`` and ``apply_transform`` of a subclass written for
        TorchIO's contract, on ``batch``: the result and the parameters.

        Raises:
            TypeError: ``apply_transform`` returned something else than a batch.
        """
        # Typed for tioxide's own contract (a Subject); these take batches.
        given: Any = batch
        params = self.make_params(given)
        result = self.apply_transform(given, params)
        if not isinstance(result, SubjectsBatch):
            raise TypeError(
                f"{type(self).__name__}.apply_transform returned {type(result).__name__}, "
                "not the SubjectsBatch it was given"
            )
        return result, params

    #: Whether applications go into the history. Adapters around other
    #: libraries' transforms leave none: those cannot be replayed or inverted.
    _RECORDED: bool = True

    def _remember(self, target: Subject | SubjectsBatch, params: dict[str, Any]) -> None:
        """Record an application with ``params`` in ``target``'s history."""
        if self._RECORDED:
            target.applied_transforms.append(self._record(params))

    def _record(self, params: dict[str, Any], name: str | None = None) -> AppliedTransform:
        return AppliedTransform(
            name=name or type(self).__name__,
            params=params,
            include=None if self.include is None else list(self.include),
            exclude=None if self.exclude is None else list(self.exclude),
        )

    def make_params(self, subject: Subject) -> dict[str, Any]:
        """Sample the parameters of one application (none by default)."""
        return {}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        """Apply the transform with ``params`` to ``subject`` (in place) and return it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement apply_transform")

    # -- inversion ----------------------------------------------------------------

    @property
    def invertible(self) -> bool:
        """Whether :meth:`inverse` can undo this transform."""
        return False

    def inverse(self, params: dict[str, Any]) -> Transform:
        """A transform undoing an application that used ``params``.

        Raises:
            NotImplementedError: The transform is not invertible.
        """
        raise NotImplementedError(f"{type(self).__name__} is not invertible")

    # -- helpers for subclasses -------------------------------------------------------

    def _get_images(self, subject: Subject) -> dict[str, Image]:
        """The subject's images this transform applies to (``include``/``exclude``)."""
        images = subject.images
        if self.include is not None:
            images = {k: v for k, v in images.items() if k in self.include}
        if self.exclude is not None:
            images = {k: v for k, v in images.items() if k not in self.exclude}
        return images

    def _warn_if_noop(self, *, is_noop: bool, hint: str) -> None:
        """Warn that the arguments make the transform an identity (as TorchIO does)."""
        if is_noop:
            warnings.warn(
                f"{type(self).__name__} is a no-op with the given parameters and will not"
                f" change the data. Pass arguments to apply an effect (e.g. {hint}), or a"
                " range like (a, b) for random augmentation.",
                stacklevel=3,
            )

    # -- composition and display ------------------------------------------------------

    def __add__(self, other: object) -> Transform:
        """``t1 + t2`` is ``Compose([t1, t2])`` (compositions are flattened)."""
        if not isinstance(other, Transform):
            return NotImplemented
        from .compose import Compose

        left = self.transforms if isinstance(self, Compose) else [self]
        right = other.transforms if isinstance(other, Compose) else [other]
        return Compose([*left, *right])

    def __or__(self, other: object) -> Transform:
        """``t1 | t2`` is ``OneOf([t1, t2])`` (flattened)."""
        if not isinstance(other, Transform):
            return NotImplemented
        from .compose import OneOf

        left = self.transforms if isinstance(self, OneOf) else [self]
        right = other.transforms if isinstance(other, OneOf) else [other]
        return OneOf([*left, *right])

    def __repr__(self) -> str:
        """The class name and the arguments that differ from their defaults."""
        parts = [f"{name}={value!r}" for name, value in self._non_default_arguments()]
        return f"{type(self).__name__}({', '.join(parts)})"

    def _non_default_arguments(self) -> list[tuple[str, Any]]:
        from .parameter_range import _ParameterRange

        result = []
        for name, default in _init_parameters(type(self)).items():
            value = getattr(self, name, default)
            compared = value._original if isinstance(value, _ParameterRange) else value
            if _equal(compared, default):
                continue
            result.append((name, value))
        return result

    def to_hydra(self) -> dict[str, Any]:
        """A Hydra config (``_target_`` plus non-default arguments) that rebuilds this."""
        from .parameter_range import _ParameterRange

        config: dict[str, Any] = {"_target_": f"tioxide.{type(self).__qualname__}"}
        for name, value in self._non_default_arguments():
            if isinstance(value, _ParameterRange):
                value = value._original
            config[name] = _plain(value)
        return config


def _equal(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return False
    try:
        return bool(value == default)
    except (RuntimeError, ValueError, TypeError):  # tensors and arrays compare elementwise
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Tensor | np.ndarray):
        return value.tolist()
    return value


def _init_parameters(cls: type) -> dict[str, Any]:
    """``{name: default}`` of the named ``__init__`` parameters along the MRO (leaf first)."""
    params: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass is nn.Module or klass is object:
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if name == "self" or parameter.kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                continue
            params.setdefault(name, parameter.default)
    return params


def check_callable(value: Any, name: str) -> None:
    """Raise TypeError naming the argument ``name`` if ``value`` is not callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")


def first_image(subject: Subject, transform: Transform) -> Image:
    """The subject's first image, which gives shapes and affines to some transforms.

    Raises:
        RuntimeError: The subject has no image (TorchIO lets StopIteration out).
    """
    for image in subject.images.values():
        return image
    raise RuntimeError(f"{type(transform).__name__} needs an image in the subject, which has none")


def replace_image(subject: Subject, name: str, image: Image) -> None:
    """Put ``image`` in ``subject`` under ``name`` (transforms make new images)."""
    subject._images[name] = image


class SpatialTransform(Transform):
    """Base of transforms that change the geometry: they apply to every image."""


class IntensityTransform(Transform):
    """Base of transforms that change intensities: they apply to :class:`ScalarImage`\\ s only."""

    def _get_images(self, subject: Subject) -> dict[str, Image]:
        scalars: dict[str, Image] = {k: v for k, v in subject.images.items() if _is_scalar(v)}
        if self.include is not None:
            scalars = {k: v for k, v in scalars.items() if k in self.include}
        if self.exclude is not None:
            scalars = {k: v for k, v in scalars.items() if k not in self.exclude}
        return scalars


def _is_scalar(image: Image | ImagesBatch) -> bool:
    """Whether an image, or a batch of them, holds intensities (not labels)."""
    if isinstance(image, ImagesBatch):
        return issubclass(image._image_class, ScalarImage)
    return isinstance(image, ScalarImage)


def _also_on_batches(method: Any) -> Any:
    """A built-in ``apply_transform`` (written for a subject) that also takes
    a ``SubjectsBatch``, as TorchIO's do when called directly: each element
    gets the parameters (its own, from a per-element record), and the
    results replace the batch's images."""

    @functools.wraps(method)
    def apply_transform(self: Transform, data: Any, params: dict[str, Any]) -> Any:
        if not isinstance(data, SubjectsBatch):
            return method(self, data, params)
        per_element = is_element_params(params)
        size = params.get("_batch_size", data.batch_size) if per_element else data.batch_size
        if size != data.batch_size:
            kind = "spatial " if isinstance(self, SpatialTransform) else ""
            raise RuntimeError(
                f"Per-instance {kind}parameters of {type(self).__name__} were sampled for a"
                f" batch of {size}; got a batch of {data.batch_size}"
            )
        subjects = elements(data)
        own = [element_params(params, n) if per_element else params for n in range(size)]
        keep = [p is not None for p in own]
        if not any(keep):
            return data
        chosen = [p if p is not None else {} for p in own]
        result = restack(data, self._apply_elements(subjects, chosen, keep))
        # TorchIO's change the batch given, and return it.
        data._images.update(result.images)
        data._metadata.update(result.metadata)
        return data

    return apply_transform
