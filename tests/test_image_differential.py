"""Differential tests: tioxide images against torchio 2.0.0a2 on NIfTI files.

The corpus: files generated with nibabel (every dtype TorchIO can hold and a
few it cannot, 3D, 4D and 5D vector images, oblique sform, qform-only and
no-form affines, scaled data, both byte orders, .nii, .nii.gz, NIfTI-2, and
.hdr/.img pairs) plus nibabel's own NIfTI/ANALYZE test files. For each file,
every property and the data must equal TorchIO's, and so must the tensor and
affine of random index expressions on loaded and unloaded images.

Where TorchIO 2.0.0a2 fails on a file that tioxide reads on purpose, the oracle
is TorchIO's own NIfTI backend with only that failure removed (see
``torchio_oracle``):

- big-endian files without scaling: nibabel returns non-native arrays, which
  ``torch.from_numpy`` refuses; the oracle byte-swaps them to native order;
- ``.hdr``/``.img`` pairs: TorchIO sends them to SimpleITK; tioxide reads them
  like ``.nii`` (nibabel's rules), and so does the oracle.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch
import torchio
from torchio.data.backends import NibabelBackend, normalize_index

import tioxide

NIBABEL_DATA = Path(os.path.dirname(nib.__file__)) / "tests" / "data"
INDICES_PER_FILE = 500


# --------------------------------------------------------------------------- corpus


def _oblique(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    affine = np.eye(4)
    affine[:3, :3] = q * np.sign(np.diag(r)) * rng.uniform(0.5, 3.0, size=3)
    affine[:3, 3] = rng.uniform(-120, 120, size=3)
    return affine


def _values(dtype: np.dtype[Any], shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    if dtype.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    if dtype.kind == "f":
        return (rng.normal(size=shape) * 100).astype(dtype)
    if dtype.fields is not None:  # RGB
        out = np.zeros(shape, dtype=dtype)
        for name in dtype.names or ():
            out[name] = rng.integers(0, 256, size=shape)
        return out
    info = np.iinfo(dtype)
    if dtype == np.uint64:  # values above 2**63 wrap when promoted to int64, as in TorchIO
        return rng.integers(0, info.max, size=shape, endpoint=True, dtype=np.uint64)
    low, high = max(info.min, -(2**40)), min(info.max, 2**40)
    values = rng.integers(low, high, size=shape, endpoint=True, dtype=np.int64)
    values.flat[:2] = [low, high]  # the extremes of the range, when it fits
    return values.astype(dtype)


@dataclass(frozen=True)
class Spec:
    """One generated file."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    byteorder: str = "<"
    form: str = "sform"  # sform | qform | none
    klass: str = "Nifti1Image"  # Nifti1Image | Nifti2Image | Nifti1Pair | AnalyzeImage
    scaled: bool = False


def _specs() -> list[Spec]:
    dtypes = [
        "uint8",
        "int8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "float32",
        "float64",
        "complex64",
    ]
    specs: list[Spec] = []
    for n, dtype in enumerate(dtypes):
        for m, shape in enumerate([(7, 6, 5), (5, 4, 3, 2)]):
            byteorder = "<>"[(n + m) % 2]
            suffix = (".nii", ".nii.gz")[(n // 2 + m) % 2]
            form = ("sform", "qform", "none")[(n + 2 * m) % 3]
            specs.append(Spec(f"{dtype}-{len(shape)}d{suffix}", dtype, shape, byteorder, form))
    specs += [
        Spec("boolish-uint8.nii.gz", "bool", (6, 5, 4)),
        Spec("one-channel-4d-be.nii", "int16", (4, 5, 6, 1), ">"),
        Spec("vector-5d.nii.gz", "float32", (4, 3, 5, 1, 3)),
        Spec("vector-5d-be.nii", "uint16", (3, 4, 2, 1, 2), ">", "qform"),
        Spec("scaled-le.nii", "int16", (6, 5, 4), "<", scaled=True),
        Spec("scaled-be.nii.gz", "int16", (5, 4, 3, 2), ">", "qform", scaled=True),
        Spec("nifti2-le.nii", "float32", (5, 6, 4), klass="Nifti2Image"),
        Spec("nifti2-be.nii.gz", "int32", (5, 4, 3, 2), ">", klass="Nifti2Image"),
        Spec("pair-le.hdr", "int16", (6, 5, 4), klass="Nifti1Pair"),
        Spec("pair-be.img", "float64", (5, 4, 3, 2), ">", "qform", klass="Nifti1Pair"),
        Spec("pair-le.img.gz", "uint16", (4, 5, 3), klass="Nifti1Pair"),
        Spec("analyze-be.hdr", "int16", (6, 5, 4), ">", klass="AnalyzeImage"),
        Spec("UPPER.NII.GZ", "float32", (5, 4, 3)),
    ]
    return specs


SPECS = _specs()


def _write(spec: Spec, root: Path) -> Path:
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    klass = getattr(nib, spec.klass)
    is_bool = spec.dtype == "bool"
    dtype = np.dtype(np.uint8 if is_bool else spec.dtype)
    data = _values(dtype, spec.shape, rng)
    if is_bool:
        data = (data % 2).astype(np.uint8)
    affine = _oblique(rng)
    header = klass.header_class(endianness=spec.byteorder)
    header.set_data_shape(spec.shape)
    header.set_data_dtype(np.int16 if spec.scaled else dtype)
    header.set_zooms(tuple(rng.uniform(0.5, 3.0, size=len(spec.shape))))
    if spec.klass != "AnalyzeImage" and spec.form != "none":
        header.set_qform(affine, code=1)
        if spec.form == "sform":
            header.set_sform(affine, code=2)
    if spec.scaled:
        data = np.linspace(-40.5, 3000.25, data.size).reshape(spec.shape)
    image = klass(data, None, header)
    path = root / spec.name
    nib.save(image, path)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("image-corpus")
    paths = {spec.name: _write(spec, root) for spec in SPECS}
    for name in NIBABEL_FILES:
        paths[name] = NIBABEL_DATA / name.removeprefix("nibabel/")
    return paths


NIBABEL_FILES = sorted(
    f"nibabel/{p.name}"
    for p in NIBABEL_DATA.iterdir()
    if p.name.endswith((".nii", ".nii.gz", ".hdr")) and p.name != "row_major.dconn.nii"
)
ALL_FILES = [spec.name for spec in SPECS] + NIBABEL_FILES


# --------------------------------------------------------------------------- the oracle


class _NumpyProxy:
    """nibabel's array proxy made exact: native byte order, numpy's slicing rules.

    Regions are cut from the whole array with numpy, which is what nibabel's
    proxy slicing promises but, for some negative steps and bounds, does not do.
    """

    def __init__(self, proxy: Any) -> None:
        self._proxy = proxy
        self._array: np.ndarray | None = None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._array is None:
            self._array = _native(np.asarray(self._proxy))
        return self._array

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.asarray(self)[index].copy(order="F")  # a new array, as nibabel returns


class _NumpyImage:
    def __init__(self, image: Any) -> None:
        self.header = image.header
        self.dataobj = _NumpyProxy(image.dataobj)


def _native(array: np.ndarray) -> np.ndarray:
    if array.dtype.isnative or array.dtype.fields is not None:
        return array
    return array.astype(array.dtype.newbyteorder("="))


def _is_pair(path: Path) -> bool:
    return path.name.lower().endswith((".hdr", ".img", ".hdr.gz", ".img.gz"))


def torchio_oracle(path: Path, *, patched: bool) -> torchio.ScalarImage:
    """TorchIO's image for ``path``.

    ``patched``: TorchIO's NIfTI backend and image code on an exact proxy
    (:class:`_NumpyProxy`) instead of TorchIO's own reader choice.
    """
    if not patched:
        return torchio.ScalarImage(path)
    image = torchio.ScalarImage()
    image._path = path
    image._backend = NibabelBackend(_NumpyImage(nib.load(path)))  # type: ignore[arg-type]
    return image


def needs_patch(path: Path) -> bool:
    """Whether plain TorchIO 2.0.0a2 cannot read ``path`` (and why not is one of the known)."""
    if _is_pair(path):
        return True
    try:
        torchio.ScalarImage(path).data  # noqa: B018
    except ValueError as e:
        assert "byte order" in str(e), e
        return True
    except FileNotFoundError:
        return False  # header without data: TorchIO fails as tioxide does
    return False


def _has_data(path: Path) -> bool:
    if path.name.endswith(".hdr"):
        return path.with_suffix(".img").exists()
    return True


# --------------------------------------------------------------------------- comparisons


def assert_tensors_equal(ours: torch.Tensor, theirs: torch.Tensor, what: str) -> None:
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    assert ours.device == theirs.device
    if ours.dtype.is_floating_point or ours.dtype.is_complex:
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0, equal_nan=True, msg=what)
    else:
        assert torch.equal(ours, theirs), what


def assert_header_properties_equal(ours: Any, theirs: Any) -> None:
    assert ours.shape == theirs.shape
    assert ours.spatial_shape == theirs.spatial_shape
    assert ours.num_channels == theirs.num_channels
    assert ours.dtype == theirs.dtype
    assert ours.memory == theirs.memory
    assert_tensors_equal(ours.affine.data, theirs.affine.data, "affine")
    assert ours.spacing == theirs.spacing
    assert ours.origin == theirs.origin
    assert ours.orientation == theirs.orientation
    assert ours.path == theirs.path
    assert repr(ours) == repr(theirs)


# --------------------------------------------------------------------------- tests


def test_the_corpus_is_what_it_claims(corpus: dict[str, Path]) -> None:
    """Byte orders, forms and scaling of the generated files, checked through nibabel."""
    for spec in SPECS:
        header = nib.load(corpus[spec.name]).header
        assert header.endianness == spec.byteorder, spec.name
        assert header.get_data_shape() == spec.shape, spec.name
        if spec.klass != "AnalyzeImage":
            sform, qform = int(header["sform_code"]), int(header["qform_code"])
            assert (sform > 0, qform > 0) == {
                "sform": (True, True),
                "qform": (False, True),
                "none": (False, False),
            }[spec.form], spec.name
        assert tioxide.nifti.read_header(corpus[spec.name]).byte_order == spec.byteorder


@pytest.mark.parametrize("name", ALL_FILES)
def test_properties_and_data_equal_torchio(name: str, corpus: dict[str, Path]) -> None:
    path = corpus[name]
    patched = needs_patch(path)
    ours, theirs = tioxide.ScalarImage(path), torchio_oracle(path, patched=patched)
    assert_header_properties_equal(ours, theirs)
    assert ours.dataobj.shape == theirs.dataobj.shape
    assert ours.dataobj.dtype == theirs.dataobj.dtype
    assert_tensors_equal(ours.dataobj.affine, theirs.dataobj.affine, "dataobj.affine")
    assert not ours.is_loaded
    if not _has_data(path):
        with pytest.raises(FileNotFoundError):
            theirs.data  # noqa: B018
        with pytest.raises(FileNotFoundError, match=path.stem):
            ours.data  # noqa: B018
        return
    try:
        expected = theirs.data
    except TypeError:  # torch has no dtype for these voxels (RGB)
        with pytest.raises(TypeError, match="cannot make a tensor"):
            ours.data  # noqa: B018
        return
    assert_tensors_equal(ours.data, expected, "data")
    assert ours.is_loaded and theirs.is_loaded
    assert_header_properties_equal(ours, theirs)  # now from the tensor
    assert ours.device == theirs.device
    assert_tensors_equal(torch.from_numpy(ours.numpy()), torch.from_numpy(theirs.numpy()), "np")


def test_torchio_fails_where_the_oracle_is_patched(corpus: dict[str, Path]) -> None:
    """The patched cases are exactly the known TorchIO failures, and tioxide reads them all."""
    patched = {name for name in ALL_FILES if needs_patch(corpus[name])}
    big_endian_raw = {
        spec.name
        for spec in SPECS
        if spec.byteorder == ">" and not spec.scaled and spec.dtype not in ("uint8", "int8")
    }
    pairs = {name for name in ALL_FILES if _is_pair(corpus[name])}
    nibabel_big_endian = {
        "nibabel/anatomical.nii",
        "nibabel/reoriented_anat_moved.nii",
        "nibabel/resampled_anat_moved.nii",
    }
    assert patched == big_endian_raw | pairs | nibabel_big_endian
    for name in sorted(big_endian_raw - pairs):
        with pytest.raises(ValueError, match="byte order"):
            torchio.ScalarImage(corpus[name]).data  # noqa: B018


def _random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    def one(n: int) -> Any:
        kind = rng.integers(8)
        if kind == 0:
            return int(rng.integers(-n, n + 1))  # n itself selects nothing
        if kind == 1:
            return slice(None)
        if kind == 2:
            start = int(rng.integers(-n, n))
            return slice(start, None if rng.random() < 0.5 else start + int(rng.integers(1, 4)))
        # Bounds below -n are left out: nibabel (so TorchIO's unloaded images) gets them
        # wrong; see test_out_of_range_negative_bounds_follow_python.
        values = [None, *range(-n, n + 2)]
        start, stop = (values[int(rng.integers(len(values)))] for _ in range(2))
        step = [None, 1, 2, 3, -1, -2][int(rng.integers(6))]
        return slice(start, stop, step)

    count = int(rng.integers(0, 5))
    items: list[Any] = [one(n) for n in shape[:count]]
    if rng.random() < 0.35:
        at = int(rng.integers(len(items) + 1))
        # After an ellipsis, the indices address the trailing axes.
        items = items[:at] + [Ellipsis] + [one(n) for n in shape[4 - (count - at) :]]
    if len(items) == 1 and rng.random() < 0.5:
        return items[0]
    return tuple(items)


def _check_region(ours: Any, theirs: Any, index: Any, what: str) -> None:
    try:
        expected = theirs[index]
    except ValueError as e:
        if "negative strides" in str(e):
            # TorchIO slices the synthetic channel axis of a 3D file with numpy and
            # hands torch a negative stride when the region is a single voxel. The
            # same selection with a positive step is what the index means.
            c, i, j, k = normalize_index(index)
            assert theirs.shape[0] == 1 and (c.step or 1) < 0, what
            expected = theirs[slice(0, len(range(1)[c])), i, j, k]
        else:  # negative steps on a loaded tensor
            assert ours.is_loaded, f"{what}: {e}"
            with pytest.raises(ValueError, match=str(e)):
                ours[index]
            return
    got = ours[index]
    assert type(got) is tioxide.ScalarImage
    assert_tensors_equal(got.data, expected.data, what)
    assert_tensors_equal(got.affine.data, expected.affine.data, f"{what} affine")
    assert got.spacing == expected.spacing and got.origin == expected.origin
    assert got.metadata == expected.metadata


def _check_backend_region(ours: Any, theirs: Any, index: Any, what: str) -> None:
    """Backends (``image.dataobj``) return 4D tensors of the region, loaded or not."""
    try:
        expected = theirs[index]
    except ValueError as e:  # TorchIO's negative-stride fault, see _check_region
        assert "negative strides" in str(e), what
        c, i, j, k = normalize_index(index)
        expected = theirs[slice(0, len(range(1)[c])), i, j, k]
    assert_tensors_equal(ours[index], expected, what)


@pytest.mark.parametrize("name", ALL_FILES)
def test_random_regions_equal_torchio(name: str, corpus: dict[str, Path]) -> None:
    path = corpus[name]
    if not _has_data(path):
        return
    patched = needs_patch(path)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    unloaded = tioxide.ScalarImage(path)
    exact = torchio_oracle(path, patched=True)
    raw = None if patched else torchio.ScalarImage(path)
    loaded, theirs_loaded = tioxide.ScalarImage(path), torchio_oracle(path, patched=patched)
    loaded.load()
    theirs_loaded.load()
    compared_raw = 0
    for _ in range(INDICES_PER_FILE):
        index = _random_index(rng, unloaded.shape)
        _check_region(unloaded, exact, index, f"{name}[{index}] (unloaded)")
        slices = normalize_index(index)
        positive = all((s.step or 1) > 0 for s in slices)
        nonempty = all(len(range(n)[s]) for s, n in zip(slices, unloaded.shape, strict=True))
        if raw is not None and positive and nonempty:
            _check_region(unloaded, raw, index, f"{name}[{index}] (unloaded, raw TorchIO)")
            compared_raw += 1
        _check_region(loaded, theirs_loaded, index, f"{name}[{index}] (loaded)")
        _check_backend_region(unloaded.dataobj, exact.dataobj, index, f"{name}.dataobj[{index}]")
    assert not unloaded.is_loaded and not exact.is_loaded
    assert raw is None or (compared_raw > INDICES_PER_FILE // 5 and not raw.is_loaded)


def test_nibabel_proxy_faults_are_not_mirrored(corpus: dict[str, Path]) -> None:
    """Unloaded TorchIO images inherit nibabel's proxy faults; tioxide follows numpy."""
    path = corpus["float32-3d.nii"]
    array = np.asarray(nib.load(path).dataobj)
    n = array.shape[2]
    reversed_past_end = (..., slice(-1, n, -2))  # empty in Python, numpy and torch
    assert array[reversed_past_end].shape[2] == 0
    assert tioxide.ScalarImage(path)[reversed_past_end].shape[3] == 0
    assert torchio.ScalarImage(path)[reversed_past_end].shape[3] == 1  # nibabel's answer
    empty_middle = (slice(None), slice(None), slice(4, 0))
    expected = torchio.ScalarImage(path)
    expected.load()
    got = tioxide.ScalarImage(path)[empty_middle]
    assert got.shape == expected[empty_middle].shape == (1, array.shape[0], 0, n)
    assert torch.equal(got.affine.data, expected[empty_middle].affine.data)
    with pytest.raises(OSError):
        torchio.ScalarImage(path)[empty_middle]  # nibabel fails to read an empty region


def test_dtypes_without_torch_equivalent(tmp_path: Path) -> None:
    """RGB voxels: the header properties work, the data cannot be a tensor (as in TorchIO)."""
    path = tmp_path / "rgb.nii"
    rgb = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
    nib.save(nib.Nifti1Image(_values(rgb, (4, 3, 2), np.random.default_rng(0)), np.eye(4)), path)
    ours, theirs = tioxide.ScalarImage(path), torchio.ScalarImage(path)
    assert_header_properties_equal(ours, theirs)
    with pytest.raises(TypeError):
        theirs.data  # noqa: B018
    with pytest.raises(TypeError, match=r"rgb.nii: cannot make a tensor"):
        ours.data  # noqa: B018
    with pytest.raises(TypeError, match="cannot make a tensor"):
        ours[:, 1:]


def test_cifti_file_is_refused_like_torchio() -> None:
    """nibabel's CIFTI-2 test file is 6D: no image tensor can be made of it."""
    path = NIBABEL_DATA / "row_major.dconn.nii"
    image = tioxide.ScalarImage(path)
    with pytest.raises(ValueError, match="3D or 4D NIfTI, got 6D"):
        image.shape  # noqa: B018
    with pytest.raises(ValueError, match="3D or 4D NIfTI, got 6D"):
        NibabelBackend(nib.Nifti2Image.from_filename(path))


def test_out_of_range_negative_bounds_follow_python(corpus: dict[str, Path]) -> None:
    """Slice bounds below -n clamp to 0, as in Python, numpy and torch.

    nibabel's proxy slicing wraps them instead, so unloaded TorchIO images
    disagree with loaded ones; tioxide gives the same answer either way,
    equal to TorchIO's loaded answer.
    """
    path = corpus["int16-3d.nii.gz"]
    unloaded, loaded = tioxide.ScalarImage(path), tioxide.ScalarImage(path)
    loaded.load()
    theirs_loaded = torchio.ScalarImage(path)
    theirs_loaded.load()
    n = unloaded.shape[1]
    for index in [
        (slice(None), slice(0, -n - 1)),
        (slice(None), slice(-n - 1, 3)),
        (slice(None), slice(-n - 2, -n - 1)),
        (slice(None), slice(-n - 3, None, 2)),
        (..., slice(-100, 2)),
    ]:
        expected = theirs_loaded[index]
        for ours in (unloaded, loaded):
            got = ours[index]
            assert_tensors_equal(got.data, expected.data, f"{index}")
            assert_tensors_equal(got.affine.data, expected.affine.data, f"{index} affine")
    wrapped = torchio.ScalarImage(path)[:, 0 : -n - 1]
    assert wrapped.shape[1] == n - 1  # nibabel's wrap-around, not mirrored
    assert unloaded[:, 0 : -n - 1].shape[1] == 0
