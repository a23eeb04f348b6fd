"""tioxide's Image API against torchio 2.0.0a2, for in-memory images and single files.

The file corpus and random regions are in test_image_differential.py.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import humanize
import nibabel as nib
import numpy as np
import pytest
import torch
import torchio
from torchio.data.backends import normalize_index as torchio_normalize_index

import tioxide
from tioxide import nifti
from tioxide.data import image as image_module
from tioxide.data.backends import NiftiBackend, TensorBackend
from tioxide.data.formatting import binary_size
from tioxide.data.indexing import normalize_index

OBLIQUE = np.array(
    [
        [0.9, -0.3, 0.1, -90.25],
        [0.35, 1.8, -0.2, 12.5],
        [-0.05, 0.25, 2.9, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)

PAIRS = [
    (tioxide.ScalarImage, torchio.ScalarImage),
    (tioxide.LabelMap, torchio.LabelMap),
    (tioxide.Image, torchio.Image),
]


def assert_same_image(ours: Any, theirs: Any, *, loaded: bool | None = None) -> None:
    """Every property of ``ours`` equals that of ``theirs``; data equal in values and dtype."""
    assert type(ours).__name__ == type(theirs).__name__
    if loaded is not None:
        assert ours.is_loaded is loaded is theirs.is_loaded
    assert ours.shape == theirs.shape
    assert ours.spatial_shape == theirs.spatial_shape
    assert ours.num_channels == theirs.num_channels
    assert ours.dtype == theirs.dtype
    assert ours.memory == theirs.memory
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert ours.spacing == theirs.spacing
    assert ours.origin == theirs.origin
    assert ours.orientation == theirs.orientation
    assert ours.metadata == theirs.metadata
    assert ours.path == theirs.path
    assert repr(ours) == repr(theirs)
    assert ours.data.dtype == theirs.data.dtype
    assert torch.equal(ours.data, theirs.data)
    assert ours.device == theirs.device


# --------------------------------------------------------------------------- top-level names


def test_names_are_where_torchio_code_expects_them() -> None:
    assert tioxide.ScalarImage is tioxide.data.ScalarImage is image_module.ScalarImage
    assert tioxide.LabelMap is image_module.LabelMap
    assert tioxide.Image is image_module.Image
    assert tioxide.AffineMatrix is tioxide.data.AffineMatrix
    from tioxide import Image, LabelMap, ScalarImage  # noqa: F401

    assert issubclass(tioxide.ScalarImage, tioxide.Image)
    assert issubclass(tioxide.LabelMap, tioxide.Image)
    assert not issubclass(tioxide.LabelMap, tioxide.ScalarImage)
    assert {"ScalarImage", "LabelMap", "Image", "AffineMatrix", "nifti"} <= set(dir(tioxide))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        tioxide.Nope  # noqa: B018


def test_import_tioxide_does_not_import_torch() -> None:
    code = (
        "import sys, tioxide; assert 'torch' not in sys.modules; "
        "tioxide.ScalarImage; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- tensor sources


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_tensor_source(ours: Any, theirs: Any) -> None:
    tensor = torch.randn(2, 5, 6, 7)
    a = ours(tensor, affine=OBLIQUE, protocol="MPRAGE", check_nans=True)
    b = theirs(tensor, affine=OBLIQUE, protocol="MPRAGE", check_nans=True)
    assert a.data is tensor  # kept, not copied (as TorchIO)
    assert a.metadata == {"protocol": "MPRAGE", "check_nans": True}
    assert_same_image(a, b, loaded=True)


def test_check_nans_is_metadata_as_in_torchio_2() -> None:
    tensor = torch.full((1, 2, 2, 2), float("nan"))
    ours = tioxide.ScalarImage(tensor, check_nans=True)
    theirs = torchio.ScalarImage(tensor, check_nans=True)
    assert ours.check_nans is True and ours["check_nans"] is True
    assert ours.metadata == theirs.metadata
    assert torch.isnan(ours.data).all()


@pytest.mark.parametrize(
    "dtype",
    [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64]
    + [np.float16, np.float32, np.float64, np.complex64, np.complex128],
)
def test_numpy_source_is_copied_and_promoted(dtype: Any) -> None:
    rng = np.random.default_rng(0)
    array = (rng.random((1, 3, 4, 5)) * 100).astype(dtype)
    array_f = np.asfortranarray(array)
    for source in (array, array_f, array[:, ::-1]):
        ours = tioxide.ScalarImage(source)
        theirs = torchio.ScalarImage(source)
        assert ours.data.dtype == theirs.data.dtype
        assert torch.equal(ours.data, theirs.data)
        assert ours.data.is_contiguous()
        assert not np.shares_memory(ours.data.numpy(), source)
        assert ours.dtype == theirs.dtype and ours.memory == theirs.memory


def test_channels_last_tensor() -> None:
    tensor = torch.arange(3 * 4 * 5 * 2).reshape(3, 4, 5, 2)
    ours = tioxide.ScalarImage(tensor, channels_last=True)
    theirs = torchio.ScalarImage(tensor, channels_last=True)
    assert ours.shape == theirs.shape == (2, 3, 4, 5)
    assert torch.equal(ours.data, theirs.data)
    assert ours.data.data_ptr() == tensor.data_ptr()  # a view


@pytest.mark.parametrize(
    ("source", "kwargs"),
    [
        (torch.zeros(2, 3, 4), {}),
        (np.zeros((1, 2, 3, 4, 5)), {}),
        (torch.zeros(1, 2, 3, 4), {"affine": np.eye(3)}),
        (torch.zeros(1, 2, 3, 4), {"affine": torch.zeros(4, 5)}),
        ("x.nii", {"affine": np.eye(3)}),
    ],
)
def test_bad_tensors_and_affines(source: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as ours:
        tioxide.ScalarImage(source, **kwargs)
    with pytest.raises(ValueError) as theirs:
        torchio.ScalarImage(source, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_affine_object_is_kept() -> None:
    affine = tioxide.AffineMatrix(OBLIQUE)
    image = tioxide.ScalarImage(torch.zeros(1, 2, 3, 4), affine=affine)
    assert image.affine is affine


# --------------------------------------------------------------------------- empty images


@pytest.mark.parametrize("attribute", ["shape", "affine", "dtype", "data", "spacing", "dataobj"])
def test_empty_image_errors(attribute: str) -> None:
    with pytest.raises(RuntimeError) as ours:
        getattr(tioxide.ScalarImage(), attribute)
    with pytest.raises(RuntimeError) as theirs:
        getattr(torchio.ScalarImage(), attribute)
    if attribute != "dataobj":
        assert str(ours.value) == str(theirs.value)


def test_empty_image_then_set_data() -> None:
    tensor = torch.rand(1, 2, 3, 4)
    ours, theirs = tioxide.LabelMap(), torchio.LabelMap()
    assert repr(ours) == repr(theirs)
    ours.set_data(tensor)
    theirs.set_data(tensor)
    assert_same_image(ours, theirs, loaded=True)
    assert isinstance(ours.dataobj, TensorBackend)


# --------------------------------------------------------------------------- methods


def test_set_data_to_numpy_new_like() -> None:
    tensor = torch.rand(2, 3, 4, 5)
    ours = tioxide.ScalarImage(tensor, affine=OBLIQUE, name="x")
    theirs = torchio.ScalarImage(tensor, affine=OBLIQUE, name="x")
    new = np.arange(24, dtype=np.uint16).reshape(1, 2, 3, 4)
    ours.set_data(new)
    theirs.set_data(new)
    assert_same_image(ours, theirs)
    with pytest.raises(ValueError, match="4D"):
        ours.set_data(torch.zeros(2, 3))
    assert ours.to(torch.float64) is ours
    theirs.to(torch.float64)
    assert_same_image(ours, theirs)
    assert ours.dataobj.dtype == np.float64
    ours.to(torch.float32)
    theirs.to(torch.float32)
    assert_same_image(ours, theirs)  # the affine went through float32, as in TorchIO
    assert np.shares_memory(ours.numpy(), ours.data.numpy())
    like = ours.new_like(data=torch.zeros(3, 1, 1, 1))
    like_theirs = theirs.new_like(data=torch.zeros(3, 1, 1, 1))
    assert_same_image(like, like_theirs)
    assert like.affine is not ours.affine
    moved = ours.new_like(data=torch.zeros(1, 1, 1, 1), affine=np.diag([2.0, 2, 2, 1]))
    assert moved.spacing == (2.0, 2.0, 2.0) and moved.metadata == {"name": "x"}

    class Custom(tioxide.LabelMap):
        pass

    assert type(Custom(tensor).new_like(data=tensor)) is Custom


def test_metadata_access() -> None:
    ours = tioxide.ScalarImage(torch.zeros(1, 1, 1, 1), modality="T1", path="not-a-path")
    theirs = torchio.ScalarImage(torch.zeros(1, 1, 1, 1), modality="T1", path="not-a-path")
    assert ours["modality"] == ours.modality == "T1"
    assert ours.path is None  # a 'path' keyword is metadata in TorchIO 2.0.0a2
    assert ours.metadata == theirs.metadata
    for key in ("missing", "_private"):
        with pytest.raises(AttributeError) as a:
            getattr(ours, key)
        with pytest.raises(AttributeError) as b:
            getattr(theirs, key)
        assert str(a.value) == str(b.value)
    with pytest.raises(KeyError) as ka:
        ours["missing"]
    with pytest.raises(KeyError) as kb:
        theirs["missing"]
    assert str(ka.value) == str(kb.value)


def test_history_and_annotations() -> None:
    image = tioxide.ScalarImage(torch.zeros(1, 1, 1, 1))
    assert image.applied_transforms == [] and image.points == {} and image.bounding_boxes == {}
    image.applied_transforms.append("flip")
    image.clear_history()
    assert image.applied_transforms == []
    for kwargs in ({"points": {"a": object()}}, {"bounding_boxes": {"a": object()}}):
        with pytest.raises(TypeError, match="for key 'a', got object") as ours:
            tioxide.ScalarImage(torch.zeros(1, 1, 1, 1), **kwargs)
        with pytest.raises(TypeError) as theirs:
            torchio.ScalarImage(torch.zeros(1, 1, 1, 1), **kwargs)
        assert str(ours.value) == str(theirs.value)


def test_copies_of_tensor_images() -> None:
    tensor = torch.rand(1, 3, 4, 5)
    image = tioxide.LabelMap(tensor, affine=OBLIQUE, label="seg")
    for dup in (copy.copy(image), copy.deepcopy(image), pickle.loads(pickle.dumps(image))):
        assert type(dup) is tioxide.LabelMap
        assert torch.equal(dup.data, tensor) and dup.data.data_ptr() != tensor.data_ptr()
        assert dup.affine == image.affine and dup.affine is not image.affine
        assert dup.metadata == image.metadata
    holder = [image, image]
    copied = copy.deepcopy(holder)
    assert copied[0] is copied[1]


# --------------------------------------------------------------------------- indexing


def _random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    def one(n: int) -> Any:
        kind = rng.integers(6)
        if kind == 0:
            return int(rng.integers(-n - 1, n + 1))
        if kind == 1:
            return slice(None)
        start = rng.choice([None, *range(-n - 1, n + 2)])
        stop = rng.choice([None, *range(-n - 1, n + 2)])
        step = rng.choice([None, 1, 2, 3, -1, -2])
        return slice(
            None if start is None else int(start),
            None if stop is None else int(stop),
            None if step is None else int(step),
        )

    items: list[Any] = [one(n) for n in shape[: rng.integers(0, 5)]]
    if rng.random() < 0.3:
        items.insert(int(rng.integers(len(items) + 1)), Ellipsis)
    if len(items) == 1 and rng.random() < 0.5:
        return items[0]
    return tuple(items)


def test_normalize_index_equals_torchio() -> None:
    rng = np.random.default_rng(7)
    for _ in range(3000):
        index = _random_index(rng, (3, 5, 6, 7))
        assert normalize_index(index) == torchio_normalize_index(index), index
    for index in (True, (False, 1), (..., -1), ()):
        assert normalize_index(index) == torchio_normalize_index(index)


@pytest.mark.parametrize(
    "index", [1.5, (slice(None), None), ..., (..., ...), (1, 2, 3, 4, 5), (np.int64(1),), "x"]
)
def test_index_errors_equal_torchio(index: Any) -> None:
    ours = tioxide.ScalarImage(torch.zeros(1, 2, 2, 2))
    theirs = torchio.ScalarImage(torch.zeros(1, 2, 2, 2))
    try:
        expected = theirs[index]
    except Exception as e:
        with pytest.raises(type(e)) as info:
            ours[index]
        assert str(info.value.args[0]).startswith(str(e.args[0]))
    else:
        got = ours[index]
        assert torch.equal(got.data, expected.data)


def test_tensor_image_indexing_equals_torchio() -> None:
    rng = np.random.default_rng(11)
    tensor = torch.randn(3, 5, 6, 7)
    ours = tioxide.ScalarImage(tensor, affine=OBLIQUE, tag=1)
    theirs = torchio.ScalarImage(tensor, affine=OBLIQUE, tag=1)
    for _ in range(300):
        index = _random_index(rng, ours.shape)
        try:
            expected = theirs[index]
        except ValueError as e:  # negative steps on tensors
            with pytest.raises(ValueError, match=str(e)):
                ours[index]
            continue
        got = ours[index]
        assert type(got) is tioxide.ScalarImage
        assert got.shape == expected.shape
        assert torch.equal(got.data, expected.data)
        assert torch.equal(got.affine.data, expected.affine.data)
        assert got.metadata == {"tag": 1}
        # A view of the tensor, as in TorchIO.
        assert got.data.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr()


# --------------------------------------------------------------------------- files


@pytest.fixture
def nii_4d(tmp_path: Path) -> Path:
    array = np.random.default_rng(5).integers(0, 1000, size=(6, 5, 4, 3)).astype(np.int16)
    path = tmp_path / "four.nii.gz"
    nib.save(nib.Nifti1Image(array, OBLIQUE), path)
    return path


def test_path_image_is_lazy(nii_4d: Path) -> None:
    ours = tioxide.ScalarImage(nii_4d)
    theirs = torchio.ScalarImage(nii_4d)
    assert repr(ours) == repr(theirs)
    assert not ours.is_loaded
    for name in ("shape", "spatial_shape", "num_channels", "spacing", "origin", "orientation"):
        assert getattr(ours, name) == getattr(theirs, name)
    assert ours.dtype == theirs.dtype == np.dtype(np.int16)
    assert ours.memory == theirs.memory
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert isinstance(ours.dataobj, NiftiBackend)
    assert not ours.is_loaded
    assert_same_image(ours, theirs, loaded=None)
    assert ours.is_loaded


def test_construction_reads_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.nii.gz"
    ours = tioxide.ScalarImage(str(missing))
    assert ours.path == missing
    with pytest.raises(FileNotFoundError, match="missing.nii.gz"):
        ours.shape  # noqa: B018
    assert repr(ours) == repr(torchio.ScalarImage(str(missing)))


def test_paths_and_pathlikes(nii_4d: Path) -> None:
    class PathLike:
        def __fspath__(self) -> str:
            return str(nii_4d)

    for source in (nii_4d, str(nii_4d), PathLike()):
        image = tioxide.ScalarImage(source)
        assert image.path == nii_4d and image.shape == (3, 6, 5, 4)
    assert tioxide.ScalarImage(nii_4d).path is not None


def test_unloaded_region_reads_only_the_region(
    nii_4d: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real_read = nifti.read

    def spy(path: Any, region: Any = None) -> Any:
        calls.append(region)
        return real_read(path, region)

    monkeypatch.setattr(nifti, "read", spy)
    image = tioxide.ScalarImage(nii_4d)
    patch = image[1, 2:4, ::-2, -1]
    assert not image.is_loaded
    assert calls == [(slice(2, 4), slice(None, None, -2), slice(-1, None), slice(1, 2))]
    expected = torchio.ScalarImage(nii_4d)[1, 2:4, ::-2, -1]
    assert torch.equal(patch.data, expected.data)
    assert torch.equal(patch.affine.data, expected.affine.data)
    assert patch.path is None and patch.is_loaded


def test_channels_last_file(nii_4d: Path) -> None:
    ours = tioxide.ScalarImage(nii_4d, channels_last=True)
    theirs = torchio.ScalarImage(nii_4d, channels_last=True)
    assert ours.shape == theirs.shape == (3, 6, 5, 4)  # from the header, not permuted
    assert torch.equal(ours[..., 1:3].data, theirs[..., 1:3].data)  # nor are lazy regions
    ours.load()
    theirs.load()
    assert ours.shape == theirs.shape == (4, 3, 6, 5)
    assert torch.equal(ours.data, theirs.data)


def test_affine_override_for_files(nii_4d: Path) -> None:
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    ours = tioxide.ScalarImage(nii_4d, affine=affine)
    theirs = torchio.ScalarImage(nii_4d, affine=affine)
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert torch.equal(ours.dataobj.affine, theirs.dataobj.affine)
    assert torch.equal(ours[:, 1:].affine.data, theirs[:, 1:].affine.data)
    assert_same_image(ours, theirs)


def test_set_data_on_a_file_image_keeps_the_header_affine(nii_4d: Path) -> None:
    ours, theirs = tioxide.ScalarImage(nii_4d), torchio.ScalarImage(nii_4d)
    tensor = torch.ones(1, 2, 2, 2)
    ours.set_data(tensor)
    theirs.set_data(tensor)
    assert_same_image(ours, theirs)
    assert isinstance(ours.dataobj, TensorBackend)


def test_copies_of_file_images(nii_4d: Path) -> None:
    image = tioxide.ScalarImage(nii_4d, subject="s1")
    shape = image.shape
    deep = copy.deepcopy(image)
    assert not deep.is_loaded and deep.path == nii_4d and deep.shape == shape
    assert deep.metadata == {"subject": "s1"}
    unpickled = pickle.loads(pickle.dumps(image))
    assert not unpickled.is_loaded and unpickled.shape == shape
    assert torch.equal(unpickled.data, image.data)
    assert image.is_loaded
    deep_loaded = copy.deepcopy(image)
    assert deep_loaded.is_loaded and deep_loaded.path == nii_4d
    assert deep_loaded.data.data_ptr() != image.data.data_ptr()
    assert torch.equal(deep_loaded.data, image.data)
    shallow = copy.copy(tioxide.ScalarImage(nii_4d))
    assert shallow.path is None and torch.equal(shallow.data, image.data)


def test_file_shape_rules(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for shape in [(4, 3), (4, 3, 2, 2, 2), (4, 3, 2, 1, 2, 2), (4,)]:
        path = tmp_path / f"bad{len(shape)}.nii"
        nib.save(nib.Nifti1Image(rng.random(shape).astype(np.float32), np.eye(4)), path)
        for attribute in ("shape", "affine", "dtype", "data"):
            with pytest.raises(ValueError, match="3D or 4D") as info:
                getattr(tioxide.ScalarImage(path), attribute)
            assert str(path) in str(info.value)
            with pytest.raises(ValueError, match="3D or 4D"):
                getattr(torchio.ScalarImage(path), attribute)
    vector = tmp_path / "vector.nii"  # (I, J, K, 1, C), as SimpleITK writes vector images
    nib.save(nib.Nifti1Image(rng.random((4, 3, 2, 1, 5)).astype(np.float32), OBLIQUE), vector)
    assert_same_image(tioxide.ScalarImage(vector), torchio.ScalarImage(vector))
    assert tioxide.ScalarImage(vector).shape == (5, 4, 3, 2)


def test_unsupported_sources(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="got int"):
        tioxide.ScalarImage(3)  # type: ignore[arg-type]
    other = tmp_path / "image.nrrd"
    other.write_bytes(b"NRRD0004\n")
    image = tioxide.ScalarImage(other)
    for attribute in ("shape", "affine", "dtype", "data", "dataobj"):
        with pytest.raises(ValueError, match="unsupported image format") as info:
            getattr(image, attribute)
        assert str(other) in str(info.value)
    assert repr(image) == f'ScalarImage(\n    path: "{other}"\n)'


def test_custom_reader(tmp_path: Path, nii_4d: Path) -> None:
    path = tmp_path / "volume.npy"
    array = np.random.default_rng(0).random((2, 3, 4, 5)).astype(np.float32)
    np.save(path, array)

    def reader(p: Path, scale: float = 1.0) -> tuple[torch.Tensor, np.ndarray]:
        return torch.from_numpy(np.load(p) * scale), np.diag([scale, 1.0, 1.0, 1.0])

    for kwargs in ({}, {"reader_kwargs": {"scale": 2.0}}):
        ours = tioxide.ScalarImage(path, reader=reader, **kwargs)
        theirs = torchio.ScalarImage(path, reader=reader, **kwargs)
        assert ours.shape == theirs.shape and ours.is_loaded
        assert_same_image(ours, theirs)
    lazy_dtype = tioxide.ScalarImage(path, reader=reader)
    assert lazy_dtype.dtype == torch.float32 and lazy_dtype.is_loaded

    def nifti_reader(p: Path) -> tuple[torch.Tensor, np.ndarray]:
        img = nib.load(p)
        return torch.zeros(1, 2, 2, 2), img.affine * 2

    # A custom reader on a NIfTI path: shape and affine load through the reader.
    ours = tioxide.ScalarImage(nii_4d, reader=nifti_reader)
    theirs = torchio.ScalarImage(nii_4d, reader=nifti_reader)
    assert ours.shape == theirs.shape == (1, 2, 2, 2) and ours.is_loaded
    assert_same_image(ours, theirs)


def test_reader_kwargs_for_the_default_reader(nii_4d: Path) -> None:
    image = tioxide.ScalarImage(nii_4d, reader_kwargs={"mmap": False, "keep_file_open": False})
    assert image.shape == (3, 6, 5, 4)
    with pytest.raises(TypeError, match=f"{nii_4d}: unexpected reader keyword argument.*dtype"):
        tioxide.ScalarImage(nii_4d, reader_kwargs={"dtype": "float32"}).shape  # noqa: B018
    tensor, affine = image_module.default_reader(nii_4d)
    assert torch.equal(tensor, torchio.ScalarImage(nii_4d).data)
    assert np.array_equal(affine, torchio.ScalarImage(nii_4d).affine.numpy())


@pytest.mark.parametrize("kwargs", [{"keep_file_open": True}, {"mmap": "r"}])
def test_reader_kwargs_hand_the_file_to_nibabel(
    nii_4d: Path, tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    # nibabel's own options ask for nibabel's file handling: nibabel loads the file
    # with them when the voxels are read, as TorchIO does; values equal the core's.
    ours = tioxide.ScalarImage(nii_4d, reader_kwargs=kwargs)
    theirs = torchio.ScalarImage(nii_4d, reader_kwargs=kwargs)
    with mock.patch("tioxide.data.image.nib.load", wraps=nib.load) as load:
        ours.load()
    load.assert_called_once_with(nii_4d, **kwargs)
    theirs.load()
    assert_same_image(ours, theirs, loaded=True)
    assert torch.equal(ours.data, tioxide.ScalarImage(nii_4d).data)
    tensor, _ = image_module.default_reader(nii_4d, **kwargs)
    assert torch.equal(tensor, ours.data)
    # The core still checks the header first: a bad file gets tioxide's error.
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"\0" * 400)
    with pytest.raises(tioxide.InvalidHeaderError, match="bad.nii"):
        tioxide.ScalarImage(bad, reader_kwargs=kwargs).load()


def test_reader_modules_reachable_as_in_torchio() -> None:
    import SimpleITK

    assert image_module.nib is nib
    assert image_module.sitk is SimpleITK
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        image_module.nope  # noqa: B018


# --------------------------------------------------------------------------- repr


@pytest.mark.parametrize(
    "size",
    [0, 1, 2, 1023, 1024, 1025, 1536, 10**6, 1048575, 1048576, 5 * 2**30, 2**80 - 1, 2**90, -1],
)
def test_binary_size_equals_humanize(size: int) -> None:
    assert binary_size(size) == humanize.naturalsize(size, binary=True)


def test_repr_equals_torchio(nii_4d: Path) -> None:
    tensor = torch.zeros(2, 30, 40, 50, dtype=torch.float64)
    assert repr(tioxide.LabelMap(tensor, affine=OBLIQUE)) == repr(
        torchio.LabelMap(tensor, affine=OBLIQUE)
    )
    degenerate = np.diag([1.0, 0.0, 1.0, 1.0])
    assert repr(tioxide.Image(tensor, affine=degenerate)) == repr(
        torchio.Image(tensor, affine=degenerate)
    )
    ours, theirs = tioxide.ScalarImage(nii_4d), torchio.ScalarImage(nii_4d)
    assert repr(ours) == repr(theirs)
    ours.load()
    theirs.load()
    assert repr(ours) == repr(theirs)
