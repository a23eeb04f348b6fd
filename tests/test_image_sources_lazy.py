"""Images from URLs, file objects and bytes are read in place, not copied.

A URL ``.nii.gz`` is served by the byte-counting server of test_remote: its
header and a patch cost a small fraction of the file, ``load()`` the file
once, and the results equal a local read and TorchIO 2.0.0a2 reading the file
locally. File objects are read where they are, with no temporary file; bad
ones give errors that name them.
"""

from __future__ import annotations

import copy
import io
import pickle
import tempfile
import threading
import weakref
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio

import tioxide
from test_image_sources import OBLIQUE, assert_same
from test_remote import _Counting
from tioxide import gz, nifti, remote

SHAPE = (128, 128, 512)
PATCH = (slice(None), slice(10, 42), slice(10, 42), slice(10, 42))
# The same oblique affine as the eager tests, and the same comparison (data,
# dtype, affine; metadata too, which URL and local images share).
AFFINE = OBLIQUE


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16 MiB int16 volume as .nii.gz (with a saved seek index), .nii and
    .nii.gz without index, served from one folder."""
    root = tmp_path_factory.mktemp("served")
    rng = np.random.default_rng(7)
    data = (np.cumsum(rng.normal(size=SHAPE), axis=2) * 40).astype(np.int16)
    image = nib.Nifti1Image(data, AFFINE)
    for name in ("indexed.nii.gz", "plain.nii", "bare.nii.gz"):
        nib.save(image, root / name)
    gz.build_index(root / "indexed.nii.gz", save=True)
    return root


@pytest.fixture
def server(files: Path) -> Iterator[tuple[str, type[_Counting]]]:
    handler = type("Handler", (_Counting,), {"root": files, "sent": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    nifti.clear_cache()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def fetched(handler: type[_Counting]) -> int:
    total = sum(handler.sent)
    handler.sent.clear()
    return total


@pytest.fixture
def no_temporary_files(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a temporary file was made")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)


# --------------------------------------------------------------------------- URLs


def test_url_nii_gz_fetches_header_then_patch_then_file_once(
    server: Any, files: Path, no_temporary_files: None
) -> None:
    url, handler = server
    path = files / "indexed.nii.gz"
    compressed = path.stat().st_size
    sidecar = gz.sidecar_path(path).stat().st_size
    # The compressed size of a seek-index chunk (the span's output).
    chunk = compressed * gz.cache_stats()["span"]["bytes"] / (np.prod(SHAPE) * 2)

    image = tioxide.ScalarImage(f"{url}/indexed.nii.gz")
    assert fetched(handler) == 0, "the constructor only asks whether the file is there"
    assert image.shape == (1, *SHAPE) and image.path is None and not image.is_loaded
    local = torchio.ScalarImage(path)
    assert torch.equal(image.affine.data, local.affine.data)
    assert image.spacing == local.spacing and image.dtype == local.dtype
    header_bytes = fetched(handler)
    # The header costs a small read from the start of the stream (not the
    # saved index, nor the index's first chunk).
    assert header_bytes <= 2 * (2 + (32 << 10)), (header_bytes, compressed)

    patch = image[PATCH]
    patch_bytes = fetched(handler)
    # The saved index and the chunks of the patch's z-extent (32 of 512 planes).
    z_extent = compressed * 32 / SHAPE[2]
    assert patch_bytes <= sidecar + 2 * z_extent + chunk, (patch_bytes, z_extent)
    assert patch_bytes < compressed / 4
    assert not image.is_loaded
    assert_same(patch, local[PATCH])
    assert_same(patch, tioxide.ScalarImage(path)[PATCH])

    image.load()
    load_bytes = fetched(handler)
    assert compressed - 16 <= load_bytes <= compressed + 4096, (load_bytes, compressed)
    assert_same(image, local)
    print(f"\n.nii.gz of {compressed} bytes over HTTP: header {header_bytes}, ", end="")
    print(f"32^3 patch {patch_bytes}, load {load_bytes}")


def test_url_nii_reads_only_the_patch_span(server: Any, files: Path) -> None:
    url, handler = server
    image = tioxide.LabelMap(f"{url}/plain.nii")
    local = torchio.LabelMap(files / "plain.nii")
    assert image.shape == local.shape and repr(image) == repr(local)
    assert fetched(handler) <= 2 * 352, "the header of a .nii is its first bytes"
    patch = image[PATCH]
    # One range from the patch's first voxel to its last: 32 of 256 planes.
    assert fetched(handler) <= (files / "plain.nii").stat().st_size * 33 / SHAPE[2]
    assert_same(image[:, 3:9, 100:, 200:201], local[:, 3:9, 100:, 200:201])
    assert_same(patch, local[PATCH])


def test_remote_fsspec_open_file_reads_in_place(
    server: Any, files: Path, no_temporary_files: None
) -> None:
    """An ``fsspec.open(url)`` object is read as its URL is: the patch costs
    its z-extent, not the file; a local one is still copied (as TorchIO)."""
    import fsspec

    url, handler = server
    path = files / "bare.nii.gz"
    image = tioxide.ScalarImage(fsspec.open(f"{url}/bare.nii.gz", "rb"))
    assert not image.is_loaded and image.shape == (1, *SHAPE)
    patch = image[PATCH]
    assert fetched(handler) < path.stat().st_size / 4
    assert_same(patch, torchio.ScalarImage(path)[PATCH])
    image.load()
    assert_same(image, torchio.ScalarImage(path))


def test_url_without_index_equals_local(server: Any, files: Path) -> None:
    url, handler = server
    image = tioxide.ScalarImage(f"{url}/bare.nii.gz")
    patch = image[PATCH]
    # Without a saved index the stream is inflated up to the patch's end.
    assert fetched(handler) < (files / "bare.nii.gz").stat().st_size / 4
    assert_same(patch, torchio.ScalarImage(files / "bare.nii.gz")[PATCH])


def test_url_repr_equals_torchio_of_the_local_file(server: Any, files: Path) -> None:
    url, _ = server
    ours = tioxide.ScalarImage(f"{url}/indexed.nii.gz")
    assert repr(ours) == repr(torchio.ScalarImage(files / "indexed.nii.gz"))
    ours.load()
    assert "indexed.nii.gz (loaded)" in repr(ours)


def test_url_images_copy_pickle_and_transform_lazily(server: Any, files: Path) -> None:
    url, handler = server
    image = tioxide.ScalarImage(f"{url}/indexed.nii.gz")
    local = tioxide.ScalarImage(files / "indexed.nii.gz")
    for other in (copy.deepcopy(image), pickle.loads(pickle.dumps(image))):
        assert not other.is_loaded
        assert_same(other[PATCH], local[PATCH])
    fetched(handler)
    cropped = tioxide.CropOrPad((32, 32, 32))(image)
    assert not cropped.is_loaded
    assert fetched(handler) < (files / "indexed.nii.gz").stat().st_size / 4
    assert_same(cropped, tioxide.CropOrPad((32, 32, 32))(local))
    assert "indexed.nii.gz (lazy, NIfTI)" in repr(tioxide.Flip(axes=0)(image))


def test_url_errors_name_the_url(server: Any, files: Path) -> None:
    url, _ = server
    (files / "text.nii.gz").write_bytes(b"not an image at all" * 40)
    image = tioxide.ScalarImage(f"{url}/text.nii.gz")
    with pytest.raises(tioxide.NiftiError, match="text.nii.gz"):
        _ = image.shape
    with pytest.raises(FileNotFoundError, match="gone.nii.gz: no such remote file"):
        tioxide.ScalarImage(f"{url}/gone.nii.gz")


def test_other_urls_and_custom_readers_still_download(server: Any, files: Path) -> None:
    import SimpleITK as sitk

    url, _ = server
    nrrd = files / "small.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.arange(60, dtype=np.int16).reshape(5, 4, 3)), nrrd)
    other = tioxide.ScalarImage(f"{url}/small.nrrd")
    assert other.path is not None and other.path.name.endswith(".nrrd")
    assert_same(other, torchio.ScalarImage(nrrd))

    def reader(path: Path) -> tuple[torch.Tensor, np.ndarray]:
        return torch.zeros(1, 2, 3, 4), np.eye(4)

    custom = tioxide.ScalarImage(f"{url}/plain.nii", reader=reader)
    # A custom reader is given a local file, as in TorchIO.
    assert custom.path is not None and custom.path.read_bytes()[344:348] == b"n+1\0"
    assert custom.shape == (1, 2, 3, 4)


def test_sidecar_url_goes_before_the_query() -> None:
    assert remote._sidecar_url("https://h/a.nii.gz") == "https://h/a.nii.gz.tioxidx"
    assert remote._sidecar_url("https://h/a.nii.gz?v=2#x") == "https://h/a.nii.gz.tioxidx?v=2"


# --------------------------------------------------------------------------- file objects


@pytest.mark.parametrize("name", ["indexed.nii.gz", "plain.nii"])
def test_file_object_regions_equal_full_load(
    files: Path, name: str, no_temporary_files: None
) -> None:
    suffix = ".nii" if name.endswith(".nii") else ".nii.gz"
    with (files / name).open("rb") as f:
        image = tioxide.ScalarImage(f, suffix=suffix)
        assert image.path is None and not image.is_loaded
        patch = image[PATCH]
        flipped = image[:, 5:60:3, ::-1, 100:40:-7]
        assert not image.is_loaded
        image.load()
    assert_same(patch, image[PATCH])
    expected = image.numpy()[:, 5:60:3, ::-1, 100:40:-7]
    assert torch.equal(flipped.data, torch.from_numpy(expected.copy()))
    assert_same(image, torchio.ScalarImage(files / name))


def test_file_object_is_kept_and_read_from_its_position(files: Path) -> None:
    raw = (files / "plain.nii").read_bytes()
    f = io.BufferedReader(io.BytesIO(b"some prefix" + raw))  # type: ignore[arg-type]
    f.seek(len(b"some prefix"))
    alive = weakref.ref(f)
    image = tioxide.ScalarImage(f, suffix=".nii")
    del f
    assert alive() is not None, "the image keeps a reference to its file object"
    assert_same(image[PATCH], torchio.ScalarImage(files / "plain.nii")[PATCH])


def test_file_object_images_pickle_copy_and_transform(files: Path) -> None:
    reference = tioxide.ScalarImage(files / "indexed.nii.gz")
    with (files / "indexed.nii.gz").open("rb") as f:
        image = tioxide.ScalarImage(f, suffix=".nii.gz")
        # A pickle carries the bytes: worker processes cannot share the object.
        revived = pickle.loads(pickle.dumps(image))
        twin = copy.deepcopy(image)
        cropped = tioxide.Crop(cropping=(10, 86, 10, 86, 10, 470))(image)
        assert not cropped.is_loaded and "(lazy, NIfTI)" in repr(cropped)
        assert_same(cropped, reference[PATCH])
        assert_same(twin[PATCH], reference[PATCH])
    assert_same(revived, reference)


def test_file_object_reads_from_threads(files: Path) -> None:
    data = tioxide.ScalarImage(files / "indexed.nii.gz").data
    with (files / "indexed.nii.gz").open("rb") as f:
        image = tioxide.ScalarImage(f, suffix=".nii.gz")
        results: dict[int, torch.Tensor] = {}

        def read(n: int) -> None:
            results[n] = image[:, :, :, 20 * n : 20 * n + 20].data

        threads = [threading.Thread(target=read, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for n, patch in results.items():
        assert torch.equal(patch, data[:, :, :, 20 * n : 20 * n + 20])
    assert len(results) == 8


def test_closed_file_objects_are_named(files: Path) -> None:
    path = files / "plain.nii"
    with path.open("rb") as f:
        image = tioxide.ScalarImage(f, suffix=".nii")
    # The header was read when the image was made; the voxels need the file.
    assert image.shape == (1, *SHAPE)
    with pytest.raises(ValueError, match=f"{path}: the file object .* was closed before"):
        image.load()
    with pytest.raises(ValueError, match=f"{path}: the file object .* is closed"):
        tioxide.ScalarImage(f, suffix=".nii")


def test_bad_file_objects_are_named(files: Path, tmp_path: Path) -> None:
    raw = (files / "plain.nii").read_bytes()
    cut = tmp_path / "cut.nii"
    cut.write_bytes(raw[: len(raw) // 2])
    with cut.open("rb") as f:
        # A .nii's size is checked against its header at once.
        with pytest.raises(tioxide.TruncatedFileError, match=f"{cut}: file is truncated"):
            tioxide.ScalarImage(f, suffix=".nii")
    packed = (files / "bare.nii.gz").read_bytes()
    cut_gz = tmp_path / "cut.nii.gz"
    cut_gz.write_bytes(packed[: len(packed) // 2])
    with cut_gz.open("rb") as f:
        image = tioxide.ScalarImage(f, suffix=".nii.gz")
        assert image.shape == (1, *SHAPE)
        # A stream's end is found by inflating it.
        with pytest.raises(tioxide.NiftiError, match=str(cut_gz)):
            image.load()
    junk = tmp_path / "junk.nii.gz"
    junk.write_bytes(b"\x00" * 2000)
    with junk.open("rb") as f:
        with pytest.raises(tioxide.NiftiError, match="junk.nii.gz"):
            tioxide.ScalarImage(f, suffix=".nii.gz")
    with pytest.raises(tioxide.NiftiError, match="<BufferedReader>"):
        tioxide.ScalarImage(io.BufferedReader(io.BytesIO(raw[:100])), suffix=".nii")  # type: ignore[arg-type]


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def test_unseekable_file_objects_are_copied(files: Path) -> None:
    image = tioxide.ScalarImage(_Unseekable((files / "plain.nii").read_bytes()), suffix=".nii")
    assert image.path is not None and image.path.name.endswith(".nii")
    assert_same(image, torchio.ScalarImage(files / "plain.nii"))


# --------------------------------------------------------------------------- bytes


def test_nifti_bytes_are_read_from_memory(files: Path, no_temporary_files: None) -> None:
    for name in ("indexed.nii.gz", "plain.nii"):
        raw = (files / name).read_bytes()
        suffix = ".nii" if name.endswith(".nii") else ".nii.gz"
        for source in (raw, io.BytesIO(raw), bytearray(raw)):
            image = tioxide.ScalarImage(source, suffix=suffix)
            assert image.is_loaded
            assert_same(image, torchio.ScalarImage(files / name))


def test_bad_bytes_are_named(files: Path) -> None:
    raw = (files / "plain.nii").read_bytes()
    with pytest.raises(tioxide.TruncatedFileError, match=f"<{len(raw) - 10} bytes>"):
        tioxide.ScalarImage(raw[:-10], suffix=".nii")
    with pytest.raises(tioxide.NiftiError, match="<400 bytes>"):
        tioxide.ScalarImage(b"\x00" * 400)


# ----------------------------------------------------------------- repr of lazy transforms


@pytest.mark.parametrize(
    "transform",
    [
        tioxide.Crop(cropping=(1, 2, 3, 4, 5, 6)),
        tioxide.Flip(axes=(1,)),
        tioxide.Compose([tioxide.CropOrPad((16, 30, 20)), tioxide.Transpose()]),
    ],
    ids=["crop", "flip", "crop-or-pad-transpose"],
)
def test_lazily_transformed_repr_equals_torchio_unloaded(tmp_path: Path, transform: Any) -> None:
    """An unread transformed image shows as TorchIO shows an unread image of
    a file holding the result: the file's name and format, not the internal view.

    (TorchIO 2.0.0a2 itself is lazy only for cropping, and then shows its
    private ``_CroppedBackend``.)
    """
    data = np.random.default_rng(3).integers(-500, 500, (20, 22, 24)).astype(np.int16)
    (tmp_path / "in").mkdir()
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / "in" / "t1.nii.gz")
    ours = transform(tioxide.ScalarImage(tmp_path / "in" / "t1.nii.gz"))
    assert not ours.is_loaded
    assert "RegionView" not in repr(ours) and "(lazy, NIfTI)" in repr(ours)
    result = copy.deepcopy(ours)
    (tmp_path / "out").mkdir()
    nib.save(
        nib.Nifti1Image(result.numpy()[0], result.affine.numpy()), tmp_path / "out" / "t1.nii.gz"
    )
    assert repr(ours) == repr(torchio.ScalarImage(tmp_path / "out" / "t1.nii.gz"))
    assert not ours.is_loaded
