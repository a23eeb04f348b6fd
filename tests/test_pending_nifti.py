"""Block-wise NIfTI output and scratch arrays (``_core.PendingNifti``, ``ScratchArray``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tioxide import _core


def fortran_bytes(block: np.ndarray) -> np.ndarray:
    return np.asfortranarray(block).reshape(-1, order="F").view(np.uint8)


@pytest.mark.parametrize("name", ["out.nii", "out.nii.gz"])
def test_blocks_in_any_order_give_the_volume(tmp_path: Path, name: str) -> None:
    rng = np.random.default_rng(0)
    volume = rng.standard_normal((13, 11, 7, 2)).astype(np.float32)
    affine = np.diag([2.0, 1.5, 3.0, 1.0])
    affine[:3, 3] = [-4, 5, 6]
    out = _core.PendingNifti(tmp_path / name, list(volume.shape), "f4", affine.tolist())
    corners = [(i, j, k) for i in (0, 5, 10) for j in (0, 6) for k in (0, 4)]
    rng.shuffle(corners)
    for i, j, k in corners:
        block = volume[i : i + 5, j : j + 6, k : k + 4]
        out.write_block([i, j, k, 0], [*block.shape[:3], 2], fortran_bytes(block))
    assert not (tmp_path / name).exists()
    back = (
        out.read_block([2, 3, 1, 1], [4, 4, 4, 1]).view(np.float32).reshape((4, 4, 4, 1), order="F")
    )
    np.testing.assert_array_equal(back, volume[2:6, 3:7, 1:5, 1:2])
    out.finish()
    image = nib.load(tmp_path / name)
    np.testing.assert_array_equal(np.asanyarray(image.dataobj), volume)
    np.testing.assert_allclose(image.affine, affine)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_unwritten_voxels_are_zero_and_scratch_is_nameless(tmp_path: Path) -> None:
    scratch = _core.ScratchArray(tmp_path, [4, 5, 6], 8)
    assert list(tmp_path.iterdir()) == []
    block = np.arange(6, dtype=np.float64).reshape(1, 2, 3)
    scratch.write_block([3, 1, 2], [1, 2, 3], fortran_bytes(block))
    whole = scratch.read_block([0, 0, 0], [4, 5, 6]).view(np.float64).reshape((4, 5, 6), order="F")
    expected = np.zeros((4, 5, 6))
    expected[3:4, 1:3, 2:5] = block
    np.testing.assert_array_equal(whole, expected)


def test_bad_blocks_and_finishing_twice_are_clear_errors(tmp_path: Path) -> None:
    target = tmp_path / "x.nii"
    out = _core.PendingNifti(target, [4, 4], "u1", np.eye(4).tolist())
    with pytest.raises(ValueError, match="outside"):
        out.write_block([3, 0], [2, 1], np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="bytes do not fill"):
        out.write_block([0, 0], [2, 2], np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="axes"):
        out.read_block([0], [1])
    out.finish()
    with pytest.raises(ValueError, match=r"x\.nii: .*already finished"):
        out.finish()
    with pytest.raises(ValueError, match="already finished"):
        out.read_block([0, 0], [1, 1])
    with pytest.raises(OSError, match="missing"):
        _core.PendingNifti(tmp_path / "missing" / "y.nii", [2], "u1", np.eye(4).tolist())
    with pytest.raises(ValueError, match="at least one axis"):
        _core.ScratchArray(tmp_path, [], 4)
    with pytest.raises(ValueError, match="dtype"):
        _core.PendingNifti(tmp_path / "z.nii", [2], "object", np.eye(4).tolist())


def test_a_killed_writer_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.nii"
    nib.save(nib.Nifti1Image(np.full((3, 3, 3), 9, np.uint8), np.eye(4)), target)
    before = target.read_bytes()
    script = (
        "import os, numpy as np\n"
        "from tioxide import _core\n"
        f"out = _core.PendingNifti({os.fspath(target)!r}, [3, 3, 3], 'u1', np.eye(4).tolist())\n"
        "out.write_block([0, 0, 0], [3, 3, 1], np.ones(9, np.uint8))\n"
        "os._exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    assert target.read_bytes() == before
