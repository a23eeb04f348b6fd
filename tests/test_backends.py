"""The backend registry and the backends, against torchio 2.0.0a2 where it has the same."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torchio
import torchio.data.backends as theirs

import tioxide
import tioxide.data.backends as ours
from tioxide.data import registry

OBLIQUE = np.array(
    [
        [0.9, -0.3, 0.1, -90.25],
        [0.35, 1.8, -0.2, 12.5],
        [-0.05, 0.25, 2.9, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    saved = list(registry._REGISTRY)
    yield
    registry._REGISTRY[:] = saved


@pytest.fixture
def nii(tmp_path: Path) -> Path:
    path = tmp_path / "image.nii.gz"
    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    nib.save(nib.Nifti1Image(data, OBLIQUE), path)
    return path


def write_sitk(path: Path, array: np.ndarray, *, vector: bool = False) -> Path:
    image = sitk.GetImageFromArray(array, isVector=vector)
    image.SetSpacing((1.5, 2.0, 2.5))
    image.SetOrigin((-10.0, 20.5, 3.0))
    image.SetDirection((0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    sitk.WriteImage(image, str(path))
    return path


# --------------------------------------------------------------------------- names


def test_names_are_where_torchio_code_expects_them() -> None:
    public = (
        "BackendRequest",
        "ImageDataBackend",
        "LazyReader",
        "register_backend",
        "resolve_backend",
        "unregister_backend",
    )
    for name in public:
        assert getattr(tioxide.data, name) is getattr(ours, name)
        assert name in tioxide.data.__all__
    for name in ("TensorBackend", "NibabelBackend", "ZarrBackend", "normalize_index"):
        assert hasattr(ours, name) and hasattr(theirs, name)
    for name in ("register_backend", "unregister_backend", "resolve_backend"):
        assert inspect.signature(getattr(ours, name)).parameters.keys() == (
            inspect.signature(getattr(theirs, name)).parameters.keys()
        )
    fields = ("path", "remote_zarr_uri", "zarr_store", "affine", "reader_kwargs", "reader")
    assert tuple(ours.BackendRequest.__dataclass_fields__) == fields
    assert tuple(theirs.BackendRequest.__dataclass_fields__) == fields


def test_builtin_order() -> None:
    assert ours.registered_backends() == [
        "custom-reader",
        "remote-nifti-zarr",
        "zarr-store",
        "nifti-zarr",
        "nifti",
        "dicom-series",
        "simpleitk",
    ]


# --------------------------------------------------------------------------- registry


def test_resolve_picks_the_builtin_backends(nii: Path, tmp_path: Path) -> None:
    backend = ours.resolve_backend(ours.BackendRequest(path=nii))
    assert isinstance(backend, ours.NiftiBackend) and backend.shape == (1, 4, 5, 6)
    nrrd = write_sitk(tmp_path / "image.nrrd", np.zeros((2, 3, 4), np.uint8))
    assert isinstance(ours.resolve_backend(ours.BackendRequest(path=nrrd)), ours.SimpleITKBackend)
    # As in TorchIO, nothing matches a request without a source, or a file no reader knows.
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello")
    for request in (
        ours.BackendRequest(),
        ours.BackendRequest(path=unknown),
        ours.BackendRequest(path=tmp_path / "missing.nrrd"),
    ):
        assert ours.resolve_backend(request) is None
    assert theirs.resolve_backend(theirs.BackendRequest()) is None


def test_resolve_picks_the_zarr_backends_as_torchio(tmp_path: Path) -> None:
    import zarr

    path = tmp_path / "image.nii.zarr"
    tensor = torch.arange(60, dtype=torch.int16).reshape(1, 3, 4, 5)
    tioxide.ScalarImage(tensor, affine=OBLIQUE).save(path)
    store = zarr.storage.LocalStore(path, read_only=True)
    requests = [
        ({"path": path}, "ZarrBackend"),
        ({"remote_zarr_uri": path.as_uri()}, "ZarrBackend"),
        ({"zarr_store": store}, "NibabelBackend"),
        ({"path": path, "affine": torch.eye(4, dtype=torch.float64)}, "ZarrBackend"),
    ]
    for fields, kind in requests:
        mine = ours.resolve_backend(ours.BackendRequest(**fields))
        reference = theirs.resolve_backend(theirs.BackendRequest(**fields))
        assert type(mine).__name__ == type(reference).__name__ == kind
        assert mine is not None and reference is not None
        assert mine.shape == reference.shape == (1, 3, 4, 5)
        assert mine.dtype == reference.dtype == np.dtype(np.int16)
        assert torch.equal(mine.affine, reference.affine)
        assert torch.equal(mine[:, 1:, 2], reference[:, 1:, 2])
        assert torch.equal(mine.to_tensor(), tensor)


def test_custom_readers_keep_their_formats_from_simpleitk(tmp_path: Path) -> None:
    nrrd = write_sitk(tmp_path / "image.nrrd", np.zeros((2, 3, 4), np.uint8))
    request = ours.BackendRequest(path=nrrd, reader=lambda p: None)
    assert ours.resolve_backend(request) is None


def test_register_prepend_replace_and_unregister(nii: Path) -> None:
    calls: list[str] = []

    def build(name: str) -> Any:
        def factory(request: Any) -> Any:
            calls.append(name)
            return ours.TensorBackend(torch.zeros(1, 2, 2, 2))

        return factory

    def everything(request: Any) -> bool:
        return True

    ours.register_backend("first", everything, build("first"))
    ours.resolve_backend(ours.BackendRequest(path=nii))
    ours.register_backend("second", everything, build("second"))
    ours.resolve_backend(ours.BackendRequest(path=nii))
    assert calls == ["first", "second"], "a new backend goes first by default"
    ours.register_backend("first", everything, build("first-again"))
    assert ours.registered_backends()[:2] == ["first", "second"]
    ours.resolve_backend(ours.BackendRequest(path=nii))
    assert calls[-1] == "first-again", "registering a name again replaces it"
    ours.unregister_backend("first")
    ours.unregister_backend("second")
    ours.unregister_backend("never-registered")
    ours.register_backend("last", everything, build("last"), prepend=False)
    assert ours.registered_backends()[-1] == "last"
    assert isinstance(ours.resolve_backend(ours.BackendRequest(path=nii)), ours.NiftiBackend)


def test_register_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="name must be a str, got int"):
        ours.register_backend(1, bool, bool)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'x': matcher must be callable"):
        ours.register_backend("x", None, bool)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'x': factory must be callable"):
        ours.register_backend("x", bool, 3)  # type: ignore[arg-type]


def test_registered_backend_serves_images(tmp_path: Path) -> None:
    path = tmp_path / "volume.npy"
    np.save(path, np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4))
    seen: list[Any] = []

    class NpyBackend:
        def __init__(self, request: Any) -> None:
            seen.append(request)
            self._array = np.load(request.path, mmap_mode="r")
            self.shape = tuple(self._array.shape)
            self.affine = (
                torch.eye(4, dtype=torch.float64) if request.affine is None else request.affine
            )
            self.dtype = self._array.dtype

        def __getitem__(self, item: Any) -> torch.Tensor:
            region = self._array[ours.normalize_index(item)]
            return torch.from_numpy(np.array(region))

        def to_tensor(self) -> torch.Tensor:
            return torch.from_numpy(np.array(self._array))

    for package, module in ((tioxide, ours), (torchio, theirs)):
        module.register_backend("npy", lambda r: str(r.path).endswith(".npy"), NpyBackend)
        image = package.ScalarImage(path, reader_kwargs={"k": 1})
        assert image.shape == (1, 2, 3, 4) and not image.is_loaded
        assert image.dtype == np.float32
        assert image[:, 1:, :, 2].shape == (1, 1, 3, 1) and not image.is_loaded
        assert torch.equal(image.data, torch.arange(24.0).reshape(1, 2, 3, 4))
        module.unregister_backend("npy")
    assert [dict(r.reader_kwargs) for r in seen] == [{"k": 1}, {"k": 1}]
    assert seen[0].reader is tioxide.data.io.default_reader
    assert isinstance(seen[0], ours.BackendRequest)


def test_lazy_reader_builds_the_backend(nii: Path) -> None:
    class Reader:
        def __init__(self) -> None:
            self.requests: list[Any] = []

        def __call__(self, path: Path) -> Any:
            raise AssertionError("a lazy reader's backend is used instead")

        def create_backend(self, request: Any) -> Any:
            self.requests.append(request)
            return ours.TensorBackend(torch.ones(2, 3, 4, 5), affine=torch.eye(4).double() * 2)

    reader = Reader()
    assert isinstance(reader, ours.LazyReader)
    assert not isinstance(lambda p: p, ours.LazyReader)
    image = tioxide.ScalarImage(nii, reader=reader)
    assert image.shape == (2, 3, 4, 5) and not image.is_loaded
    assert image.spacing == (2.0, 2.0, 2.0)
    assert torch.equal(image.data, torch.ones(2, 3, 4, 5))
    assert len(reader.requests) == 1 and reader.requests[0].path == nii
    assert reader.requests[0].reader is reader


def test_dataobj_of_a_plain_custom_reader(tmp_path: Path) -> None:
    path = tmp_path / "volume.npy"
    np.save(path, np.ones((1, 2, 2, 2), np.float32))
    image = tioxide.ScalarImage(path, reader=lambda p: (torch.from_numpy(np.load(p)), np.eye(4)))
    assert isinstance(image.dataobj, ours.TensorBackend) and image.is_loaded
    assert image.dataobj.shape == (1, 2, 2, 2)


# --------------------------------------------------------------------------- NibabelBackend


@pytest.mark.parametrize("shape", [(4, 5, 6), (4, 5, 6, 3), (4, 5, 6, 1, 2)])
def test_nibabel_backend_equals_torchio(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    nii = nib.Nifti1Image(rng.random(shape).astype(np.float32), OBLIQUE)
    mine, reference = ours.NibabelBackend(nii), theirs.NibabelBackend(nii)
    assert mine.shape == reference.shape and mine.dtype == reference.dtype
    assert torch.equal(mine.affine, reference.affine)
    assert torch.equal(mine.to_tensor(), reference.to_tensor())
    for index in [(0,), (slice(None), slice(1, 3)), (Ellipsis, -1), (slice(None), 1, 2, 3)]:
        assert torch.equal(mine[index], reference[index])
    override = ours.NibabelBackend(nii, affine=np.eye(4))
    assert torch.equal(override.affine, torch.eye(4, dtype=torch.float64))


def test_nibabel_backend_big_endian_and_bad_rank() -> None:
    data = np.arange(24, dtype=">i2").reshape(2, 3, 4)
    backend = ours.NibabelBackend(nib.Nifti1Image(data, np.eye(4)))
    assert torch.equal(backend.to_tensor()[0], torch.from_numpy(data.astype(np.int16)))
    assert torch.equal(backend[:, 1:, ::2], backend.to_tensor()[:, 1:, ::2])
    with pytest.raises(ValueError, match="3D or 4D NIfTI, got 2D"):
        ours.NibabelBackend(nib.Nifti1Image(np.zeros((2, 2)), np.eye(4)))


# --------------------------------------------------------------------------- SimpleITK


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd", ".nhdr"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.float32, np.float64])
def test_sitk_files_equal_torchio(tmp_path: Path, suffix: str, dtype: Any) -> None:
    array = (np.arange(5 * 4 * 3) % 251).astype(dtype).reshape(5, 4, 3)  # (K, J, I)
    path = write_sitk(tmp_path / f"image{suffix}", array)
    mine, reference = tioxide.ScalarImage(path), torchio.ScalarImage(path)
    assert mine.shape == reference.shape == (1, 3, 4, 5)
    assert mine.dtype == reference.dtype == np.dtype(dtype)
    assert not mine.is_loaded
    assert torch.equal(mine.affine.data, reference.affine.data)
    assert mine.orientation == reference.orientation
    assert isinstance(mine.dataobj, ours.SimpleITKBackend) and not mine.is_loaded
    for index in [
        (slice(None), slice(1, 3)),
        (0, 2, slice(None, None, 2), slice(1, None)),
        (Ellipsis, -1),
        (slice(None), slice(5, 9)),
    ]:
        region = mine[index]
        assert not mine.is_loaded
        expected = reference[index]
        assert torch.equal(region.data, expected.data) and region.data.dtype == expected.data.dtype
        assert torch.equal(region.affine.data, expected.affine.data)
    assert torch.equal(mine.data, reference.data) and mine.data.dtype == reference.data.dtype


def test_sitk_negative_steps_and_vectors(tmp_path: Path) -> None:
    array = np.random.default_rng(1).random((5, 4, 3, 2)).astype(np.float32)  # (K, J, I, C)
    path = write_sitk(tmp_path / "vector.mha", array, vector=True)
    mine, reference = tioxide.ScalarImage(path), torchio.ScalarImage(path)
    assert mine.shape == reference.shape == (2, 3, 4, 5)
    full = reference.data
    for index in [
        (slice(None, None, -1),),
        (1, slice(None, None, -2), slice(3, 0, -1), slice(4, None, -3)),
        (slice(None), slice(-1, -4, -1)),
    ]:
        c, i, j, k = ours.normalize_index(index)
        expected = torch.from_numpy(np.ascontiguousarray(full.numpy()[c, i, j, k]))
        assert torch.equal(mine.dataobj[index], expected)
    assert torch.equal(mine.data, full)


def test_sitk_reader_kwargs(tmp_path: Path) -> None:
    path = write_sitk(tmp_path / "image.nrrd", np.ones((2, 3, 4), np.int16))
    image = tioxide.ScalarImage(path, reader_kwargs={"outputPixelType": sitk.sitkFloat32})
    assert image.dtype == np.float32 and image.data.dtype == torch.float32
    reference = torchio.ScalarImage(path, reader_kwargs={"outputPixelType": sitk.sitkFloat32})
    assert reference.data.dtype == torch.float32
    with pytest.raises(TypeError, match="unexpected reader keyword argument.*mmap"):
        _ = tioxide.ScalarImage(path, reader_kwargs={"mmap": True}).shape


def test_sitk_errors(tmp_path: Path) -> None:
    flat = tmp_path / "flat.nrrd"
    sitk.WriteImage(sitk.Image([3, 4, 5, 6], sitk.sitkUInt8), str(flat))
    with pytest.raises(ValueError, match="Expected 3D image, got 4D") as info:
        _ = tioxide.ScalarImage(flat).shape
    assert str(flat) in str(info.value)
    plane = tmp_path / "plane.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 4), np.uint8)), str(plane))
    with pytest.raises(ValueError, match="got 2D"):
        _ = tioxide.ScalarImage(plane).data
    with pytest.raises(FileNotFoundError, match="missing.nrrd"):
        _ = tioxide.ScalarImage(tmp_path / "missing.nrrd").shape
    with pytest.raises(FileNotFoundError):
        ours.SimpleITKBackend(tmp_path / "missing.mha")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        _ = tioxide.ScalarImage(tmp_path).shape
    with pytest.raises(IsADirectoryError, match="is a directory"):
        _ = tioxide.ScalarImage(tmp_path).dataobj
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for attribute in ("shape", "data", "dataobj"):
        with pytest.raises(ValueError, match="unsupported image format"):
            getattr(tioxide.ScalarImage(text), attribute)


def test_nifti_backend_is_a_nibabel_backend_for_isinstance(nii: Path) -> None:
    image = tioxide.ScalarImage(nii)
    assert isinstance(image.dataobj, ours.NibabelBackend)
    assert isinstance(torchio.ScalarImage(nii).dataobj, theirs.NibabelBackend)
    assert "(lazy, NIfTI)" in repr(tioxide.ScalarImage(nii))


def test_io_names_mirror_torchio(tmp_path: Path) -> None:
    import torchio.data.io as their_io

    import tioxide.data.io as our_io

    for name in (
        "default_reader",
        "is_nifti",
        "is_nifti_zarr",
        "is_remote_nifti_zarr",
        "read_nifti_zarr",
        "read_sitk",
        "resolve_source",
    ):
        assert callable(getattr(our_io, name)) and callable(getattr(their_io, name))
    for uri in ("s3://b/x.nii.zarr/", "https://h/x.NII.ZARR?x=1", "x.nii.zarr", "https://h/x.nii"):
        assert our_io.is_remote_nifti_zarr(uri) == their_io.is_remote_nifti_zarr(uri)
    path = write_sitk(tmp_path / "image.mha", np.arange(24, dtype=np.int16).reshape(4, 3, 2))
    tensor, affine = our_io.read_sitk(path)
    expected, expected_affine = their_io.read_sitk(path)
    assert torch.equal(tensor, expected) and np.array_equal(affine, expected_affine)
    assert our_io.resolve_source(str(path)) == their_io.resolve_source(str(path)) == path


# --------------------------------------------------------------------------- DICOM series


def write_dicom_series(folder: Path, volume: np.ndarray, series: str = "1") -> Path:
    """Write a (K, J, I) volume as one DICOM file per slice, with positions and orientation."""
    folder.mkdir(parents=True, exist_ok=True)
    image = sitk.GetImageFromArray(volume)
    image.SetSpacing((0.5, 0.75, 2.0))
    image.SetOrigin((10.0, -20.0, 30.0))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(image.GetDepth()):
        plane = image[:, :, k]
        plane.SetMetaData("0020|000e", f"1.2.826.0.1.3680043.2.1125.{series}")
        plane.SetMetaData("0020|0037", "1\\0\\0\\0\\1\\0")
        position = image.TransformIndexToPhysicalPoint((0, 0, k))
        plane.SetMetaData("0020|0032", "\\".join(str(x) for x in position))
        plane.SetMetaData("0020|0013", str(k))
        plane.SetMetaData("0028|0030", "0.75\\0.5")
        writer.SetFileName(str(folder / f"{series}-{k:03d}.dcm"))
        writer.Execute(plane)
    return folder


def test_dicom_series_directories(tmp_path: Path) -> None:
    volume = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)  # (K, J, I)
    folder = write_dicom_series(tmp_path / "series", volume)
    image = tioxide.ScalarImage(folder)
    assert image.shape == (1, 6, 5, 4) and image.dtype == np.int16
    assert isinstance(image.dataobj, ours.DicomSeriesBackend) and not image.is_loaded
    assert "(lazy, DICOM)" in repr(image)
    assert image.spacing == pytest.approx((0.5, 0.75, 2.0))
    assert image.origin == pytest.approx((-10.0, 20.0, 30.0)), "LPS (10, -20, 30) in RAS"
    assert image.orientation == ("L", "P", "S")
    expected = torch.from_numpy(volume.T.copy())[None]
    for index in [(slice(None), slice(1, 3), 2, slice(1, 3)), (Ellipsis, slice(None, None, -2))]:
        c, i, j, k = ours.normalize_index(index)
        assert torch.equal(
            image.dataobj[index], torch.from_numpy(expected.numpy()[c, i, j, k].copy())
        )
    assert image[..., 2:2].shape == (1, 6, 5, 0)
    assert torch.equal(image.data, expected)
    # The geometry equals that of SimpleITK's own series reader.
    whole = tioxide.ScalarImage(sitk.ReadImage(sorted(str(p) for p in folder.iterdir())))
    assert torch.equal(whole.data, expected)
    assert np.allclose(whole.affine.numpy(), image.affine.numpy())


def test_dicom_series_choice_and_errors(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    write_dicom_series(folder, np.zeros((2, 3, 4), np.int16), series="1")
    write_dicom_series(folder, np.ones((3, 3, 4), np.int16), series="2")
    with pytest.raises(ValueError, match="2 DICOM series; choose one"):
        _ = tioxide.ScalarImage(folder).shape
    uid = "1.2.826.0.1.3680043.2.1125.2"
    chosen = tioxide.ScalarImage(folder, reader_kwargs={"seriesID": uid})
    assert chosen.shape == (1, 4, 3, 3) and bool((chosen.data == 1).all())
    with pytest.raises(ValueError, match="no DICOM series 'nope'"):
        _ = tioxide.ScalarImage(folder, reader_kwargs={"seriesID": "nope"}).shape
    with pytest.raises(TypeError, match="accepts seriesID"):
        ours.DicomSeriesBackend(folder, reader_kwargs={"mmap": True})
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IsADirectoryError, match="holds no DICOM series"):
        ours.DicomSeriesBackend(empty)
    with pytest.raises(IsADirectoryError, match="holds no DICOM series"):
        _ = tioxide.ScalarImage(empty).data


def test_directories_without_series_are_quiet(tmp_path: Path, capfd: Any) -> None:
    with pytest.raises(IsADirectoryError):
        _ = tioxide.ScalarImage(tmp_path).shape
    assert capfd.readouterr().err == ""
    assert sitk.ProcessObject.GetGlobalWarningDisplay(), "the global setting is restored"
