"""Image sources other than paths and tensors, against torchio 2.0.0a2.

bytes, file-like objects, nibabel and SimpleITK images, URLs (served from a
local HTTP server), fsspec files, and NIfTI-Zarr (only the missing-extra error here;
tests/test_nifti_zarr.py reads real stores).
"""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torchio

import tioxide
from http_server import serving
from tioxide.data import sources
from tioxide.data.backends import NibabelBackend, TensorBackend

OBLIQUE = np.array(
    [
        [0.9, -0.3, 0.1, -90.25],
        [0.35, 1.8, -0.2, 12.5],
        [-0.05, 0.25, 2.9, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def assert_same(ours: Any, theirs: Any) -> None:
    assert ours.shape == theirs.shape
    assert ours.data.dtype == theirs.data.dtype
    assert torch.equal(ours.data, theirs.data)
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert ours.metadata == theirs.metadata


@pytest.fixture
def nii(tmp_path: Path) -> Path:
    path = tmp_path / "image.nii.gz"
    data = np.random.default_rng(0).integers(0, 1000, (4, 5, 6, 2)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, OBLIQUE), path)
    return path


@pytest.fixture
def nrrd(tmp_path: Path) -> Path:
    image = sitk.GetImageFromArray(np.arange(60, dtype=np.uint16).reshape(5, 4, 3))
    image.SetSpacing((1.5, 2.0, 2.5))
    image.SetOrigin((3.0, -4.0, 5.0))
    path = tmp_path / "image.nrrd"
    sitk.WriteImage(image, str(path))
    return path


# --------------------------------------------------------------------------- bytes


@pytest.mark.parametrize("wrap", [bytes, io.BytesIO], ids=["bytes", "BytesIO"])
def test_nifti_bytes_equal_torchio(nii: Path, wrap: Any) -> None:
    raw = nii.read_bytes()
    ours, theirs = tioxide.ScalarImage(wrap(raw), tag=1), torchio.ScalarImage(wrap(raw), tag=1)
    assert_same(ours, theirs)
    assert ours.is_loaded and ours.path is None and isinstance(ours.dataobj, TensorBackend)
    assert "(in memory)" in repr(ours)


def test_other_bytes_need_their_suffix(nrrd: Path) -> None:
    raw = nrrd.read_bytes()
    ours = tioxide.ScalarImage(raw, suffix=".nrrd")
    assert_same(ours, torchio.ScalarImage(nrrd))
    with pytest.raises(nib.filebasedimages.ImageFileError):
        torchio.ScalarImage(raw, suffix=".nrrd")  # TorchIO 2.0.0a2 never tries SimpleITK
    assert ours.data.dtype == torch.int32, "uint16 widens as for files"
    uncompressed = tioxide.ScalarImage(bytearray(raw), suffix=".nrrd")
    assert torch.equal(uncompressed.data, ours.data)


def test_bad_bytes_say_what_they_were() -> None:
    with pytest.raises(ValueError) as info:
        tioxide.ScalarImage(b"\x00" * 400)
    if sys.version_info >= (3, 11):
        assert "400 bytes given as the image source, as .nii.gz" in "\n".join(info.value.__notes__)


def test_bytes_leave_no_temporary_file(nii: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    tioxide.ScalarImage(nii.read_bytes())
    assert list((tmp_path / "temp").iterdir()) == []


def test_bytes_with_affine_and_channels_last(nii: Path) -> None:
    image = tioxide.ScalarImage(nii.read_bytes(), affine=np.eye(4), channels_last=True)
    assert image.affine == tioxide.AffineMatrix()
    assert image.shape == (6, 2, 4, 5)


# --------------------------------------------------------------------------- file-like


def test_file_objects_are_read_in_place(nii: Path) -> None:
    """A NIfTI file object is read where it is (TorchIO copies it to a temporary file)."""
    with nii.open("rb") as f:
        theirs = torchio.ScalarImage(f, suffix=".nii.gz")
    temporary = list(sources._TEMPORARY)
    with nii.open("rb") as f:
        ours = tioxide.ScalarImage(f, suffix=".nii.gz")
        assert not ours.is_loaded and ours.path is None
        assert ours[:, 1:3].shape == (2, 2, 5, 6) and not ours.is_loaded
        assert "image.nii.gz (lazy, NIfTI)" in repr(ours)
        assert_same(ours, theirs)
    assert sources._TEMPORARY == temporary


def test_file_objects_need_a_suffix_and_bytes(nii: Path) -> None:
    with nii.open("rb") as f:
        with pytest.raises(ValueError, match="'suffix'") as ours:
            tioxide.ScalarImage(f)
    with nii.open("rb") as f:
        with pytest.raises(ValueError) as theirs:
            torchio.ScalarImage(f)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(TypeError, match="binary mode; read\\(\\) returned str"):
        tioxide.ScalarImage(io.StringIO("text"), suffix=".nii")


def test_temporary_files_go_at_exit_of_their_process(tmp_path: Path, monkeypatch: Any) -> None:
    kept = sources.write_temporary(b"x", ".nii", keep=True)
    other = tmp_path / "other.nii"
    other.write_bytes(b"x")
    monkeypatch.setattr(sources, "_TEMPORARY", [kept, other])
    monkeypatch.setattr(sources, "_OWNER", -1)
    sources._remove_temporary_files()
    assert kept.exists(), "a forked child must not remove its parent's files"
    monkeypatch.setattr(sources, "_OWNER", __import__("os").getpid())
    sources._remove_temporary_files()
    assert not kept.exists() and not other.exists()


# --------------------------------------------------------------------------- nibabel, SimpleITK


@pytest.mark.parametrize("kind", [nib.Nifti1Image, nib.Nifti2Image])
def test_nibabel_images_are_lazy_and_equal_torchio(kind: Any) -> None:
    data = np.random.default_rng(2).random((4, 5, 6)).astype(np.float32)
    nii = kind(data, OBLIQUE)
    ours, theirs = tioxide.LabelMap(nii), torchio.LabelMap(nii)
    assert isinstance(ours.dataobj, NibabelBackend) and not ours.is_loaded
    assert ours.dtype == theirs.dtype == np.float32
    assert repr(ours) == repr(theirs)
    region = ours[:, 1:3, ::2]
    assert not ours.is_loaded
    assert torch.equal(region.data, theirs[:, 1:3, ::2].data)
    assert_same(ours, theirs)
    override = tioxide.ScalarImage(nii, affine=np.eye(4))
    assert override.affine == tioxide.AffineMatrix() and override.dataobj.affine.equal(
        torch.eye(4, dtype=torch.float64)
    )


def test_nibabel_images_from_files(nii: Path) -> None:
    proxy = nib.load(nii)
    ours = tioxide.ScalarImage(proxy)
    assert ours.path is None and not ours.is_loaded
    assert_same(ours, torchio.ScalarImage(nii))
    with pytest.raises(ValueError, match="3D or 4D"):
        tioxide.ScalarImage(nib.Nifti1Image(np.zeros((2, 2)), np.eye(4)))


def test_nibabel_images_of_other_formats(tmp_path: Path) -> None:
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    mgh = nib.MGHImage(data, OBLIQUE)
    image = tioxide.ScalarImage(mgh)
    assert torch.equal(image.data[0], torch.from_numpy(data))
    assert np.allclose(image.affine.numpy(), mgh.affine)


def test_sitk_images_equal_torchio_reading_the_file(nrrd: Path) -> None:
    """TorchIO 2.0.0a2 keeps a sitk.Image in (K, J, I) order with its LPS affine.

    tioxide converts it as TorchIO converts the file it came from, to
    (C, I, J, K) and RAS (a documented difference).
    """
    ours = tioxide.ScalarImage(sitk.ReadImage(str(nrrd)))
    theirs = torchio.ScalarImage(nrrd)
    assert_same(ours, theirs)
    assert ours.is_loaded and ours.path is None
    assert torchio.ScalarImage(sitk.ReadImage(str(nrrd))).shape == (1, 5, 4, 3)
    vector = sitk.GetImageFromArray(np.ones((5, 4, 3, 2), np.float32), isVector=True)
    assert tioxide.ScalarImage(vector).shape == (2, 3, 4, 5)
    assert tioxide.ScalarImage(vector, affine=np.eye(4) * 2).affine.data[0, 0] == 2
    with pytest.raises(ValueError, match="Expected 3D image, got 2D"):
        tioxide.ScalarImage(sitk.Image([3, 4], sitk.sitkUInt8))


# --------------------------------------------------------------------------- URLs


@pytest.fixture
def server(tmp_path: Path, nii: Path) -> Iterator[str]:
    with serving(nii.parent) as url:
        yield url


def test_http_urls_equal_torchio(server: str, nii: Path) -> None:
    url = f"{server}/{nii.name}"
    ours, theirs = tioxide.ScalarImage(url), torchio.ScalarImage(url)
    # Read in place (this server ignores byte ranges: the file is fetched once).
    assert ours.path is None and not ours.is_loaded
    assert "image.nii.gz (lazy, NIfTI)" in repr(ours)
    assert_same(ours, theirs)
    with_query = tioxide.ScalarImage(f"{url}?download=1#x")
    assert "image.nii.gz (lazy, NIfTI)" in repr(with_query)
    assert torch.equal(with_query[:, 1:3].data, theirs.data[:, 1:3])


def test_missing_and_unreachable_urls(server: str) -> None:
    with pytest.raises(FileNotFoundError, match="missing.nii.gz: no such remote file"):
        tioxide.ScalarImage(f"{server}/missing.nii.gz")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/t1.nii.gz"
    with pytest.raises(OSError, match="cannot download the image") as info:
        tioxide.ScalarImage(url)
    assert url in str(info.value)


def test_file_urls_and_fsspec_files(nii: Path) -> None:
    reference = torchio.ScalarImage(nii)
    from_uri = tioxide.ScalarImage(nii.as_uri())
    assert from_uri.path == nii, "a file:// URL is its local file"
    assert_same(from_uri, reference)
    opened = tioxide.ScalarImage(fsspec.open(str(nii), "rb"))
    assert opened.path is not None and opened.path != nii
    assert_same(opened, reference)


def test_missing_remote_extra(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ImportError, match=r"pip install tioxide\[remote\]"):
        tioxide.ScalarImage("https://example.com/t1.nii.gz")


# --------------------------------------------------------------------------- NIfTI-Zarr


def test_missing_zarr_extra(tmp_path: Path, monkeypatch: Any) -> None:
    # Simulate an environment without the `zarr` extra: `import niizarr` fails.
    monkeypatch.setitem(sys.modules, "niizarr", None)
    remote = tioxide.ScalarImage("https://example.com/brain.nii.zarr")
    assert "brain.nii.zarr (lazy, NIfTI-Zarr)" in remote._path_line()
    for image in (remote, tioxide.ScalarImage(tmp_path / "brain.nii.zarr")):
        with pytest.raises(ImportError, match=r"nifti-zarr.*pip install tioxide\[zarr\]"):
            _ = image.shape
