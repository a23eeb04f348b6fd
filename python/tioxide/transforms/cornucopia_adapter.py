"""Cornucopia transforms inside tioxide pipelines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..data.image import LabelMap, ScalarImage
from ..data.subject import Subject
from .transform import Transform, check_callable, replace_image


class CornucopiaAdapter(Transform):
    """Run a Cornucopia transform on a subject, as one of tioxide's.

    Cornucopia transforms take one or more ``(C, I, J, K)`` tensors and give
    as many back, drawing one set of random parameters for all of them (the
    same deformation for an image and its segmentation). The adapter passes
    the images the ``include``/``exclude`` arguments select, scalar images
    first and label maps after them (transforms that treat their first
    argument as the intensity image see an intensity image), and puts the
    results in their place. It leaves no entry in the history: the
    transform cannot be replayed or inverted.

    Args:
        cornucopia_transform: Any callable taking and returning tensors that
            way (``pip install cornucopia`` for Cornucopia's own).
        **kwargs: See :class:`~tioxide.Transform`.

    Raises:
        TypeError: ``cornucopia_transform`` is not callable.
        ValueError: It returned a different number of tensors than it got.
    """

    _RECORDED = False

    def __init__(self, cornucopia_transform: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_callable(cornucopia_transform, "cornucopia_transform")
        self.cornucopia_transform = cornucopia_transform

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        images = self._get_images(subject)
        names = [n for n, im in images.items() if isinstance(im, ScalarImage)]
        names += [n for n, im in images.items() if isinstance(im, LabelMap)]
        if not names:
            return subject
        results = self.cornucopia_transform(*(images[n].data for n in names))
        if len(names) == 1:
            results = (results,)
        results = tuple(results)
        if len(results) != len(names):
            raise ValueError(
                f"the Cornucopia transform returned {len(results)} tensors for "
                f"{len(names)} images ({', '.join(names)})"
            )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, torch.Tensor):
                replace_image(subject, name, images[name].new_like(data=result))
        return subject
