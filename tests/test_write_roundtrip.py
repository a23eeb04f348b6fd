"""tioxide.nifti.write, read back by tioxide and by nibabel."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from nibabel.openers import ImageOpener

from conftest import DTYPES, assert_same_array, field_mismatch, make_data, random_affine
from tioxide import nifti

WRITE_SHAPES: dict[str, tuple[int, ...]] = {
    "1d": (9,),
    "2d": (6, 5),
    "3d": (7, 6, 5),
    "4d": (5, 4, 3, 3),
    "5d": (4, 3, 3, 2, 2),
    "7d": (2, 2, 1, 2, 3, 1, 2),
}
SUFFIXES = (".nii", ".nii.gz")


def f32(affine: Any) -> Any:
    """What a NIfTI-1 sform (float32) holds of ``affine``."""
    return np.asarray(affine, dtype=np.float64).astype(np.float32).astype(np.float64)


def check_written(path: Path, data: Any, affine: Any) -> None:
    """The file at ``path`` holds ``data`` bit for bit and ``affine`` as its sform."""
    expected = np.asarray(data)
    if expected.dtype == np.bool_:
        expected = expected.astype(np.uint8)
    # tioxide
    assert_same_array(nifti.read(path), expected, what=f"tioxide read of {path}")
    hdr = nifti.read_header(path)
    assert hdr.format == "nifti1"
    assert hdr.shape == expected.shape
    assert hdr.scaling is None
    np.testing.assert_array_equal(hdr.affine, f32(affine))
    np.testing.assert_array_equal(hdr.get_sform(), f32(affine))
    # nibabel
    img = nib.load(path)
    assert isinstance(img, nib.Nifti1Image)
    back = np.asanyarray(img.dataobj)
    assert_same_array(
        np.ascontiguousarray(back.astype(back.dtype.newbyteorder("="))),
        expected,
        what=f"nibabel read of {path}",
    )
    assert img.get_data_dtype().newbyteorder("=") == expected.dtype.newbyteorder("=")
    assert int(img.header["sform_code"]) > 0
    np.testing.assert_array_equal(img.header.get_sform(), f32(affine))
    np.testing.assert_array_equal(img.affine, f32(affine))
    slope, inter = img.header.get_slope_inter()
    assert (slope, inter) in ((None, None), (1.0, 0.0))
    if str(path).endswith(".gz"):
        run = subprocess.run(["gzip", "-t", os.fspath(path)], capture_output=True, text=True)
        assert run.returncode == 0, f"gzip -t {path}: {run.stderr}"


@pytest.mark.parametrize("suffix", SUFFIXES, ids=lambda s: s.lstrip("."))
@pytest.mark.parametrize("shape_name", list(WRITE_SHAPES))
@pytest.mark.parametrize("dtype_name", list(DTYPES))
def test_roundtrip_every_dtype(
    dtype_name: str, shape_name: str, suffix: str, tmp_path: Path
) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{dtype_name}{shape_name}{suffix}".encode()))
    data = make_data(DTYPES[dtype_name], WRITE_SHAPES[shape_name], rng)
    affine = random_affine(rng, shear=True, reflect=bool(rng.integers(2)))
    path = tmp_path / f"{dtype_name}-{shape_name}{suffix}"
    nifti.write(path, data, affine)
    check_written(path, data, affine)
    assert sorted(os.listdir(tmp_path)) == [path.name]


@pytest.mark.parametrize("suffix", SUFFIXES, ids=lambda s: s.lstrip("."))
@pytest.mark.parametrize(
    "layout",
    [
        "big-endian",
        "c-order",
        "f-order",
        "strided-view",
        "reversed-view",
        "bool",
        "readonly",
        "list",
    ],
)
def test_roundtrip_input_layouts(layout: str, suffix: str, tmp_path: Path) -> None:
    """Whatever the memory layout or byte order of the input, the file holds its values."""
    rng = np.random.default_rng(1234)
    base = make_data(np.dtype(np.int32), (8, 7, 6), rng)
    data: Any
    if layout == "big-endian":
        data = base.astype(">i4")
    elif layout == "c-order":
        data = np.ascontiguousarray(base)
    elif layout == "f-order":
        data = np.asfortranarray(base)
    elif layout == "strided-view":
        data = base[::2, 1:, ::3]
    elif layout == "reversed-view":
        data = base[::-1, :, ::-2]
    elif layout == "bool":
        data = base > 0
    elif layout == "readonly":
        data = base.copy()
        data.flags.writeable = False
    else:
        data = base[:2, :2, :2].tolist()
    path = tmp_path / f"{layout}{suffix}"
    affine = random_affine(rng)
    nifti.write(path, data, affine)
    expected = np.asarray(data)
    if expected.dtype.byteorder == ">":
        expected = expected.astype(expected.dtype.newbyteorder("="))
    check_written(path, expected, affine)


@pytest.mark.parametrize("suffix", SUFFIXES, ids=lambda s: s.lstrip("."))
def test_default_affine_is_identity(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"x{suffix}"
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    nifti.write(path, data, None)
    check_written(path, data, np.eye(4))


def test_written_header_agrees_with_nibabel(tmp_path: Path) -> None:
    """Every field tioxide reports for a file it wrote equals what nibabel reads."""
    path = tmp_path / "x.nii.gz"
    nifti.write(
        path,
        make_data(np.dtype(np.float32), (5, 4, 3, 2), np.random.default_rng(0)),
        random_affine(np.random.default_rng(1)),
    )
    ref = nib.load(path)
    hdr = nifti.read_header(path)
    with ImageOpener(path) as fobj:
        ref_hdr = nib.Nifti1Header.from_fileobj(fobj)
    assert list(hdr) == list(ref_hdr.keys())
    problems = {
        n: why for n in ref_hdr.keys() if (why := field_mismatch(n, ref_hdr[n], hdr[n])) is not None
    }
    assert not problems
    assert hdr.vox_offset == ref.dataobj.offset


HEADER_FIELDS: dict[str, Any] = {
    "descrip": b"written by tioxide",
    "aux_file": b"aux.txt",
    "intent_name": b"tstat",
    "db_name": b"db",
    "intent_code": 3,
    "intent_p1": 2.5,
    "cal_min": -1.0,
    "cal_max": 4.0,
    "xyzt_units": 18,
    "toffset": 1.5,
    "slice_code": 2,
    "slice_start": 1,
    "slice_end": 2,
    "slice_duration": 0.25,
    "dim_info": 57,
    "glmax": 7,
}


@pytest.mark.parametrize("name", list(HEADER_FIELDS))
def test_header_mapping_fields_are_written(name: str, tmp_path: Path) -> None:
    """Fields passed as a mapping reach the file (both readers see them)."""
    path = tmp_path / "x.nii"
    nifti.write(path, np.zeros((3, 4, 5), np.int16), np.eye(4), header=HEADER_FIELDS)
    value = HEADER_FIELDS[name]
    got_nib = nib.load(path).header[name]
    got_tio = nifti.read_header(path)[name]
    if isinstance(value, bytes):
        assert got_nib.item() == value
        assert got_tio == value
    else:
        assert float(got_nib) == float(value)
        assert float(got_tio) == float(value)


def test_header_str_fields_are_encoded(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    nifti.write(path, np.zeros((3, 4, 5), np.int16), np.eye(4), header={"descrip": "text"})
    assert nib.load(path).header["descrip"].item() == b"text"


def test_header_from_another_file_keeps_descriptive_fields(tmp_path: Path) -> None:
    """A NiftiHeader template keeps its descriptive fields; geometry comes from ``affine``."""
    src = tmp_path / "src.nii"
    img = nib.Nifti1Image(np.zeros((3, 4, 5), np.float32), np.diag([2.0, 2.0, 2.0, 1.0]))
    img.header["descrip"] = b"template"
    img.header["intent_code"] = 5
    img.header["xyzt_units"] = 10
    img.to_filename(src)
    template = nifti.read_header(src)
    dst = tmp_path / "dst.nii.gz"
    affine = random_affine(np.random.default_rng(3))
    data = np.ones((4, 4, 4), np.int16)
    nifti.write(dst, data, affine, header=template)
    check_written(dst, data, affine)
    out = nib.load(dst).header
    assert out["descrip"].item() == b"template"
    assert int(out["intent_code"]) == 5
    assert int(out["xyzt_units"]) == 10
    assert out.get_data_shape() == (4, 4, 4)


# --------------------------------------------------------------------------- atomicity


@pytest.mark.parametrize("suffix", SUFFIXES, ids=lambda s: s.lstrip("."))
def test_replaces_existing_file_atomically(suffix: str, tmp_path: Path) -> None:
    """The new file replaces the old one by rename: a reader holding the old file keeps
    seeing the old bytes, and no temporary file is left behind."""
    path = tmp_path / f"x{suffix}"
    old = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    nifti.write(path, old, np.eye(4))
    old_bytes = path.read_bytes()
    old_inode = os.stat(path).st_ino
    with open(path, "rb") as held:
        new = make_data(np.dtype(np.float64), (6, 5, 4, 2), np.random.default_rng(5))
        nifti.write(path, new, np.eye(4))
        assert held.read() == old_bytes  # the old file was not truncated or rewritten
    assert os.stat(path).st_ino != old_inode
    assert sorted(os.listdir(tmp_path)) == [path.name]
    check_written(path, new, np.eye(4))


def test_no_temporary_files_after_many_writes(tmp_path: Path) -> None:
    for i in range(20):
        nifti.write(tmp_path / f"x{i % 3}.nii.gz", np.full((4, 4, 4), i, np.uint8), np.eye(4))
    assert sorted(os.listdir(tmp_path)) == ["x0.nii.gz", "x1.nii.gz", "x2.nii.gz"]


def test_replace_leaves_hard_links_alone(tmp_path: Path) -> None:
    """Writing to an existing path that a hard link also names leaves the other name's
    content alone (rename semantics, not in-place rewrite)."""
    path = tmp_path / "x.nii"
    nifti.write(path, np.zeros((2, 2, 2), np.uint8), np.eye(4))
    os.link(path, tmp_path / "other.nii")
    before = (tmp_path / "other.nii").read_bytes()
    nifti.write(path, np.ones((2, 2, 2), np.uint8), np.eye(4))
    assert (tmp_path / "other.nii").read_bytes() == before
    assert nifti.read(path).sum() == 8


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", ["float16", "object", "longdouble", "str", "datetime"])
def test_unwritable_dtype_is_type_error(bad: str, tmp_path: Path) -> None:
    data = {
        "float16": np.ones((2, 2, 2), np.float16),
        "object": np.full((2, 2, 2), None, object),
        "longdouble": np.ones((2, 2, 2), np.longdouble),
        "str": np.full((2, 2, 2), "a"),
        "datetime": np.zeros((2, 2, 2), "datetime64[s]"),
    }[bad]
    if bad == "longdouble" and np.dtype(np.longdouble).itemsize == 8:
        data = np.ones((2, 2, 2), np.float16)  # longdouble is float64 here: nothing to test
    path = tmp_path / "x.nii"
    with pytest.raises(TypeError) as info:
        nifti.write(path, data, np.eye(4))
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == []


def test_zero_dimensional_array_is_value_error(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    with pytest.raises(ValueError) as info:
        nifti.write(path, np.array(3.0), np.eye(4))
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "affine",
    [np.eye(3), np.eye(4)[:3], np.zeros(16), np.eye(5), [[1, 2]]],
    ids=["3x3", "3x4", "flat16", "5x5", "ragged"],
)
def test_bad_affine_shape_is_value_error(affine: Any, tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    with pytest.raises(ValueError) as info:
        nifti.write(path, np.zeros((2, 2, 2), np.uint8), affine)
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == []


def test_directory_path_is_os_error(tmp_path: Path) -> None:
    target = tmp_path / "dir.nii"
    target.mkdir()
    with pytest.raises(OSError) as info:
        nifti.write(target, np.zeros((2, 2, 2), np.uint8), np.eye(4))
    assert isinstance(info.value, IsADirectoryError)
    assert os.fspath(info.value.filename) == os.fspath(target)
    assert str(target) in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["dir.nii"]
    assert os.listdir(target) == []


def test_missing_parent_directory_is_os_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.nii.gz"
    with pytest.raises(OSError) as info:
        nifti.write(target, np.zeros((2, 2, 2), np.uint8), np.eye(4))
    assert isinstance(info.value, FileNotFoundError)
    assert str(target) in str(info.value)
    assert os.listdir(tmp_path) == []


def test_read_only_directory_is_permission_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores directory permissions; check the error path with a file as parent
        parent = tmp_path / "file"
        parent.write_bytes(b"")
        target = parent / "x.nii"
        with pytest.raises(OSError) as info:
            nifti.write(target, np.zeros((2, 2, 2), np.uint8), np.eye(4))
        assert isinstance(info.value, NotADirectoryError | FileNotFoundError)
        assert str(target) in str(info.value)
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            nifti.write(ro / "x.nii", np.zeros((2, 2, 2), np.uint8), np.eye(4))
        assert str(ro / "x.nii") in str(info.value)
    finally:
        ro.chmod(0o700)
        shutil.rmtree(ro)
