"""Image.save: files written by tioxide read back as torchio 2.0.0a2 reads its own."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torchio

import tioxide

ORTHOGONAL = np.array(
    [
        [0.0, -1.5, 0.0, 90.25],
        [2.0, 0.0, 0.0, -12.5],
        [0.0, 0.0, 3.0, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
OBLIQUE = np.array(
    [
        [0.9, -0.3, 0.1, -90.25],
        [0.35, 1.8, -0.2, 12.5],
        [-0.05, 0.25, 2.9, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)

TENSORS = {
    "int16": torch.arange(60, dtype=torch.int16).reshape(1, 3, 4, 5),
    "float32-3ch": torch.rand(3, 3, 4, 5),
    "uint8": torch.randint(0, 255, (1, 3, 4, 5), dtype=torch.uint8),
    "float64": torch.rand(1, 3, 4, 5, dtype=torch.float64),
}


@pytest.mark.parametrize("name", TENSORS)
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".nrrd", ".mha"])
def test_saved_files_read_back_as_torchio_files_do(tmp_path: Path, name: str, suffix: str) -> None:
    tensor = TENSORS[name]
    ours = tmp_path / f"ours{suffix}"
    theirs = tmp_path / f"theirs{suffix}"
    tioxide.ScalarImage(tensor, affine=ORTHOGONAL).save(ours)
    torchio.ScalarImage(tensor, affine=ORTHOGONAL).save(theirs)
    for read in (tioxide.ScalarImage, torchio.ScalarImage):
        a, b = read(ours), read(theirs)
        assert torch.equal(a.data, b.data) and a.data.dtype == b.data.dtype
        torch.testing.assert_close(a.affine.data, b.affine.data, rtol=0, atol=1e-5)
        assert torch.equal(a.data, tensor)


def test_oblique_affines_survive_nifti(tmp_path: Path) -> None:
    path = tmp_path / "oblique.nii.gz"
    tioxide.ScalarImage(TENSORS["int16"], affine=OBLIQUE).save(path)
    assert np.allclose(nib.load(path).affine, OBLIQUE, atol=1e-5)
    header = nib.load(path).header
    assert header["sform_code"] == 1 and header["qform_code"] == 1


def test_multichannel_nifti_is_4d(tmp_path: Path) -> None:
    path = tmp_path / "rgb.nii"
    tioxide.ScalarImage(TENSORS["float32-3ch"]).save(path)
    assert nib.load(path).shape == (3, 4, 5, 3)


def test_save_arguments(tmp_path: Path) -> None:
    image = tioxide.LabelMap(TENSORS["uint8"], affine=ORTHOGONAL)
    image.save(tmp_path / "fast.nii.gz", compressionLevel=1, useCompression=True)
    assert torch.equal(tioxide.LabelMap(tmp_path / "fast.nii.gz").data, TENSORS["uint8"])
    with pytest.raises(TypeError, match="unexpected keyword argument.*imageIO"):
        image.save(tmp_path / "x.nii", imageIO="NiftiImageIO")
    image.save(tmp_path / "x.nrrd", useCompression=True)
    assert sitk.ReadImage(str(tmp_path / "x.nrrd")).GetSize() == (3, 4, 5)
    with pytest.raises(TypeError, match="cannot store dtype"):
        tioxide.ScalarImage(torch.zeros(1, 2, 2, 2, dtype=torch.float16)).save(tmp_path / "h.nii")


def test_save_of_a_lazy_image(tmp_path: Path) -> None:
    source = tmp_path / "source.nii.gz"
    nib.save(nib.Nifti1Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4), ORTHOGONAL), source)
    copy = tmp_path / "copy.nii"
    tioxide.ScalarImage(source).save(copy)
    assert np.array_equal(nib.load(copy).get_fdata(), nib.load(source).get_fdata())


def test_nifti_zarr_needs_its_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate an environment without the `zarr` extra: `import niizarr` fails.
    monkeypatch.setitem(sys.modules, "niizarr", None)
    image: Any = tioxide.ScalarImage(torch.zeros(1, 2, 2, 2))
    with pytest.raises(ImportError, match=r"nifti-zarr.*pip install tioxide\[zarr\]"):
        image.save(tmp_path / "x.nii.zarr")
    assert not (tmp_path / "x.nii.zarr").exists()


def test_nifti_zarr_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.nii.zarr"
    tioxide.LabelMap(TENSORS["uint8"], affine=OBLIQUE).save(path)
    ours, theirs = tioxide.LabelMap(path), torchio.LabelMap(path)
    assert torch.equal(ours.data, TENSORS["uint8"]) and torch.equal(ours.data, theirs.data)
    assert torch.equal(ours.affine.data, theirs.affine.data)
    np.testing.assert_allclose(ours.affine.numpy(), OBLIQUE, rtol=0, atol=1e-5)
    with pytest.raises(TypeError, match="writing NIfTI-Zarr takes no keyword arguments"):
        ours.save(tmp_path / "y.nii.zarr", useCompression=True)
