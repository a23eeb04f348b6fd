"""read_matrix / write_matrix against TorchIO 2.0.0a2's and SimpleITK: the
same RAS matrices from the same files, files each library can read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torchio

import tioxide


def _random_ras(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = np.eye(4)
    matrix[:3, :3] = rng.normal(size=(3, 3)) * 0.3 + np.eye(3)
    matrix[:3, 3] = rng.uniform(-40, 40, 3)
    return matrix


SUFFIXES = [".tfm", ".h5", ".txt", ".trsf"]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_matrices_round_trip_between_the_libraries(tmp_path: Path, suffix: str, seed: int) -> None:
    matrix = _random_ras(seed)
    ours_file, theirs_file = tmp_path / f"ours{suffix}", tmp_path / f"theirs{suffix}"
    tioxide.write_matrix(torch.from_numpy(matrix), ours_file)
    torchio.write_matrix(torch.from_numpy(matrix), theirs_file)
    for path in (ours_file, theirs_file):
        ours = tioxide.read_matrix(path)
        theirs = torchio.read_matrix(path)
        assert ours.dtype == theirs.dtype == torch.float64
        assert ours.shape == (4, 4)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours.numpy(), matrix, rtol=0, atol=1e-6)


def test_itk_text_matches_simpleitk_including_a_centre(tmp_path: Path) -> None:
    """A .tfm with a centre of rotation (FixedParameters), as registration
    tools write them: the centre is part of the transform."""
    rng = np.random.default_rng(3)
    linear = rng.normal(size=9) * 0.2 + np.eye(3).ravel()
    transform = sitk.AffineTransform(linear.tolist(), [5.0, -2.0, 7.5], [10.0, 20.0, -30.0])
    path = tmp_path / "centred.tfm"
    transform.WriteTransform(str(path))
    ours = tioxide.read_matrix(path).numpy()
    # The RAS matrix moving the floating image onto the reference is the inverse of
    # ITK's LPS point mapping; check it on points through SimpleITK itself.
    flip = np.diag([-1.0, -1.0, 1.0])
    for point in rng.uniform(-50, 50, size=(5, 3)):
        lps = np.array(transform.TransformPoint((flip @ point).tolist()))
        moved = ours @ np.append(flip @ lps, 1.0)
        np.testing.assert_allclose(moved[:3], point, atol=1e-9)


def test_accepts_arrays_and_affine_matrices(tmp_path: Path) -> None:
    matrix = _random_ras(9)
    tioxide.write_matrix(matrix, tmp_path / "a.txt")
    tioxide.write_matrix(tioxide.AffineMatrix(matrix), tmp_path / "b.txt")
    for name in ("a.txt", "b.txt"):
        np.testing.assert_allclose(tioxide.read_matrix(tmp_path / name).numpy(), matrix, atol=1e-6)


def test_bad_inputs_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r'unknown suffix.*"\.nii"'):
        tioxide.read_matrix(tmp_path / "x.nii")
    with pytest.raises(ValueError, match="unknown suffix"):
        tioxide.write_matrix(np.eye(4), tmp_path / "x.mat")
    with pytest.raises(FileNotFoundError, match="missing.tfm"):
        tioxide.read_matrix(tmp_path / "missing.tfm")
    with pytest.raises(ValueError, match="4 x 4"):
        tioxide.write_matrix(np.eye(3), tmp_path / "x.txt")
    with pytest.raises(ValueError, match="not invertible"):
        tioxide.write_matrix(np.zeros((4, 4)), tmp_path / "x.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n4 5 6\n")
    with pytest.raises(ValueError, match=r"bad\.txt.*4 x 4"):
        tioxide.read_matrix(bad)
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not numbers at all\n")
    with pytest.raises(ValueError, match="garbage.txt"):
        tioxide.read_matrix(garbage)
    euler = tmp_path / "euler.tfm"
    sitk.Euler3DTransform().WriteTransform(str(euler))
    with pytest.raises(ValueError, match=r"euler\.tfm.*Euler3DTransform"):
        tioxide.read_matrix(euler)
    short = tmp_path / "short.tfm"
    short.write_text("Transform: AffineTransform_double_3_3\nParameters: 1 0 0\n")
    with pytest.raises(ValueError, match=r"short\.tfm.*12 parameters"):
        tioxide.read_matrix(short)
    broken_h5 = tmp_path / "broken.h5"
    broken_h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(ValueError, match="broken.h5"):
        tioxide.read_matrix(broken_h5)
