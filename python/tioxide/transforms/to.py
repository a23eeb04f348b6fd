"""``To``: move or cast every image (``torch.Tensor.to`` arguments)."""

from __future__ import annotations

from typing import Any

from ..data.subject import Subject
from .transform import Transform


class To(Transform):
    """Call ``.to(*args, **kwargs)`` on every image, points and boxes of the subject.

    Args:
        *to_args: Positional arguments of ``torch.Tensor.to`` (a device, a dtype ...).
        **to_kwargs: Keyword arguments of ``torch.Tensor.to``.
    """

    def __init__(self, *to_args: Any, **to_kwargs: Any) -> None:
        super().__init__()
        self.to_args = to_args
        self.to_kwargs = to_kwargs

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"to_args": self.to_args, "to_kwargs": self.to_kwargs}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        subject.to(*params["to_args"], **params["to_kwargs"])
        return subject
