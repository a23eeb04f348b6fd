"""Property tests (Hypothesis): write -> read round trips over dtypes, shapes
of 1 to 7 dimensions and affines (rotations, shears, flips, scales);
region reads equal slicing a full load for random numpy index expressions
(plain and gzip files); reads through the gzip seek index equal a full
decode for random streams (levels, members, spans).

Example counts are kept modest (the whole module runs in about a minute);
raise them with ``--hypothesis-profile=thorough`` (registered below)."""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DTYPES, assert_same_array, make_data
from tioxide import gz, nifti

settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)
MODEST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tioxide-props-") as d:
        yield Path(d)


# ------------------------------------------------------------------ strategies

shapes = st.integers(1, 7).flatmap(
    lambda n: st.lists(st.integers(1, 6), min_size=n, max_size=n).map(tuple)
)


@st.composite
def affines(draw: st.DrawFn) -> Any:
    """Rotation (from a unit quaternion) x shear x flips x scales, plus a translation."""
    q = np.array(draw(st.lists(st.floats(-1, 1), min_size=4, max_size=4)))
    if np.linalg.norm(q) < 1e-3:
        q = np.array([1.0, 0.0, 0.0, 0.0])
    w, x, y, z = q / np.linalg.norm(q)
    rot = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    shear = np.eye(3)
    if draw(st.booleans()):
        shear[0, 1], shear[0, 2], shear[1, 2] = draw(
            st.tuples(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5), st.floats(-0.5, 0.5))
        )
    flips = np.diag([draw(st.sampled_from([-1.0, 1.0])) for _ in range(3)])
    scales = np.diag(draw(st.lists(st.floats(0.1, 8.0), min_size=3, max_size=3)))
    aff = np.eye(4)
    aff[:3, :3] = rot @ shear @ flips @ scales
    aff[:3, 3] = draw(st.lists(st.floats(-300, 300), min_size=3, max_size=3))
    return aff


def _clear_orientation(affine: Any) -> bool:
    """True unless the closest axis of some voxel axis is a tie (an oblique
    affine such as a rotation with entries 1/3, -2/3, -2/3): nibabel then
    picks by the rounding noise of LAPACK's SVD, which no other code can
    reproduce."""
    rzs = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    u, _, vt = np.linalg.svd(rzs)
    r = np.abs(u @ vt)
    while r.max() >= 0:  # nibabel's greedy choice: the largest entry, then its row and column go
        rows, cols = np.nonzero(r >= r.max() - 1e-6)
        if len(set(rows)) < len(rows) or len(set(cols)) < len(cols):
            return False  # near-equal candidates compete for a row or a column
        r[rows, :] = -1
        r[:, cols] = -1
    return True


def f32(a: Any) -> Any:
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


# ------------------------------------------------------------------ round trips


@MODEST
@given(
    dtype=st.sampled_from(sorted(DTYPES)),
    shape=shapes,
    affine=affines(),
    suffix=st.sampled_from([".nii", ".nii.gz"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_write_read_round_trip(
    workdir: Path, dtype: str, shape: tuple[int, ...], affine: Any, suffix: str, seed: int
) -> None:
    data = make_data(DTYPES[dtype], shape, np.random.default_rng(seed))
    path = workdir / f"roundtrip{suffix}"
    nifti.write(path, data, affine)
    got = nifti.read(path)
    assert_same_array(got, data, what=f"{dtype} {shape} {suffix}")
    hdr = nifti.read_header(path)
    assert tuple(hdr.shape) == shape
    np.testing.assert_array_equal(hdr.affine, f32(affine))
    # qform, orientation and zooms as nibabel derives them from the same file
    img = nib.load(path)
    np.testing.assert_array_equal(hdr.get_sform(), img.header.get_sform())
    np.testing.assert_allclose(hdr.get_qform(), img.header.get_qform(), rtol=0, atol=1e-12)
    if _clear_orientation(img.affine):
        assert hdr.orientation == "".join(nib.aff2axcodes(img.affine))
    np.testing.assert_allclose(hdr.zooms, img.header.get_zooms(), rtol=0, atol=0)


# ------------------------------------------------------------------ region reads

_FILES: dict[str, tuple[Path, Any]] = {}


def _image(workdir: Path, kind: str) -> tuple[Path, Any]:
    """A few fixed images (written once per module), by kind."""
    if kind not in _FILES:
        rng = np.random.default_rng(len(kind))
        shape = {"3d": (13, 11, 9), "4d": (7, 6, 5, 4), "2d": (17, 12), "5d": (5, 4, 3, 2, 3)}[
            kind[:2]
        ]
        data = make_data(np.dtype(np.float32 if "f" in kind else np.int16), shape, rng)
        path = workdir / f"region-{kind}.nii{'.gz' if 'gz' in kind else ''}"
        nib.save(nib.Nifti1Image(data, np.eye(4)), path)
        _FILES[kind] = (path, data)
    return _FILES[kind]


@st.composite
def index_expressions(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A numpy basic index: ints (negative too), slices (any start/stop/step,
    out of range too), at most one Ellipsis, and None (new axes)."""
    items: list[Any] = []
    axis = 0
    ellipsis_at = draw(st.one_of(st.none(), st.integers(0, len(shape))))
    while axis < len(shape):
        if ellipsis_at == axis:
            items.append(Ellipsis)
            ellipsis_at = None
            skip = draw(st.integers(0, len(shape) - axis))
            axis += skip
            continue
        n = shape[axis]
        bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
        kind = draw(st.sampled_from(["int", "slice", "slice", "newaxis", "stop"]))
        if kind == "stop":  # fewer indices than axes (not after an Ellipsis, which
            if Ellipsis in items:  # would align the indices drawn so far to the end)
                continue
            break
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "newaxis":
            items.append(None)
            continue
        else:
            step = draw(st.one_of(st.none(), st.integers(-4, 4).filter(bool)))
            items.append(slice(draw(bound), draw(bound), step))
        axis += 1
    return tuple(items)


@MODEST
@given(data=st.data(), kind=st.sampled_from(["3d", "3d-gz", "4d", "4d-gz-f", "2d", "5d-gz"]))
def test_region_reads_equal_full_load_slicing(
    workdir: Path, data: st.DataObject, kind: str
) -> None:
    path, full = _image(workdir, kind)
    index = data.draw(index_expressions(full.shape), label="index")
    expected = full[index]
    got = nifti.read(path, index)
    assert isinstance(got, np.ndarray)
    assert got.shape == expected.shape, index
    assert got.tobytes() == np.ascontiguousarray(expected).tobytes(), index


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_out_of_range_ints_raise_index_error(workdir: Path, data: st.DataObject) -> None:
    path, full = _image(workdir, "3d")
    axis = data.draw(st.integers(0, 2))
    n = full.shape[axis]
    bad = data.draw(st.one_of(st.integers(n, n + 100), st.integers(-n - 100, -n - 1)))
    index = tuple(bad if i == axis else slice(None) for i in range(3))
    with pytest.raises(IndexError):
        full[index]
    with pytest.raises(IndexError):
        nifti.read(path, index)


# ------------------------------------------------------------------ seek index


stream_layouts = st.tuples(
    st.lists(st.floats(0, 1), max_size=3).map(sorted),  # member boundaries, as fractions
    st.lists(st.integers(0, 9), min_size=4, max_size=4),  # a level per member
    st.integers(0, 64),  # trailing zero bytes
)


def gzip_stream(raw: bytes, layout: tuple[list[float], list[int], int]) -> bytes:
    """``raw`` as one or several gzip members (empty ones too), each at its
    own level, with optional trailing zero padding."""
    fractions, levels, pad = layout
    bounds = [0, *(int(f * len(raw)) for f in fractions), len(raw)]
    pieces = zip(bounds, bounds[1:], levels, strict=False)
    out = b"".join(gzip.compress(raw[a:b], compresslevel=lv, mtime=0) for a, b, lv in pieces)
    assert gzip.decompress(out) == raw
    return out + bytes(pad)


_RAW: dict[int, tuple[bytes, Any]] = {}


def _raw_image(seed: int) -> tuple[bytes, Any]:
    """A ~300 KB image as .nii bytes (half smooth, half noise: chunks of very
    different compressed sizes)."""
    if seed not in _RAW:
        rng = np.random.default_rng(seed)
        shape = (48, 40, 80)
        smooth = np.cumsum(rng.integers(-2, 3, size=shape), axis=2).astype(np.int16)
        smooth[:, :, 40:] = rng.integers(-30000, 30000, size=(48, 40, 40))
        _RAW[seed] = (nib.Nifti1Image(smooth, np.eye(4)).to_bytes(), smooth)
    return _RAW[seed]


@pytest.fixture
def small_span() -> Iterator[None]:
    nifti.clear_cache()
    gz.configure(span=64 << 10)
    yield
    gz.configure(span=1 << 20)
    nifti.clear_cache()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), seed=st.integers(0, 2))
def test_index_reads_equal_full_decode(
    workdir: Path, small_span: None, data: st.DataObject, seed: int
) -> None:
    raw, full = _raw_image(seed)
    stream = gzip_stream(raw, data.draw(stream_layouts, label="layout"))
    path = workdir / f"indexed-{zlib.crc32(stream):08x}.nii.gz"
    path.write_bytes(stream)
    if data.draw(st.booleans(), label="index first"):
        info = gz.build_index(path)
        assert info.complete and info.points > 2
    for _ in range(3):
        index = data.draw(index_expressions(full.shape), label="index")
        expected = full[index]
        got = nifti.read(path, index)
        assert got.shape == expected.shape
        assert got.tobytes() == np.ascontiguousarray(expected).tobytes(), index
    np.testing.assert_array_equal(nifti.read(path), full)
