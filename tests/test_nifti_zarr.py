"""NIfTI-Zarr (``.nii.zarr``): stores written and read by tioxide and by TorchIO 2.0.0a2.

Every store here is a real one, written with ``nifti-zarr`` (the ``zarr``
extra) by ``Image.save`` of either library, then read back by both: from a
path, from an open zarr store, and over HTTP from a local server.
"""

from __future__ import annotations

import copy
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchio
import torchio.data.backends as their_backends
import zarr

import tioxide
import tioxide.data.backends as our_backends
from http_server import serving
from tioxide.data import io as our_io
from tioxide.data.indexing import normalize_index

OBLIQUE = np.array(
    [
        [0.9, -0.3, 0.1, -90.25],
        [0.35, 1.8, -0.2, 12.5],
        [-0.05, 0.25, 2.9, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
#: LPS+ orientation: the first two axes run right-to-left and anterior-to-posterior.
LPS = np.array(
    [
        [-0.8, 0.0, 0.0, 60.5],
        [0.0, -1.25, 0.0, 80.0],
        [0.0, 0.0, 2.5, -30.75],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
#: Axes permuted (I runs along y, J along -x): orientation PLS... as the tests compute it.
PERMUTED = np.array(
    [
        [0.0, -1.5, 0.0, 90.25],
        [2.0, 0.0, 0.0, -12.5],
        [0.0, 0.0, 3.0, -40.125],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
AFFINES = {"oblique": OBLIQUE, "lps": LPS, "permuted": PERMUTED}

_generator = torch.Generator().manual_seed(0)
TENSORS = {
    "uint8-3d": torch.randint(0, 256, (1, 7, 6, 5), dtype=torch.uint8, generator=_generator),
    "int16-3d": (torch.arange(7 * 6 * 5) * 37 - 500).to(torch.int16).reshape(1, 7, 6, 5),
    "float32-3d": torch.randn(1, 7, 6, 5, generator=_generator),
    "float32-4d": torch.randn(3, 7, 6, 5, generator=_generator),
    "int16-4d": torch.randint(-999, 999, (2, 7, 6, 5), dtype=torch.int16, generator=_generator),
}
#: Larger than one 64-voxel chunk along I and K, so that regions span several chunks
#: and nifti-zarr writes a second pyramid level.
BIG = torch.randint(-3000, 3000, (1, 80, 9, 70), dtype=torch.int16, generator=_generator)


def assert_same(ours: Any, theirs: Any) -> None:
    """Same header facts before loading, then same voxels, for a tioxide and a TorchIO image."""
    assert ours.shape == theirs.shape
    assert ours.spatial_shape == theirs.spatial_shape
    assert ours.num_channels == theirs.num_channels
    assert str(ours.dtype) == str(theirs.dtype)
    assert torch.equal(ours.affine.data, theirs.affine.data)
    assert ours.spacing == pytest.approx(theirs.spacing, abs=1e-12)
    assert ours.origin == pytest.approx(theirs.origin, abs=1e-12)
    assert ours.orientation == theirs.orientation
    assert not ours.is_loaded, "the header facts must not load the voxels"
    assert ours.data.dtype == theirs.data.dtype
    assert torch.equal(ours.data, theirs.data)


def save_both(tmp_path: Path, tensor: torch.Tensor, affine: np.ndarray) -> tuple[Path, Path]:
    ours, theirs = tmp_path / "ours.nii.zarr", tmp_path / "theirs.nii.zarr"
    tioxide.ScalarImage(tensor, affine=affine).save(ours)
    torchio.ScalarImage(tensor, affine=affine).save(theirs)
    return ours, theirs


def nifti_header_bytes(path: Path) -> bytes:
    group = zarr.open_group(str(path), mode="r")
    return np.asarray(group["nifti"]).tobytes()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.nii.zarr"
    tioxide.ScalarImage(BIG, affine=OBLIQUE).save(path)
    return path


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("affine_name", AFFINES)
@pytest.mark.parametrize("name", TENSORS)
def test_stores_read_back_as_torchio_reads_them(
    tmp_path: Path, name: str, affine_name: str
) -> None:
    tensor, affine = TENSORS[name], AFFINES[affine_name]
    ours, theirs = save_both(tmp_path, tensor, affine)
    assert ours.is_dir() and theirs.is_dir()
    # Both libraries hand nifti-zarr the same NIfTI header and voxels.
    assert nifti_header_bytes(ours) == nifti_header_bytes(theirs)
    for path in (ours, theirs):
        for our_class, their_class in (
            (tioxide.ScalarImage, torchio.ScalarImage),
            (tioxide.LabelMap, torchio.LabelMap),
        ):
            image = our_class(path)
            assert_same(image, their_class(path))
            assert torch.equal(image.data, tensor)
            np.testing.assert_allclose(image.affine.numpy(), affine, rtol=0, atol=1e-5)
            assert "(lazy, NIfTI-Zarr)" in repr(our_class(path))
            assert isinstance(our_class(path).dataobj, our_backends.ZarrBackend)
            assert isinstance(their_class(path).dataobj, their_backends.ZarrBackend)


def test_orientation_and_geometry(tmp_path: Path) -> None:
    path = tmp_path / "lps.nii.zarr"
    tioxide.ScalarImage(TENSORS["int16-3d"], affine=LPS).save(path)
    image = tioxide.ScalarImage(path)
    assert image.orientation == ("L", "P", "S")
    assert image.spacing == pytest.approx((0.8, 1.25, 2.5))
    assert image.origin == pytest.approx((60.5, 80.0, -30.75))
    assert not image.is_loaded


def test_a_lazy_store_saved_again(tmp_path: Path, big_store: Path) -> None:
    copy_path = tmp_path / "copy.nii.zarr"
    tioxide.ScalarImage(big_store).save(copy_path)
    assert_same(tioxide.ScalarImage(copy_path), torchio.ScalarImage(big_store))
    nifti_copy = tmp_path / "copy.nii.gz"
    tioxide.ScalarImage(big_store).save(nifti_copy)
    assert_same(tioxide.ScalarImage(nifti_copy), torchio.ScalarImage(big_store))


def test_unloaded_images_pickle_and_copy(big_store: Path) -> None:
    # DataLoader workers receive images pickled, with their backend already open.
    image = tioxide.ScalarImage(big_store)
    assert image.shape == BIG.shape
    for duplicate in (pickle.loads(pickle.dumps(image)), copy.deepcopy(image)):
        assert torch.equal(duplicate[..., 66].data, BIG[..., 66:67])
        assert torch.equal(duplicate.data, BIG)
    assert not image.is_loaded
    assert torch.equal(copy.copy(image).data, BIG)  # a shallow copy loads, as in TorchIO


def test_default_reader_and_read_nifti_zarr(big_store: Path) -> None:
    import torchio.data.io as their_io

    for read in (our_io.default_reader, our_io.read_nifti_zarr):
        tensor, affine = read(big_store)
        expected, expected_affine = their_io.read_nifti_zarr(big_store)
        assert tensor.dtype == expected.dtype and torch.equal(tensor, expected)
        assert np.array_equal(affine, expected_affine)


def test_pyramid_level_through_reader_kwargs(big_store: Path) -> None:
    # reader_kwargs go to niizarr.zarr2nii, as in TorchIO.
    for kwargs in ({"level": 0}, {"level": 0, "mode": "r"}):
        assert_same(
            tioxide.ScalarImage(big_store, reader_kwargs=kwargs),
            torchio.ScalarImage(big_store, reader_kwargs=kwargs),
        )
    assert zarr.open_group(str(big_store), mode="r")["1"].shape == (35, 5, 40)
    # nifti-zarr 1.0.0rc8 cannot rescale the affine of a coarser level when the header
    # has no qform (nibabel's Nifti1Image, which both libraries write, sets none): both
    # libraries fail; tioxide names the store.
    with pytest.raises(ValueError, match="matmul"):
        _ = torchio.ScalarImage(big_store, reader_kwargs={"level": 1}).shape
    with pytest.raises(ValueError, match=f"{big_store}: not a NIfTI-Zarr store"):
        _ = tioxide.ScalarImage(big_store, reader_kwargs={"level": 1}).shape
    with pytest.raises(IndexError, match=f"{big_store}: "):
        _ = tioxide.ScalarImage(big_store, reader_kwargs={"level": 7}).shape


def test_explicit_affine_overrides_the_stored_one(big_store: Path) -> None:
    ours = tioxide.ScalarImage(big_store, affine=LPS)
    theirs = torchio.ScalarImage(big_store, affine=LPS)
    assert torch.equal(ours.affine.data, torch.as_tensor(LPS))
    assert_same(ours, theirs)


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize(
    "index",
    [
        (..., 66),
        (..., 3),
        (0, slice(60, 70), slice(None), slice(10, 69, 3)),
        (slice(None), slice(-5, None), 4),
        (..., slice(None, None, -7)),
    ],
)
def test_regions_of_an_unloaded_store(
    big_store: Path, index: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = torch.from_numpy(BIG.numpy()[normalize_index(index)].copy())
    image = tioxide.ScalarImage(big_store)

    def no_full_read(self: Any) -> torch.Tensor:
        raise AssertionError("a region must not read the whole store")

    monkeypatch.setattr(our_backends.ZarrBackend, "to_tensor", no_full_read)
    region = image[index]
    assert not image.is_loaded
    assert torch.equal(region.data, expected)
    theirs = torchio.ScalarImage(big_store)[index]
    assert region.shape == theirs.shape
    assert torch.equal(region.affine.data, theirs.affine.data)
    assert torch.equal(region.data, theirs.data)


def test_region_k_matches_the_loaded_slice(big_store: Path) -> None:
    whole = tioxide.ScalarImage(big_store)
    whole.load()
    for k in (0, 33, 64, 69, -1):
        lazy = tioxide.ScalarImage(big_store)
        region = lazy[..., k]
        assert not lazy.is_loaded
        assert torch.equal(region.data, whole[..., k].data)
        assert torch.equal(region.data[..., 0], whole.data[..., k])
        assert torch.equal(region.affine.data, whole[..., k].affine.data)


# --------------------------------------------------------------------------- stores


def test_zarr_store_objects(tmp_path: Path, big_store: Path) -> None:
    store = zarr.storage.LocalStore(big_store, read_only=True)
    ours, theirs = tioxide.ScalarImage(store), torchio.ScalarImage(store)
    assert ours.path is None
    assert type(ours.dataobj).__name__ == type(theirs.dataobj).__name__
    assert_same(ours, theirs)
    assert torch.equal(ours.data, BIG)
    region = tioxide.ScalarImage(store)[:, 10:70:9, 2]
    assert torch.equal(region.data, BIG[:, 10:70:9, 2:3])
    duplicate = copy.deepcopy(tioxide.LabelMap(store))
    assert torch.equal(duplicate.data, BIG)


def test_in_memory_store(tmp_path: Path) -> None:
    import nibabel as nib
    import niizarr

    tensor = TENSORS["float32-4d"]
    store = zarr.storage.MemoryStore()
    group = zarr.open_group(store, mode="w", zarr_format=3)
    nii = nib.Nifti1Image(tensor.permute(1, 2, 3, 0).numpy(), OBLIQUE)
    niizarr.nii2zarr(nii, group, zarr_version=3)
    ours, theirs = tioxide.ScalarImage(store), torchio.ScalarImage(store)
    assert_same(ours, theirs)
    assert torch.equal(ours.data, tensor)


# --------------------------------------------------------------------------- HTTP


@pytest.fixture
def server(big_store: Path) -> Iterator[str]:
    with serving(big_store.parent) as url:
        yield url


def test_remote_store_over_http(server: str, big_store: Path) -> None:
    url = f"{server}/{big_store.name}"
    ours, theirs = tioxide.ScalarImage(url), torchio.ScalarImage(url)
    assert ours.path is None
    assert f"{url} (lazy, NIfTI-Zarr)" in repr(ours)
    assert_same(ours, theirs)
    assert torch.equal(ours.data, BIG)
    assert f"{url} (loaded)" in repr(ours)
    region = tioxide.ScalarImage(url + "/")[..., 66]
    assert torch.equal(region.data, BIG[..., 66:67])
    with pytest.raises(FileNotFoundError, match="missing.nii.zarr"):
        _ = tioxide.ScalarImage(f"{server}/missing.nii.zarr").shape


# --------------------------------------------------------------------------- bad inputs


def test_missing_store_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.nii.zarr"
    for image in (tioxide.ScalarImage(path), tioxide.LabelMap(str(path))):
        with pytest.raises(FileNotFoundError, match=f"{path}.*no such NIfTI-Zarr") as info:
            _ = image.shape
        # zarr's GroupNotFoundError, which TorchIO lets through, is both too.
        assert isinstance(info.value, ValueError)
        with pytest.raises(FileNotFoundError, match="missing.nii.zarr"):
            image.load()


@pytest.mark.parametrize("kind", ["empty", "junk", "group", "file"])
def test_not_a_nifti_zarr_names_the_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.nii.zarr"
    if kind == "file":
        path.write_bytes(b"not a zarr store")
    else:
        path.mkdir()
        if kind == "junk":
            (path / "notes.txt").write_text("hello")
        elif kind == "group":
            zarr.open_group(str(path), mode="w").create_group("child")
    image = tioxide.ScalarImage(path)
    with pytest.raises(ValueError, match=f"{path}: not a NIfTI-Zarr store"):
        _ = image.shape
    with pytest.raises(ValueError, match=f"{kind}.nii.zarr"):
        image.load()
    if kind in ("empty", "junk"):
        # No zarr node at all: TorchIO lets zarr's GroupNotFoundError through, which is
        # a FileNotFoundError too; tioxide's error is one as well.
        for library in (tioxide, torchio):
            with pytest.raises(FileNotFoundError):
                _ = library.ScalarImage(path).shape


def test_missing_extra_is_named(tmp_path: Path, big_store: Path, monkeypatch: Any) -> None:
    # Simulate an environment without the ``zarr`` extra: ``import niizarr`` fails.
    monkeypatch.setitem(sys.modules, "niizarr", None)
    sources: list[Any] = [
        big_store,
        "https://example.com/brain.nii.zarr",
        zarr.storage.LocalStore(big_store, read_only=True),
    ]
    for source in sources:
        with pytest.raises(ImportError, match=r"nifti-zarr.*pip install tioxide\[zarr\]"):
            _ = tioxide.ScalarImage(source).shape
    with pytest.raises(ImportError, match=r"nifti-zarr.*pip install tioxide\[zarr\]"):
        tioxide.ScalarImage(BIG).save(tmp_path / "x.nii.zarr")
    assert not (tmp_path / "x.nii.zarr").exists()
