"""Inverting histories: get_inverse_transform, apply_inverse_transform, clear_history."""

from __future__ import annotations

import copy
import pickle
import warnings
from typing import Any

import pytest
import torch

import tioxide as tio
from transforms_helpers import Shift


class Brighten(tio.IntensityTransform):
    def apply_transform(
        self, batch: tio.SubjectsBatch, params: dict[str, Any]
    ) -> tio.SubjectsBatch:
        for images in self._get_images(batch).values():
            images.data = images.data * 2
        return batch

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> tio.Lambda:
        return tio.Lambda(lambda x: x / 2, types_to_apply="scalar", copy=False)


class Scramble(tio.IntensityTransform):
    def apply_transform(
        self, batch: tio.SubjectsBatch, params: dict[str, Any]
    ) -> tio.SubjectsBatch:
        return batch


def make_subject() -> tio.Subject:
    return tio.Subject(
        t1=tio.ScalarImage(torch.rand(1, 3, 4, 5)),
        seg=tio.LabelMap(torch.ones(1, 3, 4, 5)),
    )


def test_round_trip_one_call_at_a_time() -> None:
    subject = make_subject()
    transformed = Shift(2.0, include=["t1"])(Brighten()(Shift(0.5)(subject)))
    assert [r.name for r in transformed.applied_transforms] == ["Shift", "Brighten", "Shift"]
    snapshot = copy.deepcopy(transformed)
    restored = transformed.apply_inverse_transform()
    torch.testing.assert_close(restored.t1.data, subject.t1.data)
    torch.testing.assert_close(restored.seg.data, subject.seg.data)
    assert restored.applied_transforms == []
    # Inverting never changes the transformed object.
    assert transformed.applied_transforms == snapshot.applied_transforms
    assert torch.equal(transformed.t1.data, snapshot.t1.data)


def test_images_and_the_function() -> None:
    image = make_subject().t1
    transformed = tio.Compose([Shift(1.0), Brighten()])(image)
    restored = tio.apply_inverse_transform(transformed)
    assert isinstance(restored, tio.ScalarImage)
    torch.testing.assert_close(restored.data, image.data)
    assert restored.applied_transforms == [] and len(transformed.applied_transforms) == 2
    tensor = torch.zeros(1, 2, 2, 2)
    assert tio.apply_inverse_transform(tensor) is tensor


def test_non_invertible_and_unknown_records_are_skipped_with_a_warning() -> None:
    transformed = tio.Compose([Shift(), Scramble()])(make_subject())
    with pytest.warns(UserWarning, match="Scramble is not invertible, skipping"):
        inverse = transformed.get_inverse_transform()
    assert [type(t).__name__ for t in inverse.transforms] == ["Shift"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(transformed.get_inverse_transform(warn=False).transforms) == 1
    transformed.applied_transforms.append(tio.AppliedTransform(name="NoSuchTransform"))
    with pytest.warns(UserWarning, match="Unknown transform 'NoSuchTransform'"):
        transformed.get_inverse_transform()


def test_ignore_intensity() -> None:
    subject = make_subject()
    transformed = tio.Compose([Shift(3.0), Brighten()])(subject)
    inverse = transformed.get_inverse_transform(ignore_intensity=True)
    assert [type(t).__name__ for t in inverse.transforms] == ["Shift"]
    restored = transformed.apply_inverse_transform(ignore_intensity=True)
    torch.testing.assert_close(restored.t1.data, (subject.t1.data + 3) * 2 - 3)


def test_inverse_keeps_scope() -> None:
    transformed = Shift(5.0, include=["seg"])(make_subject())
    (inverse,) = transformed.get_inverse_transform().transforms
    assert inverse.include == ["seg"] and inverse.exclude is None


def test_history_survives_copies_and_pickling() -> None:
    subject = make_subject()
    for obj in (tio.Compose([Shift(), Brighten()])(subject), Brighten()(Shift()(subject.t1))):
        for clone in (copy.copy(obj), copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
            assert clone.applied_transforms == obj.applied_transforms
        assert copy.deepcopy(obj).applied_transforms is not obj.applied_transforms


def test_clear_history() -> None:
    transformed = Shift()(make_subject())
    transformed.clear_history()
    assert transformed.applied_transforms == []
    assert transformed.get_inverse_transform().transforms == []
