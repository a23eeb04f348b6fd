"""tioxide.AffineMatrix against torchio.AffineMatrix, and orientation codes against nibabel."""

from __future__ import annotations

import copy
import pickle

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio

from tioxide.data.affine import AffineMatrix
from tioxide.data.orientation import axis_codes


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def _affines() -> list[np.ndarray]:
    """Oblique, flipped, permuted, sheared, degenerate and near-tie affines."""
    rng = np.random.default_rng(1234)
    out = [np.eye(4), np.diag([-1.0, 1.0, 1.0, 1.0]), np.diag([0.5, 0.8, 1.2, 1.0])]
    for n in range(60):
        m = np.eye(4)
        block = _rotation(rng) * rng.uniform(0.2, 4.0, size=3)
        if n % 3 == 0:  # axis permutation with flips, slightly perturbed
            block = np.eye(3)[rng.permutation(3)] * rng.choice([-1.0, 1.0], size=3)
            block = block * rng.uniform(0.5, 3.0, size=3) + rng.normal(scale=1e-3, size=(3, 3))
        if n % 5 == 0:  # shear
            block = block + rng.normal(scale=0.3, size=(3, 3))
        m[:3, :3] = block
        m[:3, 3] = rng.uniform(-200, 200, size=3)
        out.append(m)
    # Exact ties between world axes (45 degrees), and zero or repeated columns.
    c = np.sqrt(0.5)
    out.append(np.array([[c, -c, 0, 1], [c, c, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]]))
    out.append(np.array([[c, c, 0, 0], [c, -c, 0, 0], [0, 0, -2, 0], [0, 0, 0, 1]]))
    out.append(np.diag([1.0, 0.0, 1.0, 1.0]))
    out.append(np.array([[1.0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 3, 0], [0, 0, 0, 1]]))
    out.append(np.zeros((4, 4)))
    return out


AFFINES = _affines()


@pytest.mark.parametrize("matrix", AFFINES, ids=range(len(AFFINES)))
def test_properties_equal_torchio(matrix: np.ndarray) -> None:
    ours, theirs = AffineMatrix(matrix), torchio.AffineMatrix(matrix)
    assert ours.data.dtype == torch.float64
    assert torch.equal(ours.data, theirs.data)
    assert ours.spacing == theirs.spacing
    assert ours.origin == theirs.origin
    torch.testing.assert_close(ours.direction, theirs.direction, rtol=0, atol=0, equal_nan=True)
    assert ours.orientation == theirs.orientation
    assert ours.orientation == nib.aff2axcodes(matrix)
    if all(ours.orientation):
        assert repr(ours) == repr(theirs)
    if np.linalg.matrix_rank(matrix[:3, :3]) == 3:
        assert ours.euler_angles == theirs.euler_angles
        assert torch.equal(ours.inverse().data, theirs.inverse().data)
    points = np.random.default_rng(0).normal(size=(5, 3)) * 50
    assert torch.equal(ours.apply(points), theirs.apply(points))
    assert torch.equal(ours.apply(torch.as_tensor(points)), theirs.apply(points))
    assert np.array_equal(ours.numpy(), theirs.numpy())
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    assert np.asarray(ours, dtype=np.float32).dtype == np.float32


def test_orientation_matches_nibabel_on_many_random_affines() -> None:
    rng = np.random.default_rng(99)
    for _ in range(2000):
        m = np.eye(4)
        m[:3, :3] = rng.normal(size=(3, 3))
        if rng.random() < 0.3:
            m[:3, :3] = np.round(m[:3, :3])  # many ties and zero columns
        assert axis_codes(m) == nib.aff2axcodes(m), m


def test_composition_and_copies() -> None:
    a, b = AFFINES[5], AFFINES[7]
    ours = AffineMatrix(a) @ AffineMatrix(b)
    assert torch.equal(ours.data, (torchio.AffineMatrix(a) @ torchio.AffineMatrix(b)).data)
    assert torch.equal(AffineMatrix(a).compose(AffineMatrix(b)).data, ours.data)
    assert AffineMatrix(a).__matmul__(a) is NotImplemented
    clone = ours.clone()
    assert clone == ours and clone is not ours
    clone.data[0, 0] = 123.0
    assert clone != ours
    for dup in (copy.copy(ours), copy.deepcopy(ours), pickle.loads(pickle.dumps(ours))):
        assert dup == ours and dup.data.data_ptr() != ours.data.data_ptr()
    assert AffineMatrix(ours) == ours and AffineMatrix(ours).data is not ours.data
    assert AffineMatrix().__eq__(np.eye(4)) is NotImplemented
    assert AffineMatrix() != "identity"


def test_construction_from_any_array_like_copies() -> None:
    source = np.diag([2.0, 3.0, 4.0, 1.0])
    from_list = AffineMatrix(source.tolist())
    from_int_tensor = AffineMatrix(torch.eye(4, dtype=torch.int32))
    assert from_int_tensor.data.dtype == torch.float64
    assert torch.equal(from_int_tensor.data, torch.eye(4, dtype=torch.float64))
    from_array = AffineMatrix(source)
    source[0, 0] = 99.0
    assert from_array.spacing == (2.0, 3.0, 4.0) == from_list.spacing
    assert AffineMatrix().orientation == ("R", "A", "S")
    assert torch.equal(AffineMatrix(None).data, torchio.AffineMatrix(None).data)


@pytest.mark.parametrize("bad", [np.eye(3), torch.eye(3), np.zeros((4, 3)), [1.0, 2.0]])
def test_shape_must_be_4x4(bad: object) -> None:
    with pytest.raises(ValueError, match=r"4x4") as ours:
        AffineMatrix(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError) as theirs:
        torchio.AffineMatrix(bad)
    assert str(ours.value) == str(theirs.value)


def test_from_spacing() -> None:
    direction = _rotation(np.random.default_rng(3))
    for kwargs in (
        {},
        {"origin": (1.0, -2.0, 3.5)},
        {"direction": direction},
        {"direction": torch.as_tensor(direction), "origin": (4.0, 5.0, 6.0)},
    ):
        ours = AffineMatrix.from_spacing((0.5, 1.5, 2.5), **kwargs)  # type: ignore[arg-type]
        theirs = torchio.AffineMatrix.from_spacing((0.5, 1.5, 2.5), **kwargs)
        assert torch.equal(ours.data, theirs.data)


def test_to_keeps_float64_and_rounds_like_torchio() -> None:
    matrix = AFFINES[10]
    ours, theirs = AffineMatrix(matrix), torchio.AffineMatrix(matrix)
    assert ours.to(torch.float32) is ours
    theirs.to(torch.float32)
    assert ours.data.dtype == torch.float64
    assert torch.equal(ours.data, theirs.data)
    assert not np.array_equal(ours.numpy(), matrix)  # rounded through float32, as TorchIO
    assert ours.to("cpu").device == torch.device("cpu")
    assert ours.to(torch.int64).data.dtype == torch.float64
