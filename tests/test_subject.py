"""Subject (and its alias Study), differential against torchio 2.0.0a2."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio

import tioxide

AFFINE = np.diag([1.5, 2.0, 2.5, 1.0])


def build(tio: Any, **overrides: Any) -> Any:
    """The same subject from either package: two images, points, boxes and metadata."""
    entries: dict[str, Any] = {
        "t1": tio.ScalarImage(torch.arange(120.0).reshape(1, 4, 5, 6), affine=AFFINE),
        "seg": tio.LabelMap(torch.ones(1, 4, 5, 6, dtype=torch.uint8), affine=AFFINE),
        "landmarks": tio.Points(torch.tensor([[1.0, 2.0, 3.0]])),
        "tumour": tio.BoundingBoxes(
            torch.tensor([[0, 0, 0, 2, 2, 2]]), format=tio.BoundingBoxFormat.IJKIJK
        ),
        "age": 45,
        "name": "sub-01",
    }
    entries.update(overrides)
    return tio.Subject(**entries)


def assert_same_subject(ours: Any, theirs: Any) -> None:
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    assert ours.metadata == theirs.metadata
    assert list(ours.images) == list(theirs.images)
    assert list(ours.points) == list(theirs.points)
    assert list(ours.bounding_boxes) == list(theirs.bounding_boxes)
    for name in ours.images:
        assert repr(ours[name]) == repr(theirs[name])
        assert torch.equal(ours[name].data, theirs[name].data)
    assert ours.applied_transforms == theirs.applied_transforms


def test_names_are_where_torchio_code_expects_them() -> None:
    from tioxide.data.subject import Study, Subject

    assert tioxide.Subject is tioxide.data.Subject is Subject
    assert tioxide.Study is Study is Subject
    assert {"Subject", "Study"} <= set(tioxide.__all__)
    assert issubclass(Subject, tioxide.data.invertible.Invertible)


def test_entries_are_sorted_by_type() -> None:
    ours, theirs = build(tioxide), build(torchio)
    assert_same_subject(ours, theirs)
    assert list(ours) == ["t1", "seg", "landmarks", "tumour"]
    assert ours.metadata == {"age": 45, "name": "sub-01"}
    assert ours["t1"] is ours.t1 and ours["landmarks"] is ours.landmarks
    assert ours.tumour is ours.bounding_boxes["tumour"]
    assert ours.age == 45
    assert "t1" in ours and "landmarks" in ours and "age" not in ours
    assert isinstance(ours.images["seg"], tioxide.LabelMap)
    images = ours.images
    images.clear()
    assert list(ours.images) == ["t1", "seg"], "images returns a new dict"


def test_lookup_errors_equal_torchio() -> None:
    ours, theirs = build(tioxide), build(torchio)
    for key in ("missing", "age"):
        with pytest.raises(KeyError) as a:
            ours[key]
        with pytest.raises(KeyError) as b:
            theirs[key]
        assert str(a.value) == str(b.value)
    with pytest.raises(AttributeError) as a:
        _ = ours.missing
    with pytest.raises(AttributeError) as b:
        _ = theirs.missing
    assert str(a.value) == str(b.value)
    with pytest.raises(AttributeError):
        _ = ours._private


def test_empty_subject_is_refused() -> None:
    with pytest.raises(ValueError) as a:
        tioxide.Subject()
    with pytest.raises(ValueError) as b:
        torchio.Subject()
    assert str(a.value) == str(b.value)
    only_metadata = tioxide.Subject(age=3)
    assert repr(only_metadata) == repr(torchio.Subject(age=3)) == "Subject()"
    assert len(only_metadata) == 0 and only_metadata.device == torch.device("cpu")
    for attribute in ("spatial_shape", "shape", "spacing"):
        with pytest.raises(RuntimeError, match="has no images"):
            getattr(only_metadata, attribute)


def test_shape_spacing_and_device() -> None:
    ours, theirs = build(tioxide), build(torchio)
    for attribute in ("shape", "spatial_shape", "spacing", "device"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    assert ours.shape == (1, 4, 5, 6) and ours.spacing == (1.5, 2.0, 2.5)


@pytest.mark.parametrize(
    ("shape", "attribute"),
    [
        ((2, 4, 5, 6), "shape"),
        ((1, 4, 5, 7), "spatial_shape"),
        ((1, 4, 5, 7), "shape"),
        ((1, 4, 5, 6), "spacing"),
    ],
)
def test_inconsistent_images_raise_as_in_torchio(shape: tuple[int, ...], attribute: str) -> None:
    def make(tio: Any) -> Any:
        return build(tio, seg=tio.LabelMap(torch.ones(*shape)))

    with pytest.raises(RuntimeError) as a:
        getattr(make(tioxide), attribute)
    with pytest.raises(RuntimeError) as b:
        getattr(make(torchio), attribute)
    assert str(a.value) == str(b.value)
    assert f"Inconsistent {attribute}: t1=" in str(a.value)


def test_spacing_tolerance_equals_torchio() -> None:
    nearly = AFFINE.copy()
    nearly[0, 0] += 1e-7
    for tio in (tioxide, torchio):
        subject = build(tio, seg=tio.LabelMap(torch.ones(1, 4, 5, 6), affine=nearly))
        assert subject.spacing == (1.5, 2.0, 2.5)


@pytest.mark.parametrize(
    "index",
    [
        slice(1, 3),
        (slice(None), slice(1, 4)),
        (Ellipsis, slice(2, 5)),
        (1, 2, 3),
        (slice(None, None, 2), slice(None), -1),
        Ellipsis,
    ],
)
def test_spatial_cropping_equals_torchio(index: Any) -> None:
    ours, theirs = build(tioxide), build(torchio)
    ours.applied_transforms.append("crop")
    theirs.applied_transforms.append("crop")
    crop_ours, crop_theirs = ours[index], theirs[index]
    assert_same_subject(crop_ours, crop_theirs)
    assert crop_ours.landmarks is ours.landmarks
    assert crop_ours.applied_transforms == ["crop"]
    assert crop_ours.applied_transforms is not ours.applied_transforms
    assert crop_ours.t1.affine == tioxide.AffineMatrix(crop_theirs.t1.affine.data)


def test_cropping_errors_equal_torchio() -> None:
    for tio in (tioxide, torchio):
        with pytest.raises(RuntimeError, match="no images"):
            tio.Subject(points=tio.Points(torch.zeros(1, 3)))[1:2]
        with pytest.raises(TypeError, match="Index type float not understood"):
            build(tio)[1.5]
        with pytest.raises(RuntimeError, match="Inconsistent spatial_shape"):
            build(tio, seg=tio.LabelMap(torch.ones(1, 1, 1, 1)))[0]


def test_all_annotations_equal_torchio() -> None:
    def make(tio: Any) -> Any:
        image = tio.ScalarImage(
            torch.zeros(1, 4, 5, 6),
            affine=AFFINE,
            points={"p": tio.Points(torch.zeros(2, 3))},
            bounding_boxes={
                "b": tio.BoundingBoxes(torch.zeros(1, 6), format=tio.BoundingBoxFormat.IJKIJK)
            },
        )
        return build(tio, t1=image)

    ours, theirs = make(tioxide), make(torchio)
    assert list(ours.all_points()) == list(theirs.all_points()) == ["landmarks", ("t1", "p")]
    assert list(ours.all_bounding_boxes()) == list(theirs.all_bounding_boxes())
    assert ours.all_points()[("t1", "p")] is ours.t1.points["p"]


def test_load_and_to(tmp_path: Path) -> None:
    path = tmp_path / "t1.nii.gz"
    nib.save(nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), AFFINE), path)
    subject = tioxide.Subject(t1=tioxide.ScalarImage(path), landmarks=tioxide.Points([[1, 2, 3]]))
    assert not subject.t1.is_loaded
    assert subject.shape == (1, 2, 3, 4) and not subject.t1.is_loaded
    subject.load()
    assert subject.t1.is_loaded
    assert subject.to(torch.float64) is subject
    assert subject.t1.data.dtype == torch.float64
    assert subject.landmarks.data.dtype == torch.float64


def test_inconsistent_devices_are_reported() -> None:
    subject = build(tioxide)
    subject.landmarks._data = subject.landmarks.data.to("meta")
    with pytest.raises(RuntimeError, match="Inconsistent devices"):
        _ = subject.device


def test_copies_and_pickles() -> None:
    subject = build(tioxide)
    subject.applied_transforms.append("flip")
    shallow = copy.copy(subject)
    assert shallow.t1 is subject.t1 and shallow.age == 45
    deep = copy.deepcopy(subject)
    assert deep.t1 is not subject.t1 and deep.landmarks is not subject.landmarks
    assert torch.equal(deep.t1.data, subject.t1.data)
    assert deep.applied_transforms == ["flip"]
    assert deep.applied_transforms is not subject.applied_transforms
    restored = pickle.loads(pickle.dumps(subject))
    assert_same_subject(restored, subject)
    assert repr(restored) == repr(build(torchio))
    subject.clear_history()
    assert subject.applied_transforms == []


def test_consistency_check_agrees_with_numpy_allclose() -> None:
    """Subjects compare their images' shapes and spacings on every patch, in
    plain Python for tuples of numbers: the answers must be numpy's."""
    import itertools
    import random

    import numpy as np

    from tioxide.data.subject import _all_close

    inf, nan = float("inf"), float("nan")
    specials = [0, 1, 2_000_000, 2_000_001, 0.0, 1e-7, 1e-6, 2.1e-6, -3.0, -3.000003]
    specials += [inf, -inf, nan]
    rng = random.Random(0)
    pairs = [((a,), (b,)) for a, b in itertools.product(specials, repeat=2)]
    for _ in range(2000):
        n = rng.choice([1, 2, 3])
        a = tuple(rng.choice(specials + [rng.uniform(-5, 5)]) for _ in range(n))
        b = tuple(x * (1 + rng.choice([0, 1e-7, 1e-5])) for x in a)
        pairs.append((a, b))
    pairs += [((1, 2), (1, 2, 3)), ((1,), (True,)), ((np.float64(1.0),), (1.0,))]
    for a, b in pairs:
        want = np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=1e-6, atol=1e-6))
        assert _all_close(a, b, 1e-6, 1e-6) == want, (a, b)
