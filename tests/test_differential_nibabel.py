"""tioxide.nifti against nibabel on every corpus file (see conftest.py).

Reference values are nibabel's after its load-time header fixes. Documented,
deliberate differences are encoded here, not treated as failures:

- tioxide returns native byte order (compare ``dtype.newbyteorder('=')``);
- NIfTI-2 ``eol_check`` is bytes in tioxide, an int8 array in nibabel;
- qform-derived affines are computed in float64 by tioxide, in longdouble by
  nibabel: compared with ``atol=1e-12``; every other value exactly.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from conftest import (
    CASES,
    DATA_CASES,
    Case,
    Reference,
    assert_same_array,
    field_mismatch,
    random_affine,
)
from tioxide import nifti

REGIONS_PER_FILE = 200

ids = [c.id for c in CASES]
data_ids = [c.id for c in DATA_CASES]
no_data_cases = [c for c in CASES if not c.has_data]


def _qform_derived(header: Any) -> bool:
    """True when nibabel's best affine comes from the quaternion."""
    if "qform_code" not in header.keys():
        return False
    return int(header["sform_code"]) == 0 and int(header["qform_code"]) > 0


def assert_affine_equal(got: Any, expected: Any, *, from_qform: bool, what: str) -> None:
    got = np.asarray(got)
    assert got.shape == (4, 4), f"{what}: shape {got.shape}"
    assert got.dtype == np.float64, f"{what}: dtype {got.dtype}"
    expected = np.asarray(expected, dtype=np.float64)
    if from_qform:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("case_id", ids)
def test_header_fields(
    case_id: str, corpus: dict[str, Path], references: dict[str, Reference]
) -> None:
    """Every field, by nibabel's name and in nibabel's order, equals nibabel's."""
    ref = references[case_id]
    hdr = nifti.read_header(corpus[case_id])
    assert list(hdr) == list(ref.header.keys())
    assert len(hdr) == len(ref.header.keys())
    problems = {}
    for name in ref.header.keys():
        why = field_mismatch(name, ref.header[name], hdr[name])
        if why is not None:
            problems[name] = why
    assert not problems, f"{corpus[case_id]}: fields differ from nibabel: {problems}"


@pytest.mark.parametrize("case_id", ids)
def test_header_fields_match_image_header(
    case_id: str, corpus: dict[str, Path], references: dict[str, Reference]
) -> None:
    """Against ``nib.load(path).header`` too, except the fields nibabel resets on the
    in-memory image: ``vox_offset``; ``scl_slope``/``scl_inter``, which it moves into
    ``img.dataobj``; and ``magic``, which a Nifti1Image always has as single-file."""
    ref = references[case_id]
    hdr = nifti.read_header(corpus[case_id])
    img_header = ref.img.header
    problems = {}
    for name in img_header.keys():
        if name in ("vox_offset", "scl_slope", "scl_inter", "magic"):
            continue
        why = field_mismatch(name, img_header[name], hdr[name])
        if why is not None:
            problems[name] = why
    assert not problems, f"{corpus[case_id]}: fields differ from nibabel: {problems}"


@pytest.mark.parametrize("case_id", ids)
def test_header_properties(
    case_id: str, corpus: dict[str, Path], references: dict[str, Reference]
) -> None:
    """shape, dtype, format, byte order, datatype, vox_offset, zooms."""
    path = corpus[case_id]
    ref = references[case_id]
    hdr = nifti.read_header(path)
    assert hdr.shape == ref.header.get_data_shape()
    assert hdr.shape == ref.img.shape
    assert hdr.dtype == ref.header.get_data_dtype()
    assert hdr.dtype.str == ref.header.get_data_dtype().str  # byte order included
    assert hdr.byte_order == ref.header.endianness
    assert hdr.datatype == int(ref.header["datatype"])
    expected_format = "analyze"
    if isinstance(ref.header, nib.Nifti2Header):  # a Nifti1Header subclass: test it first
        expected_format = "nifti2"
    elif isinstance(ref.header, nib.Nifti1Header):
        expected_format = "nifti1"
    assert hdr.format == expected_format
    assert hdr.vox_offset == ref.header.get_data_offset()
    assert hdr.vox_offset == ref.img.dataobj.offset
    zooms = ref.header.get_zooms()
    assert len(hdr.zooms) == len(zooms)
    assert [float(z) for z in hdr.zooms] == [float(z) for z in zooms]
    assert all(isinstance(z, float) for z in hdr.zooms)
    assert os.fspath(hdr.header_path) == os.fspath(
        ref.img.file_map["header" if "header" in ref.img.file_map else "image"].filename
    )
    assert os.fspath(hdr.data_path) == os.fspath(ref.img.file_map["image"].filename)


@pytest.mark.parametrize("case_id", ids)
def test_affine(case_id: str, corpus: dict[str, Path], references: dict[str, Reference]) -> None:
    """Best affine, qform, sform, spacing, orientation."""
    ref = references[case_id]
    hdr = nifti.read_header(corpus[case_id])
    best = ref.header.get_best_affine()
    from_q = _qform_derived(ref.header)
    assert_affine_equal(hdr.affine, best, from_qform=from_q, what="affine vs get_best_affine()")
    assert_affine_equal(hdr.affine, ref.img.affine, from_qform=from_q, what="affine vs img.affine")
    if "qform_code" in ref.header.keys():
        q, _ = ref.header.get_qform(coded=True)
        got_q = hdr.get_qform()
        assert (got_q is None) == (q is None), f"get_qform(): {got_q} vs nibabel {q}"
        if q is not None:
            assert_affine_equal(got_q, q, from_qform=True, what="get_qform()")
        s, _ = ref.header.get_sform(coded=True)
        got_s = hdr.get_sform()
        assert (got_s is None) == (s is None), f"get_sform(): {got_s} vs nibabel {s}"
        if s is not None:
            assert_affine_equal(got_s, s, from_qform=False, what="get_sform()")
    spacing = np.sqrt(np.sum(np.asarray(best, dtype=np.float64)[:3, :3] ** 2, axis=0))
    assert len(hdr.spacing) == 3
    np.testing.assert_allclose(
        hdr.spacing, spacing, rtol=1e-14 if not from_q else 0, atol=1e-12 if from_q else 0
    )
    assert hdr.orientation == "".join(nib.aff2axcodes(best)), f"affine {best.tolist()}"


@pytest.mark.parametrize("seed", range(40))
def test_orientation_of_oblique_affines(seed: int, tmp_path: Path) -> None:
    """Orientation codes of rotated (oblique) sform affines, as ``nib.aff2axcodes``."""
    rng = np.random.default_rng(seed)
    affine = random_affine(rng, shear=seed % 2 == 1, reflect=seed % 4 >= 2)
    path = tmp_path / "x.nii"
    nib.Nifti1Image(np.zeros((2, 2, 2), np.uint8), affine).to_filename(path)
    stored = nib.load(path).affine
    assert nifti.read_header(path).orientation == "".join(nib.aff2axcodes(stored)), (
        f"affine {stored.tolist()}"
    )


@pytest.mark.parametrize("case_id", ids)
def test_scaling(case_id: str, corpus: dict[str, Path], references: dict[str, Reference]) -> None:
    """``scaling`` follows ``header.get_slope_inter()``: None when nibabel has no slope
    or the identity (1, 0), which nibabel does not apply either (raw values, raw
    dtype); else (slope, inter) with a missing intercept meaning 0. It equals what
    ``img.dataobj`` applies."""
    ref = references[case_id]
    hdr = nifti.read_header(corpus[case_id])
    slope, inter = ref.header.get_slope_inter()
    if slope is not None and (float(slope), 0.0 if inter is None else float(inter)) == (1, 0):
        slope = inter = None
    if slope is None:
        assert hdr.scaling is None, f"scaling {hdr.scaling}, nibabel has none"
    else:
        expected = (float(slope), 0.0 if inter is None else float(inter))
        assert hdr.scaling is not None, f"scaling None, nibabel has {expected}"
        assert tuple(map(float, hdr.scaling)) == expected
    proxy_slope = float(ref.img.dataobj.slope)
    proxy_inter = float(ref.img.dataobj.inter)
    if hdr.scaling is None:
        assert (proxy_slope, proxy_inter) == (1.0, 0.0)
    else:
        assert tuple(map(float, hdr.scaling)) == (proxy_slope, proxy_inter)


@pytest.mark.parametrize("case_id", ids)
def test_extensions(
    case_id: str, corpus: dict[str, Path], references: dict[str, Reference]
) -> None:
    ref = references[case_id]
    hdr = nifti.read_header(corpus[case_id])
    exts = getattr(ref.header, "extensions", [])
    expected = [(int(e.get_code()), bytes(e.content)) for e in exts]
    got = [(int(code), content) for code, content in hdr.extensions]
    assert all(isinstance(content, bytes) for _, content in hdr.extensions)
    assert got == expected


# --------------------------------------------------------------------------- data


@pytest.mark.parametrize("case_id", data_ids)
def test_full_data(case_id: str, corpus: dict[str, Path], references: dict[str, Reference]) -> None:
    """``read(path)`` equals ``np.asanyarray(nib.load(path).dataobj)``."""
    ref = references[case_id]
    got = nifti.read(corpus[case_id])
    assert_same_array(got, ref.data, what=str(corpus[case_id]))
    assert got.shape == nifti.read_header(corpus[case_id]).shape


@pytest.mark.parametrize("case", no_data_cases, ids=[c.id for c in no_data_cases])
def test_missing_data_file(case: Case, corpus: dict[str, Path]) -> None:
    """A header whose .img does not exist: header reads, data raises FileNotFoundError
    naming the .img."""
    path = corpus[case.id]
    nifti.read_header(path)
    for region in (None, (slice(0, 2),)):
        with pytest.raises(FileNotFoundError) as info:
            nifti.read(path, region)
        assert case.missing in str(info.value)
        assert info.value.filename is not None
        assert os.fspath(info.value.filename) == case.missing


def random_region(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """A random numpy basic index for an array of ``shape``."""
    items: list[Any] = []
    for n in shape:
        r = rng.random()
        if r < 0.2 and n > 0:
            i = int(rng.integers(-n, n))
            items.append(np.int64(i) if rng.random() < 0.3 else i)
        elif r < 0.3:
            items.append(slice(None))
        elif r < 0.38:
            k = int(rng.integers(-n - 2, n + 3))
            items.append(slice(k, k, int(rng.choice([1, -1, 2]))))  # empty
        else:

            def bound(n: int = n) -> int | None:
                return None if rng.random() < 0.25 else int(rng.integers(-n - 3, n + 4))

            step = rng.choice([0, 1, 1, 2, 3, 5, -1, -1, -2, -3, -7])
            items.append(slice(bound(), bound(), None if step == 0 else int(step)))
    if rng.random() < 0.4:  # an Ellipsis standing for items[a:b]
        a = int(rng.integers(0, len(items) + 1))
        b = int(rng.integers(a, len(items) + 1))
        items[a:b] = [Ellipsis]
    elif items and rng.random() < 0.4:  # fewer indices than axes
        del items[int(rng.integers(0, len(items) + 1)) :]
    for _ in range(int(rng.choice([0, 0, 0, 1, 2]))):
        items.insert(int(rng.integers(0, len(items) + 1)), None)
    if len(items) == 1 and items[0] is not None and rng.random() < 0.5:
        return items[0]  # a bare index, not a tuple
    return tuple(items)


@pytest.mark.parametrize("case_id", data_ids)
def test_random_regions(
    case_id: str, corpus: dict[str, Path], references: dict[str, Reference]
) -> None:
    """200 random regions per file, each read from the file by tioxide, equal to
    slicing nibabel's full array in memory."""
    path = corpus[case_id]
    full = references[case_id].data
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    failures = []
    for _ in range(REGIONS_PER_FILE):
        region = random_region(rng, full.shape)
        expected = full[region]
        try:
            got = nifti.read(path, region)
            assert_same_array(got, expected, what=f"region {region!r}")
        except Exception as e:  # collect, report all at the end
            failures.append(f"{region!r}: {type(e).__name__}: {e}")
    assert not failures, f"{path}: {len(failures)} regions differ:\n" + "\n".join(failures[:10])


@pytest.mark.parametrize("case_id", data_ids)
def test_fixed_regions(
    case_id: str, corpus: dict[str, Path], references: dict[str, Reference]
) -> None:
    """Hand-picked regions: everything, reversed, first/last voxel, empty, new axes."""
    path = corpus[case_id]
    full = references[case_id].data
    nd = full.ndim
    regions: list[Any] = [
        (),
        (Ellipsis,),
        (slice(None),) * nd,
        (slice(None, None, -1),) * nd,
        (0,) * nd,
        (-1,) * nd,
        (slice(0, 0),),
        (Ellipsis, slice(5, 2)),
        (None, Ellipsis, None),
        (Ellipsis, 0) if full.shape[-1] else (Ellipsis, slice(0, 0)),
        (slice(1, None, 2), Ellipsis, slice(None, None, -2)),
        (slice(-(10**9), 10**9),),
        (slice(10**9, -(10**9), -1),),
    ]
    for region in regions:
        try:
            expected = full[region]
        except IndexError:  # e.g. an integer index into an empty axis
            with pytest.raises(IndexError):
                nifti.read(path, region)
            continue
        assert_same_array(nifti.read(path, region), expected, what=f"region {region!r}")
