"""Points, BoundingBoxes and their axis conventions, differential against torchio 2.0.0a2."""

from __future__ import annotations

import copy
import itertools
import pickle
from typing import Any

import numpy as np
import pytest
import torch
import torchio
from torchio.data import axes as torchio_axes

import tioxide
from tioxide.data import axes

VOXEL = ["".join(p) for p in itertools.permutations("IJK")]
ANATOMICAL = [
    "".join(letters)
    for order in itertools.permutations((("R", "L"), ("A", "P"), ("S", "I")))
    for letters in itertools.product(*order)
]
ALL_AXES = VOXEL + ANATOMICAL

AFFINES = {
    "identity": np.eye(4),
    "lps": np.diag([-1.5, -1.5, 3.0, 1.0]),
    "oblique": np.array(
        [
            [0.0, -0.3, 2.1, -90.25],
            [0.35, 1.8, -0.2, 12.5],
            [-1.9, 0.25, 0.1, -40.125],
            [0.0, 0.0, 0.0, 1.0],
        ]
    ),
}

POINTS = torch.tensor([[1.0, 2.0, 3.0], [-4.5, 0.0, 10.25], [7.0, 8.0, 9.0]])
BOXES = torch.tensor([[1.0, 2.0, 3.0, 11.0, 6.0, 9.5], [-4.0, 0.0, 2.0, 0.0, 5.0, 2.5]])


def test_names_are_where_torchio_code_expects_them() -> None:
    from tioxide.data.bboxes import BoundingBoxes, BoundingBoxFormat, Representation
    from tioxide.data.points import Points

    assert tioxide.Points is tioxide.data.Points is Points
    assert tioxide.BoundingBoxes is tioxide.data.BoundingBoxes is BoundingBoxes
    assert tioxide.BoundingBoxFormat is BoundingBoxFormat
    assert tioxide.Representation is Representation
    assert {"Points", "BoundingBoxes", "BoundingBoxFormat", "Representation"} <= set(
        tioxide.__all__
    )


# --------------------------------------------------------------------------- axes


@pytest.mark.parametrize("text", [*ALL_AXES, "IJJ", "RAR", "RA", "RASX", "ijk", "XYZ", "LRS"])
def test_validate_axes_equals_torchio(text: str) -> None:
    try:
        expected: Any = torchio_axes.validate_axes(text)
    except ValueError as e:
        with pytest.raises(ValueError) as ours:
            axes.validate_axes(text)
        assert str(ours.value) == str(e)
        return
    assert axes.validate_axes(text) == expected
    assert axes.axes_type(text).value == torchio_axes.axes_type(text).value


def test_validate_axes_refuses_non_strings() -> None:
    with pytest.raises(TypeError, match="must be a str, got int"):
        axes.validate_axes(123)  # type: ignore[arg-type]


def test_axis_mappings_equal_torchio() -> None:
    for family in (VOXEL, ANATOMICAL):
        for src, tgt in itertools.product(family, repeat=2):
            assert axes.get_axis_mapping(src, tgt) == torchio_axes.get_axis_mapping(src, tgt)
    with pytest.raises(ValueError, match="different types") as ours:
        axes.get_axis_mapping("IJK", "RAS")
    with pytest.raises(ValueError) as theirs:
        torchio_axes.get_axis_mapping("IJK", "RAS")
    assert str(ours.value) == str(theirs.value)


# --------------------------------------------------------------------------- Points


def assert_same_points(ours: Any, theirs: Any) -> None:
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.data.dtype == theirs.data.dtype
    torch.testing.assert_close(ours.data, theirs.data, rtol=1e-6, atol=1e-5)
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert ours.axes == theirs.axes
    assert ours.metadata == theirs.metadata
    assert ours.num_points == theirs.num_points == len(ours) == len(theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("affine", AFFINES.values(), ids=AFFINES.keys())
@pytest.mark.parametrize("source", ["IJK", "KIJ", "RAS", "LPI", "SRA"])
def test_points_to_axes_equals_torchio(source: str, affine: Any) -> None:
    ours = tioxide.Points(POINTS.clone(), axes=source, affine=affine, metadata={"k": 1})
    theirs = torchio.Points(POINTS.clone(), axes=source, affine=affine, metadata={"k": 1})
    assert_same_points(ours, theirs)
    torch.testing.assert_close(ours.to_world(), theirs.to_world())
    assert ours.to_world().dtype == torch.float32
    for target in ALL_AXES:
        converted = ours.to_axes(target)
        assert converted is not ours
        assert_same_points(converted, theirs.to_axes(target))
    assert torch.equal(ours.data, POINTS), "conversions must not change the source"


def test_points_round_trip_through_the_world() -> None:
    points = tioxide.Points(POINTS, affine=AFFINES["oblique"])
    back = points.to_axes("LPS").to_axes("IJK")
    torch.testing.assert_close(back.data, POINTS, rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    "data",
    [[[1, 2, 3]], np.array([[1.5, 2, 3]], dtype=np.float64), torch.tensor([[1, 2, 3]])],
    ids=["list", "float64-array", "int-tensor"],
)
def test_points_data_types_equal_torchio(data: Any) -> None:
    ours, theirs = tioxide.Points(data), torchio.Points(data)
    assert_same_points(ours, theirs)
    if isinstance(data, torch.Tensor):
        assert ours.data is data


@pytest.mark.parametrize(
    ("data", "kwargs"),
    [
        (torch.zeros(3), {}),
        (torch.zeros(2, 2), {}),
        (torch.zeros(1, 3, 1), {}),
        (torch.zeros(1, 3), {"axes": "XYZ"}),
        (torch.zeros(1, 3), {"axes": "RA"}),
        (torch.zeros(1, 3), {"affine": np.eye(3)}),
    ],
)
def test_bad_points_raise_as_in_torchio(data: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as theirs:
        torchio.Points(data, **kwargs)
    with pytest.raises(ValueError) as ours:
        tioxide.Points(data, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_points_new_like_to_and_copies() -> None:
    affine = tioxide.AffineMatrix(AFFINES["lps"])
    points = tioxide.Points(POINTS, axes="RAS", affine=affine, metadata={"m": [1]})
    assert points.affine is affine
    assert points.metadata is not None and points.device == torch.device("cpu")
    new = points.new_like(data=POINTS * 2)
    assert new.axes == "RAS" and new.metadata == {"m": [1]}
    assert new.affine == affine and new.affine is not affine
    assert torch.equal(points.new_like(data=POINTS, affine=np.eye(4)).affine.data, torch.eye(4))
    assert points.to(torch.float64) is points and points.data.dtype == torch.float64
    deep = copy.deepcopy(points)
    assert torch.equal(deep.data, points.data) and deep.data is not points.data
    assert deep.affine is not points.affine
    shallow = copy.copy(points)
    assert shallow.data is points.data
    restored = pickle.loads(pickle.dumps(points))
    assert torch.equal(restored.data, points.data) and restored.axes == "RAS"


# --------------------------------------------------------------------------- BoundingBoxes


def assert_same_boxes(ours: Any, theirs: Any) -> None:
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.data.dtype == theirs.data.dtype
    torch.testing.assert_close(ours.data, theirs.data, rtol=1e-6, atol=1e-5)
    assert ours.format.axes == theirs.format.axes
    assert ours.format.representation.value == theirs.format.representation.value
    assert repr(ours.format) == repr(theirs.format)
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert ours.metadata == theirs.metadata
    assert ours.num_boxes == theirs.num_boxes == len(ours)
    if theirs.labels is None:
        assert ours.labels is None
    else:
        assert torch.equal(ours.labels, theirs.labels)
    assert repr(ours) == repr(theirs)


def test_formats_equal_torchio() -> None:
    fmt = tioxide.BoundingBoxFormat
    assert repr(fmt.IJKIJK) == repr(torchio.BoundingBoxFormat.IJKIJK)
    assert repr(fmt.IJKWHD) == repr(torchio.BoundingBoxFormat.IJKWHD)
    assert fmt("RAS", "center_size") == fmt("RAS", tioxide.Representation.CENTER_SIZE)
    assert fmt("RAS") != fmt("LAS") and fmt("RAS") != "RAS"
    assert len({fmt("RAS"), fmt("RAS"), fmt("IJK")}) == 2
    assert fmt("KJI").representation is tioxide.Representation.CORNERS
    assert [r.value for r in tioxide.Representation] == [r.value for r in torchio.Representation]
    with pytest.raises(ValueError, match="not a valid Representation"):
        fmt("IJK", "corner")
    with pytest.raises(ValueError, match="Invalid axis string"):
        fmt("IJX")


@pytest.mark.parametrize("affine", AFFINES.values(), ids=AFFINES.keys())
@pytest.mark.parametrize(
    ("axes_", "representation"),
    [("IJK", "corners"), ("JKI", "center_size"), ("RAS", "corners"), ("LPI", "center_size")],
)
def test_boxes_to_format_equals_torchio(axes_: str, representation: str, affine: Any) -> None:
    labels = torch.tensor([3, 7])
    ours = tioxide.BoundingBoxes(
        BOXES.clone(),
        format=tioxide.BoundingBoxFormat(axes_, representation),
        labels=labels,
        affine=affine,
        metadata={"k": 2},
    )
    theirs = torchio.BoundingBoxes(
        BOXES.clone(),
        format=torchio.BoundingBoxFormat(axes_, representation),
        labels=labels,
        affine=affine,
        metadata={"k": 2},
    )
    assert_same_boxes(ours, theirs)
    for target, rep in itertools.product(ALL_AXES, ("corners", "center_size")):
        converted = ours.to_format(tioxide.BoundingBoxFormat(target, rep))
        assert converted is not ours
        assert_same_boxes(converted, theirs.to_format(torchio.BoundingBoxFormat(target, rep)))
    assert torch.equal(ours.data, BOXES)


def test_integer_boxes_equal_torchio() -> None:
    data = torch.tensor([[10, 20, 30, 50, 60, 71]])
    ours = tioxide.BoundingBoxes(data, format=tioxide.BoundingBoxFormat.IJKIJK)
    theirs = torchio.BoundingBoxes(data, format=torchio.BoundingBoxFormat.IJKIJK)
    assert ours.data is data
    for target in ("IJK", "KJI", "RAS"):
        for rep in ("corners", "center_size"):
            assert_same_boxes(
                ours.to_format(tioxide.BoundingBoxFormat(target, rep)),
                theirs.to_format(torchio.BoundingBoxFormat(target, rep)),
            )


@pytest.mark.parametrize(
    ("data", "kwargs"),
    [
        (torch.zeros(6), {}),
        (torch.zeros(2, 3), {}),
        (torch.zeros(2, 6), {"labels": torch.tensor([1, 2, 3])}),
        (torch.zeros(1, 6), {"affine": np.eye(2)}),
    ],
)
def test_bad_boxes_raise_as_in_torchio(data: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as theirs:
        torchio.BoundingBoxes(data, format=torchio.BoundingBoxFormat.IJKIJK, **kwargs)
    with pytest.raises(ValueError) as ours:
        tioxide.BoundingBoxes(data, format=tioxide.BoundingBoxFormat.IJKIJK, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_boxes_errors_torchio_leaves_unclear() -> None:
    with pytest.raises(TypeError, match="format must be a BoundingBoxFormat, got str"):
        tioxide.BoundingBoxes(BOXES, format="IJK")  # type: ignore[arg-type]
    boxes = tioxide.BoundingBoxes(BOXES, format=tioxide.BoundingBoxFormat.IJKIJK)
    with pytest.raises(TypeError, match="got str"):
        boxes.to_format("RAS")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected 2 labels, got a scalar"):
        tioxide.BoundingBoxes(BOXES, format=boxes.format, labels=torch.tensor(1))
    listed = tioxide.BoundingBoxes(BOXES, format=boxes.format, labels=[1, 2])
    assert listed.labels is not None and listed.labels.tolist() == [1, 2]


def test_boxes_new_like_to_and_copies() -> None:
    labels = torch.tensor([1, 2])
    boxes = tioxide.BoundingBoxes(
        BOXES, format=tioxide.BoundingBoxFormat("RAS"), labels=labels, metadata={"a": 1}
    )
    new = boxes.new_like(data=BOXES + 1)
    assert new.labels is None and new.format == boxes.format and new.metadata == {"a": 1}
    assert new.affine == boxes.affine and new.affine is not boxes.affine
    assert boxes.to(torch.float64) is boxes
    assert boxes.data.dtype == torch.float64 and boxes.labels is not None
    assert boxes.labels.dtype == torch.float64
    deep = copy.deepcopy(boxes)
    assert torch.equal(deep.data, boxes.data) and deep.data is not boxes.data
    assert deep.labels is not None and deep.labels is not boxes.labels
    restored = pickle.loads(pickle.dumps(boxes))
    assert restored.format == boxes.format and torch.equal(restored.data, boxes.data)


# --------------------------------------------------------------------------- on images


def test_images_carry_annotations_as_torchio_does() -> None:
    def build(tio: Any) -> Any:
        points = tio.Points(POINTS, axes="RAS")
        boxes = tio.BoundingBoxes(BOXES, format=tio.BoundingBoxFormat.IJKIJK)
        return tio.ScalarImage(
            torch.zeros(1, 12, 10, 11),
            affine=AFFINES["oblique"],
            points={"landmarks": points},
            bounding_boxes={"tumour": boxes},
        )

    ours, theirs = build(tioxide), build(torchio)
    assert repr(ours) == repr(theirs)
    crop = ours[:, 2:5]
    assert repr(crop) == repr(theirs[:, 2:5])
    assert crop.points["landmarks"] is not ours.points["landmarks"]
    assert torch.equal(crop.points["landmarks"].data, POINTS)
    for dup in (copy.deepcopy(ours), ours.new_like(data=torch.ones(1, 2, 2, 2))):
        assert list(dup.points) == ["landmarks"] and list(dup.bounding_boxes) == ["tumour"]
        assert dup.points["landmarks"] is not ours.points["landmarks"]
    annotations = {"landmarks": tioxide.Points(POINTS)}
    image = tioxide.ScalarImage(torch.zeros(1, 1, 1, 1), points=annotations)
    assert image.points == annotations and image.points is not annotations
    with pytest.raises(TypeError, match="points must be a dict of Points, got list"):
        tioxide.ScalarImage(torch.zeros(1, 1, 1, 1), points=[1])  # type: ignore[arg-type]
